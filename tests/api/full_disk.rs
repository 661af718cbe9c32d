//! A full disk: writes answer 503 serviceNotAvailable with Retry-After, the
//! service reports not ready, and once space returns it recovers without a
//! restart and without losing an acknowledged row. SQLite on a small tmpfs the
//! test mounts (root only; required in CI).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};
use teams_usage_store::config::DatabaseUrl;

use crate::helpers::{assert_graph_error, valid_row, with, Backend, TestApp, COLLECTION};

fn required() -> bool {
    std::env::var_os("CI").is_some() || std::env::var_os("TEST_REQUIRE_POSTGRES").is_some()
}

/// A tmpfs of `size` mounted for the test, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        if mounted {
            return Some(Self { dir });
        }
        assert!(
            !required(),
            "cannot mount a tmpfs (root needed) but CI requires this test"
        );
        eprintln!("skipped: cannot mount a tmpfs here (root needed)");
        None
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// Writes a file until the filesystem is full; its path.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).unwrap();
    let chunk = vec![0u8; 16 * 1024];
    while file.write_all(&chunk).and_then(|_| file.flush()).is_ok() {}
    // Then byte by byte, so not even a small page fits.
    while file.write_all(&[0]).and_then(|_| file.sync_all()).is_ok() {}
    path
}

fn row(i: usize) -> Value {
    let date =
        chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap() + chrono::Duration::days(i as i64);
    with(valid_row(), "reportRefreshDate", json!(date.to_string()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_on_a_full_disk_answers_503_and_recovers() {
    let Some(disk) = SmallDisk::mount("3m") else {
        return;
    };
    let url = format!("sqlite://{}", disk.path().join("full.db").display());
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.database_url = DatabaseUrl::parse(&url).unwrap();
    })
    .await
    .unwrap();
    let mut acknowledged = Vec::new();
    let mut next = 0;
    for _ in 0..5 {
        let response = app.post_row(&row(next)).await;
        next += 1;
        assert_eq!(response.status().as_u16(), 201);
        acknowledged.push(
            response.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let filler = fill(disk.path());
    let mut refused = None;
    for _ in 0..3000 {
        let response = app.post_row(&row(next)).await;
        next += 1;
        match response.status().as_u16() {
            201 => acknowledged.push(
                response.json::<Value>().await.unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            ),
            _ => {
                refused = Some(response);
                break;
            }
        }
    }
    let refused = refused.expect("a write fails once the disk is full");
    assert!(
        refused.headers().contains_key("retry-after"),
        "{:?}",
        refused.headers()
    );
    assert_graph_error(refused, 503, "serviceNotAvailable").await;
    let ready = app.client.get(app.url("/ready")).send().await.unwrap();
    assert_eq!(ready.status().as_u16(), 503, "not ready while writes fail");

    std::fs::remove_file(filler).unwrap();
    let mut recovered = false;
    for _ in 0..50 {
        let response = app.post_row(&row(next)).await;
        if response.status().as_u16() == 201 {
            acknowledged.push(
                response.json::<Value>().await.unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "writes work again once space returns");
    let ready = app.client.get(app.url("/ready")).send().await.unwrap();
    assert_eq!(ready.status().as_u16(), 200);
    for id in &acknowledged {
        let status = app
            .get(&format!("{COLLECTION}/{id}"))
            .await
            .status()
            .as_u16();
        assert_eq!(status, 200, "acknowledged row {id} kept");
    }
    let count = app
        .get(&format!("{COLLECTION}/$count"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        count,
        acknowledged.len().to_string(),
        "nothing unacknowledged stored"
    );
}
