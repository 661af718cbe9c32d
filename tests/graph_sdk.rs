//! Microsoft's Graph SDK for Python against the real binary (tests/sdk/run.sh):
//! it downloads the report and reads every error class as its ODataError.
//! It needs python3 and PyPI, so it runs when TEST_GRAPH_SDK=1 (CI sets it).
// A test fails by panicking: unwrap and expect say where.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

#[test]
fn the_graph_sdk_downloads_the_report_and_reads_our_errors() {
    if std::env::var("TEST_GRAPH_SDK").map_or(true, |v| v != "1") {
        eprintln!("SKIPPING the Graph SDK check: set TEST_GRAPH_SDK=1 to run it (needs python3 and PyPI).");
        return;
    }
    let status = Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk/run.sh"))
        .env("BIN", env!("CARGO_BIN_EXE_teams-usage-store"))
        .status()
        .expect("bash runs tests/sdk/run.sh");
    assert!(status.success(), "tests/sdk/run.sh failed: {status}");
}
