//! A published, generic OData v4 client library, python-odata, against the
//! real server (tests/odata_client/odata_client_check.py): it reads
//! `$metadata` and builds every request from it, as Excel, Power BI and
//! scripts do (filter, order, count, paging by nextLink, get, PATCH and DELETE
//! by the key in parentheses, the bound report function), under each version.
//! It needs python3 and PyPI, so it runs when TEST_ODATA_CLIENT=1 (CI sets it).

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

use crate::helpers::{Backend, TestApp, READ_WRITE};

backend_tests!(a_generic_odata_client_reads_and_writes_through_metadata);

/// The virtualenv with the client, made once for every test of the process.
fn client_python() -> PathBuf {
    static MADE: Mutex<Option<PathBuf>> = Mutex::new(None);
    let mut made = MADE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(python) = made.as_ref() {
        return python.clone();
    }
    let target = std::env::var("CARGO_TARGET_DIR").map_or_else(
        |_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"),
        PathBuf::from,
    );
    let venv = target.join("odata-client-venv");
    let python = venv.join("bin/python");
    let installed = Command::new(&python)
        .args(["-c", "import odata"])
        .status()
        .is_ok_and(|s| s.success());
    if !installed {
        let status = Command::new("python3")
            .arg("-m")
            .arg("venv")
            .arg(&venv)
            .status()
            .expect("python3 runs");
        assert!(status.success(), "python3 -m venv failed: {status}");
        let status = Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/odata_client/requirements.txt"
            ))
            .status()
            .expect("pip runs");
        assert!(status.success(), "installing python-odata failed: {status}");
    }
    *made = Some(python.clone());
    python
}

async fn a_generic_odata_client_reads_and_writes_through_metadata(backend: Backend) {
    if std::env::var("TEST_ODATA_CLIENT").map_or(true, |v| v != "1") {
        eprintln!("SKIPPING the OData client check: set TEST_ODATA_CLIENT=1 to run it (needs python3 and PyPI).");
        return;
    }
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let python = tokio::task::spawn_blocking(client_python).await.unwrap();
    for version in ["v1.0", "beta"] {
        // An empty tenant for each run: the check counts what it stored.
        let token = app
            .token_for(&format!("odata-client-{version}"), READ_WRITE)
            .await;
        let root = format!("{}/{version}/", app.address);
        let python = python.clone();
        let output = tokio::task::spawn_blocking(move || {
            Command::new(python)
                .arg(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/tests/odata_client/odata_client_check.py"
                ))
                .env("SERVICE_ROOT", &root)
                .env("TOKEN", token)
                .output()
                .expect("the check runs")
        })
        .await
        .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "python-odata against {version} failed:\n{stdout}\n{stderr}"
        );
        assert!(stdout.contains("python-odata:"), "{stdout}");
    }
    // Every row the checks stored and kept is in the database (150 each, one deleted).
    assert_eq!(app.row_count().await, 2 * 149);
}
