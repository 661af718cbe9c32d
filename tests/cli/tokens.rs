//! `token create|list|revoke`: secrets on stdout once, never listed.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::Backend;
use crate::{find_secret, finish, get, post_row, text, Sandbox, COLLECTION};

backend_tests!(
    token_create_prints_the_token_alone,
    token_list_never_prints_a_secret,
    token_revoke_stops_a_token
);

async fn token_create_prints_the_token_alone(backend: Backend) {
    let Some(sandbox) = Sandbox::new(backend).await else {
        return;
    };
    let output = finish(sandbox.command(&[
        "token",
        "create",
        "--tenant",
        "contoso",
        "--name",
        "nightly collector",
        "--scope",
        "Reports.ReadWrite.All",
        "--expires-in",
        "90d",
    ]));
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    // Exactly one line, the secret, so `TOKEN=$(... token create ...)` works.
    assert_eq!(stdout.lines().count(), 1, "{stdout:?}");
    let secret = stdout.trim_end_matches('\n');
    assert!(
        secret.starts_with("tus_") && !secret.contains(' '),
        "{secret:?}"
    );
    assert!(!stderr.contains(secret));
    assert!(stderr.contains("contoso"), "{stderr}");

    let server = sandbox.serve();
    let created = post_row(&server, secret).await;
    assert_eq!(created.status().as_u16(), 201);
    // A token existed before the first start: no bootstrap token is printed.
    assert_eq!(server.bootstrap_token(), None, "{}", server.stderr());
    // The row is the token's tenant's, not another tenant's.
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = sandbox.create_token("default", "other", "Reports.ReadWrite.All");
    let path = format!("{COLLECTION}/{id}");
    assert_eq!(get(&server, &other, &path).await.status().as_u16(), 404);
    assert_eq!(get(&server, secret, &path).await.status().as_u16(), 200);

    // Bad arguments: non-zero, nothing on stdout.
    for args in [
        &[
            "token",
            "create",
            "--tenant",
            "a b",
            "--name",
            "n",
            "--scope",
            "Reports.Read.All",
        ][..],
        &[
            "token",
            "create",
            "--tenant",
            "t",
            "--name",
            "n",
            "--scope",
            "User.Read",
        ],
        &["token", "create", "--tenant", "t", "--name", "n"],
        &[
            "token",
            "create",
            "--tenant",
            "t",
            "--name",
            "n",
            "--scope",
            "Reports.Read.All",
            "--expires-in",
            "soon",
        ],
    ] {
        let output = finish(sandbox.command(args));
        assert!(!output.status.success(), "{args:?}");
        assert!(output.stdout.is_empty(), "{args:?}");
    }
}

async fn token_list_never_prints_a_secret(backend: Backend) {
    let Some(sandbox) = Sandbox::new(backend).await else {
        return;
    };
    let server = sandbox.serve();
    let bootstrap = server.bootstrap_token().expect("a bootstrap token");
    let reader = sandbox.create_token("contoso", "dashboard", "Reports.Read.All");
    let writer = sandbox.create_token("fabrikam", "collector", "Reports.ReadWrite.All");
    let (stdout, stderr) = sandbox.run(&["token", "list"]);
    let listing = format!("{stdout}{stderr}");
    for secret in [&bootstrap, &reader, &writer] {
        assert!(!listing.contains(secret.as_str()), "{listing}");
        assert!(!listing.contains(&secret[4..]), "{listing}");
    }
    // No secret-like word (the Postgres test database's name, tus_test_..., is in the URL).
    assert_eq!(find_secret(&listing), None, "{listing}");
    for name in ["bootstrap", "dashboard", "collector", "contoso", "fabrikam"] {
        assert!(stdout.contains(name), "{name} in {stdout}");
    }
    // One header and a line per token.
    assert_eq!(stdout.lines().count(), 4, "{stdout}");
    let (stdout, _) = sandbox.run(&["token", "list", "--tenant", "contoso"]);
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    assert!(stdout.contains("dashboard") && !stdout.contains("collector"));
}

/// The id `token list` shows for the token named `name`.
fn token_id(sandbox: &Sandbox, name: &str) -> String {
    let (stdout, _) = sandbox.run(&["token", "list"]);
    let line = stdout
        .lines()
        .find(|line| line.split('\t').nth(2) == Some(name))
        .unwrap_or_else(|| panic!("{name} in {stdout}"));
    line.split('\t').next().unwrap().to_owned()
}

async fn token_revoke_stops_a_token(backend: Backend) {
    let Some(sandbox) = Sandbox::new(backend).await else {
        return;
    };
    let server = sandbox.serve();
    let token = sandbox.create_token("contoso", "laptop", "Reports.ReadWrite.All");
    assert_eq!(
        get(&server, &token, COLLECTION).await.status().as_u16(),
        200
    );
    let id = token_id(&sandbox, "laptop");
    let (stdout, _) = sandbox.run(&["token", "revoke", &id]);
    assert!(stdout.is_empty(), "{stdout}");
    // A running server honours it (within its token cache's lifetime).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status = get(&server, &token, COLLECTION).await.status().as_u16();
        if status == 401 {
            break;
        }
        assert_eq!(status, 200);
        assert!(Instant::now() < deadline, "still accepted after revocation");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (stdout, _) = sandbox.run(&["token", "list"]);
    assert!(stdout.contains("revoked"), "{stdout}");
    // Revoking again, or an id that names nothing, is an error.
    for args in [
        vec!["token", "revoke", id.as_str()],
        vec!["token", "revoke", "0192f4a6-3f6e-7cc1-b3a5-3d6b0c1e2f40"],
        vec!["token", "revoke", "not-an-id"],
    ] {
        let output = finish(sandbox.command(&args));
        assert!(!output.status.success(), "{args:?}");
    }
}
