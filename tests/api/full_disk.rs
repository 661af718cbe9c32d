//! A full disk: writes answer 503 serviceNotAvailable with Retry-After, the
//! service reports not ready, and once space returns it recovers without a
//! restart and without losing an acknowledged row. SQLite on a small tmpfs the
//! test mounts; Postgres as a private server the test starts with its data on
//! one (root and the PostgreSQL binaries needed; required in CI).

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

/// Posts until the disk (filled now) refuses, checks the answers and readiness,
/// frees the space and checks the service recovers with every acknowledged row.
async fn fill_and_recover(app: &TestApp, disk: &Path) {
    let mut acknowledged = Vec::new();
    let mut next = 0;
    for _ in 0..5 {
        let response = app.post_row(&row(next)).await;
        next += 1;
        assert_eq!(response.status().as_u16(), 201);
        acknowledged.push(id_of(response).await);
    }
    let filler = fill(disk);
    let mut refused = None;
    for _ in 0..5000 {
        let response = app.post_row(&row(next)).await;
        next += 1;
        match response.status().as_u16() {
            201 => acknowledged.push(id_of(response).await),
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
    for _ in 0..100 {
        let response = app.post_row(&row(next)).await;
        if response.status().as_u16() == 201 {
            acknowledged.push(id_of(response).await);
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

async fn id_of(response: reqwest::Response) -> String {
    response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
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
    fill_and_recover(&app, disk.path()).await;
}

/// A PostgreSQL server of its own, run as user `postgres`, stopped when dropped.
struct PrivatePostgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
}

impl PrivatePostgres {
    fn start(dir: &Path) -> Option<Self> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|versions| {
                versions
                    .filter_map(Result::ok)
                    .map(|v| v.path().join("bin"))
                    .find(|bin| bin.join("initdb").exists())
            });
        let Some(bin) = bin else {
            assert!(
                !required(),
                "no PostgreSQL binaries under /usr/lib/postgresql but CI requires this test"
            );
            eprintln!("skipped: no PostgreSQL binaries under /usr/lib/postgresql");
            return None;
        };
        let as_postgres = |program: &str| {
            let mut command = Command::new("runuser");
            command
                .args(["-u", "postgres", "--"])
                .arg(bin.join(program));
            command
        };
        assert!(Command::new("chown")
            .arg("postgres")
            .arg(dir)
            .status()
            .unwrap()
            .success());
        let data = dir.join("data");
        // 1 MB WAL segments: the cluster fits a small filesystem.
        let initdb = as_postgres("initdb")
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "--auth=trust", "--wal-segsize=1", "-N"])
            .output()
            .unwrap();
        assert!(
            initdb.status.success(),
            "{}",
            String::from_utf8_lossy(&initdb.stderr)
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c max_wal_size=4MB -c min_wal_size=2MB",
            dir.display()
        );
        let started = as_postgres("pg_ctl")
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(dir.join("log"))
            .args(["-o", &options, "-w", "start"])
            .output()
            .unwrap();
        assert!(
            started.status.success(),
            "{}",
            String::from_utf8_lossy(&started.stderr)
        );
        Some(Self { bin, data, port })
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_on_a_full_disk_answers_503_and_recovers() {
    let Some(disk) = SmallDisk::mount("64m") else {
        return;
    };
    let Some(server) = PrivatePostgres::start(disk.path()) else {
        return;
    };
    let url = server.url();
    let app = TestApp::spawn_with(Backend::Postgres, |s| {
        s.database_url = DatabaseUrl::parse(&url).unwrap();
    })
    .await
    .expect("the shared Postgres server too (TestApp makes a database there)");
    fill_and_recover(&app, disk.path()).await;
    drop(app);
    drop(server);
}
