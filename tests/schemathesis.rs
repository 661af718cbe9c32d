//! Schemathesis over the service's OpenAPI document (tests/schemathesis/run.sh):
//! every check it has, a bounded number of examples, against the real binary
//! on a fresh SQLite database; any failure fails this test.
//! It needs python3 and PyPI, so it runs when TEST_SCHEMATHESIS=1 (CI sets it).
// A test fails by panicking: unwrap and expect say where.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

#[test]
fn schemathesis_finds_no_failure_in_the_openapi_document() {
    if std::env::var("TEST_SCHEMATHESIS").map_or(true, |v| v != "1") {
        eprintln!("SKIPPING the schemathesis check: set TEST_SCHEMATHESIS=1 to run it (needs python3 and PyPI).");
        return;
    }
    let status = Command::new("bash")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/schemathesis/run.sh"
        ))
        .env("BIN", env!("CARGO_BIN_EXE_teams-usage-store"))
        .status()
        .expect("bash runs tests/schemathesis/run.sh");
    assert!(
        status.success(),
        "tests/schemathesis/run.sh failed: {status}"
    );
}
