//! Backup and restore as docs/deployment.md tells an operator to do them:
//! SQLite with `backup` while the service runs, Postgres with pg_dump and
//! pg_restore. Back up, wipe, restore: the same rows.

use std::process::Command;

use serde_json::Value;

use crate::common::fixtures::{valid_row, with};
use crate::common::Backend;
use crate::{get, text, Sandbox, COLLECTION};

backend_tests!(backup_wipe_restore_gives_the_same_rows);

async fn rows(server: &crate::Server, token: &str) -> Value {
    let body: Value = get(
        server,
        token,
        &format!("{COLLECTION}?$orderby=reportRefreshDate"),
    )
    .await
    .json()
    .await
    .unwrap();
    body["value"].clone()
}

/// pg_dump and pg_restore, or why the test cannot run.
fn postgres_client_present() -> bool {
    let present = Command::new("pg_dump").arg("--version").output().is_ok()
        && Command::new("pg_restore").arg("--version").output().is_ok();
    if !present {
        assert!(
            std::env::var_os("CI").is_none() && std::env::var_os("TEST_REQUIRE_POSTGRES").is_none(),
            "pg_dump/pg_restore are missing (postgresql-client)"
        );
        eprintln!("SKIPPED the Postgres backup test: pg_dump/pg_restore not installed");
    }
    present
}

fn run_ok(command: &mut Command) {
    let output = command.output().unwrap();
    assert!(output.status.success(), "{command:?}: {}", text(&output).1);
}

async fn backup_wipe_restore_gives_the_same_rows(backend: Backend) {
    let Some(sandbox) = Sandbox::new(backend).await else {
        return;
    };
    if backend == Backend::Postgres && !postgres_client_present() {
        return;
    }
    let server = sandbox.serve();
    let token = server.bootstrap_token().unwrap();
    let client = reqwest::Client::new();
    for day in ["2026-11-01", "2026-11-02", "2026-11-03"] {
        let response = client
            .post(server.url(COLLECTION))
            .bearer_auth(&token)
            .json(&with(valid_row(), "reportRefreshDate", day.into()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 201);
    }
    let before = rows(&server, &token).await;
    assert_eq!(before.as_array().unwrap().len(), 3);
    let dump = sandbox.dir.path().join("backup.db");

    match backend {
        Backend::Sqlite => {
            // While the service runs.
            let (_, stderr) = sandbox.run(&["backup", dump.to_str().unwrap()]);
            let lines: Vec<&str> = stderr.lines().collect();
            assert_eq!(
                lines,
                [
                    format!("database: {}", sandbox.database.url),
                    format!("backed up to {}", dump.display())
                ],
                "{stderr}"
            );
            // A second backup to the same file is refused, the first one kept.
            let output = crate::finish(sandbox.command(&["backup", dump.to_str().unwrap()]));
            assert!(!output.status.success());
            assert!(text(&output).1.contains("already exists"));
            server.kill();
            let path = sandbox
                .database
                .url
                .expose()
                .trim_start_matches("sqlite://")
                .to_owned();
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{path}{suffix}"));
            }
            std::fs::copy(&dump, &path).unwrap();
        }
        Backend::Postgres => {
            // `backup` says what to use instead, and fails.
            let output = crate::finish(sandbox.command(&["backup", dump.to_str().unwrap()]));
            assert!(!output.status.success());
            assert!(text(&output).1.contains("pg_dump"), "{}", text(&output).1);
            let url = sandbox.database.url.expose().to_owned();
            run_ok(Command::new("pg_dump").args(["-Fc", "-f", dump.to_str().unwrap(), &url]));
            server.kill();
            sandbox
                .database
                .execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
                .await;
            assert!(sandbox.database.row_count_fails().await);
            run_ok(Command::new("pg_restore").args([
                "--no-owner",
                "-d",
                &url,
                dump.to_str().unwrap(),
            ]));
        }
    }
    let restored = sandbox.serve();
    assert_eq!(restored.bootstrap_token(), None, "the tokens came back too");
    assert_eq!(rows(&restored, &token).await, before);
}

/// Closing the database after a command never logs a warning.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_close_without_warnings() {
    let sandbox = Sandbox::new(Backend::Sqlite).await.unwrap();
    for i in 0..8 {
        let output = crate::finish(sandbox.command(&[
            "token",
            "create",
            "--tenant",
            "default",
            "--name",
            &format!("t{i}"),
            "--scope",
            "Reports.Read.All",
        ]));
        let (_, stderr) = text(&output);
        assert!(output.status.success(), "{stderr}");
        // The database, the token, and the first time that the tenant is new.
        let lines = if i == 0 { 3 } else { 2 };
        assert_eq!(stderr.lines().count(), lines, "{stderr}");
        assert!(!stderr.contains("WARN"), "{stderr}");
    }
}
