//! Schemathesis over the service's OpenAPI document (tests/schemathesis/run.sh):
//! every check it has, a bounded number of examples, against the real binary
//! on a fresh database of each backend in turn; any failure fails this test.
//! It needs python3 and PyPI, so it runs when TEST_SCHEMATHESIS=1 (CI sets it).
// A test fails by panicking: unwrap and expect say where.
#![allow(clippy::unwrap_used, clippy::expect_used)]

// This target uses only the test databases of the shared helpers.
#[allow(dead_code, unused_macros)]
#[path = "common/mod.rs"]
mod common;

use std::process::Command;

use common::{Backend, TestDatabase};

#[test]
fn schemathesis_finds_no_failure_in_the_openapi_document() {
    if std::env::var("TEST_SCHEMATHESIS").map_or(true, |v| v != "1") {
        eprintln!("SKIPPING the schemathesis check: set TEST_SCHEMATHESIS=1 to run it (needs python3 and PyPI).");
        return;
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // One backend after the other: the runs share schemathesis' virtualenv.
    for backend in [Backend::Sqlite, Backend::Postgres] {
        // None: Postgres is unreachable and not required; the skip is reported at exit.
        let Some(database) = runtime.block_on(TestDatabase::create(backend)) else {
            continue;
        };
        let status = Command::new("bash")
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/schemathesis/run.sh"
            ))
            .env("BIN", env!("CARGO_BIN_EXE_teams-usage-store"))
            .env("SCHEMATHESIS_DATABASE_URL", database.url.expose())
            .status()
            .expect("bash runs tests/schemathesis/run.sh");
        assert!(
            status.success(),
            "tests/schemathesis/run.sh failed on {backend:?}: {status}"
        );
    }
}
