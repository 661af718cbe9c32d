//! What the log never holds: credentials sent in a query string or a header.

use std::time::Duration;

use crate::common::Backend;
use crate::{Sandbox, Server, COLLECTION};

backend_tests!(no_credential_reaches_the_log);

async fn no_credential_reaches_the_log(backend: Backend) {
    let Some(sandbox) = Sandbox::new(backend).await else {
        return;
    };
    let mut command = sandbox.command(&["serve"]);
    command.env("RUST_LOG", "debug");
    let server = Server::start(command);
    let token = server.bootstrap_token().expect("a bootstrap token");
    let client = reqwest::Client::new();
    let secrets = [
        "tus_querysecret0001",
        "tus_headersecret0002",
        "clientsecret0003",
        "tus_othersecret0004",
    ];
    let paths = [
        format!("{COLLECTION}?access_token={}&$top=1", secrets[0]),
        format!("{COLLECTION}?$top=1&client_secret={}", secrets[2]),
        format!("{COLLECTION}?ACCESS_TOKEN={}", secrets[3]),
    ];
    for path in &paths {
        let answer = client
            .get(server.url(path))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), 400, "{path}");
    }
    let answer = client
        .get(server.url(COLLECTION))
        .bearer_auth(secrets[1])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 401);
    let answer = client
        .get(server.url(COLLECTION))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    // The log is written as the requests end.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let log = server.stderr();
    let after_start = &log[log.find("listening").unwrap()..];
    for secret in secrets.iter().chain([&token.as_str()]) {
        assert!(!after_start.contains(secret), "{secret} logged:\n{log}");
    }
    // The access line names the route template, never the query string.
    assert!(
        after_start.contains("/v1.0/reports/teamsDeviceUsageDistributionUserCounts")
            && after_start.contains("status=400"),
        "{log}"
    );
}
