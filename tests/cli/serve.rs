//! `serve` and `migrate`: the bootstrap token once, the schema, durable writes.

use serde_json::Value;

use crate::common::Backend;
use crate::{
    command_in, find_secret, get, post_row, run_configured, text, Sandbox, Server, COLLECTION,
};

backend_tests!(
    the_first_serve_prints_a_bootstrap_token_and_no_later_one,
    migrate_applies_the_schema,
    processes_starting_together_all_migrate,
    no_bootstrap_token_when_a_token_exists_before_the_first_serve,
    a_201_survives_the_process_being_killed
);

async fn the_first_serve_prints_a_bootstrap_token_and_no_later_one(backend: Backend) {
    let Some(sandbox) = Sandbox::new(backend).await else {
        return;
    };
    let first = sandbox.serve();
    let token = first.bootstrap_token().expect("a bootstrap token");
    assert_eq!(post_row(&first, &token).await.status().as_u16(), 201);
    first.kill();

    let second = sandbox.serve();
    assert_eq!(second.bootstrap_token(), None, "{}", second.stderr());
    // The first one still works, and the row is there.
    let list: Value = get(&second, &token, COLLECTION).await.json().await.unwrap();
    assert_eq!(list["value"].as_array().unwrap().len(), 1);
    let (stdout, _) = sandbox.run(&["token", "list"]);
    assert_eq!(stdout.lines().count(), 2, "one token: {stdout}");
}

async fn migrate_applies_the_schema(backend: Backend) {
    let Some(sandbox) = Sandbox::new(backend).await else {
        return;
    };
    for _ in 0..2 {
        let (stdout, stderr) = sandbox.run(&["migrate"]);
        assert!(stdout.is_empty(), "{stdout}");
        assert!(stderr.contains("migrations applied"), "{stderr}");
    }
    assert_eq!(sandbox.database.row_count().await, 0);
    // Migrating issues no token.
    let (stdout, _) = sandbox.run(&["token", "list"]);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
}

/// `token create` before the first start: that token is the way in, none is printed.
async fn no_bootstrap_token_when_a_token_exists_before_the_first_serve(backend: Backend) {
    let Some(sandbox) = Sandbox::new(backend).await else {
        return;
    };
    let token = sandbox.create_token("contoso", "collector", "Reports.ReadWrite.All");
    let server = sandbox.serve();
    assert_eq!(server.bootstrap_token(), None, "{}", server.stderr());
    assert_eq!(post_row(&server, &token).await.status().as_u16(), 201);
    server.kill();
    let (stdout, _) = sandbox.run(&["token", "list"]);
    assert_eq!(stdout.lines().count(), 2, "header and one token: {stdout}");
}

/// A 201 means durable: SIGKILL right after it loses nothing.
async fn a_201_survives_the_process_being_killed(backend: Backend) {
    let Some(sandbox) = Sandbox::new(backend).await else {
        return;
    };
    let server = sandbox.serve();
    let token = server.bootstrap_token().expect("a bootstrap token");
    let response = post_row(&server, &token).await;
    assert_eq!(response.status().as_u16(), 201);
    server.kill();
    let created: Value = response.json().await.unwrap();

    let server = sandbox.serve();
    let path = format!("{COLLECTION}/{}", created["id"].as_str().unwrap());
    let response = get(&server, &token, &path).await;
    assert_eq!(response.status().as_u16(), 200);
    let mut fetched: Value = response.json().await.unwrap();
    // The new process listens on another port; the row is the same.
    fetched["@odata.context"] = created["@odata.context"].clone();
    assert_eq!(fetched, created);
}

#[test]
fn a_port_in_use_fails_the_start_without_using_up_the_bootstrap_token() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let env = [("HOST", "127.0.0.1"), ("PORT", port.as_str())];
    let (output, _) = run_configured(dir.path(), &["serve"], &env);
    let (_, stderr) = text(&output);
    assert!(!output.status.success());
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains(&port), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(find_secret(&stderr), None);
    assert!(!dir.path().join("bootstrap-token").exists());
    // The start that failed issued no token, so the next one still must.
    let url = format!("sqlite://{}", dir.path().join("ok.db").display());
    let server = Server::start(command_in(dir.path(), &["serve"], &url));
    assert!(server.bootstrap_token().is_some(), "{}", server.stderr());
}

/// Processes starting together on one fresh database all get it migrated.
async fn processes_starting_together_all_migrate(backend: Backend) {
    for round in 0..6 {
        let Some(sandbox) = Sandbox::new(backend).await else {
            return;
        };
        let children: Vec<_> = (0..8)
            .map(|_| {
                sandbox
                    .command(&["migrate"])
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let output = child.wait_with_output().unwrap();
            assert!(
                output.status.success(),
                "round {round}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let (stdout, _) = sandbox.run(&["token", "list"]);
        assert_eq!(stdout.lines().count(), 1, "{stdout}");
    }
}
