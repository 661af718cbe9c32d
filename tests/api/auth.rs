//! The auth matrix: who may read and write, and whose rows a caller sees.

use chrono::{Duration, Utc};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{json, Value};
use teams_usage_store::auth::{hash_secret, issue_token, Scopes};
use teams_usage_store::domain::TenantId;

use crate::helpers::{
    assert_graph_error, valid_row, with, Backend, TestApp, COLLECTION, READ, READ_WRITE,
};

backend_tests!(
    requests_without_a_usable_token_are_unauthenticated,
    authentication_comes_before_the_body,
    a_revoked_token_stops_working,
    an_expired_token_stops_working,
    a_token_that_has_not_expired_yet_works,
    a_read_only_token_reads_but_cannot_write,
    another_tenants_rows_do_not_exist,
    health_and_readiness_need_no_token
);

/// Expects 401 InvalidAuthenticationToken with `WWW-Authenticate: Bearer`.
async fn assert_unauthenticated(response: Response, what: &str) {
    assert_eq!(
        response
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_owned()),
        Some("Bearer".to_owned()),
        "{what}"
    );
    assert_graph_error(response, 401, "InvalidAuthenticationToken").await;
}

/// Every API request shape, each built fresh by `authorize` (which adds, or not,
/// an Authorization header).
async fn assert_every_request_refused(
    app: &TestApp,
    what: &str,
    authorize: impl Fn(RequestBuilder) -> RequestBuilder,
) {
    let id = uuid::Uuid::now_v7();
    let requests = [
        app.client.post(app.url(COLLECTION)).json(&valid_row()),
        app.client.get(app.url(COLLECTION)),
        app.client.get(app.url(&format!("{COLLECTION}/{id}"))),
        app.client
            .get(app.url("/beta/reports/teamsDeviceUsageDistributionUserCounts")),
    ];
    for request in requests {
        let response = authorize(request).send().await.unwrap();
        assert_unauthenticated(response, what).await;
    }
    assert_eq!(app.row_count().await, 0, "{what}: a row was written");
}

async fn requests_without_a_usable_token_are_unauthenticated(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    assert_every_request_refused(&app, "no token", |r| r).await;
    let unknown = format!("tus_{}", "A".repeat(43));
    for header in [
        "".to_owned(),
        "Bearer".to_owned(),
        "Bearer ".to_owned(),
        "Bearer    ".to_owned(),
        format!("Basic {}", app.token),
        format!("Token {}", app.token),
        app.token.clone(),
        format!("Bearer{}", app.token),
        format!("Bearer {}x", app.token),
        format!("Bearer {}", &app.token[..app.token.len() - 1]),
        format!("Bearer {unknown}"),
        "Bearer not-a-token".to_owned(),
    ] {
        assert_every_request_refused(&app, &header, |r| r.header("authorization", &header)).await;
    }
    // Non-ASCII bytes in the header are refused the same way.
    let bytes = reqwest::header::HeaderValue::from_bytes(b"Bearer tus_\xe9").unwrap();
    assert_every_request_refused(&app, "non-ASCII", |r| {
        r.header("authorization", bytes.clone())
    })
    .await;
    // The scheme's case does not matter (RFC 7235), and the token still works.
    let lower = app
        .client
        .get(app.url(COLLECTION))
        .header("authorization", format!("bearer {}", app.token))
        .send()
        .await
        .unwrap();
    assert_eq!(lower.status().as_u16(), 200);
}

async fn a_revoked_token_stops_working(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let token = app.token_for("default", READ_WRITE).await;
    assert_eq!(app.get_as(&token, COLLECTION).await.status().as_u16(), 200);
    let id = app
        .store
        .find_token(&hash_secret(&token))
        .await
        .unwrap()
        .unwrap()
        .id;
    assert!(app.store.revoke_token(id, Utc::now()).await.unwrap());
    // A server may trust a token it checked a moment ago for a few seconds
    // (TOKEN_CACHE_SECONDS); past that, revocation holds everywhere.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while app.get_as(&token, COLLECTION).await.status().as_u16() == 200 {
        assert!(std::time::Instant::now() < deadline, "revocation ignored");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_every_request_refused(&app, "revoked", |r| r.bearer_auth(&token)).await;
    // Other tokens are untouched.
    assert_eq!(app.get(COLLECTION).await.status().as_u16(), 200);
}

/// Stores a token for tenant `default` that expires at `expires_at`; its secret.
async fn token_expiring(app: &TestApp, expires_at: chrono::DateTime<Utc>) -> String {
    let issued = issue_token(
        TenantId::parse("default").unwrap(),
        "expiring".into(),
        Scopes::parse(READ_WRITE).unwrap(),
        Some(expires_at),
        Utc::now() - Duration::days(30),
    );
    app.store.insert_token(&issued.stored).await.unwrap();
    issued.secret
}

async fn an_expired_token_stops_working(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for expired_at in [
        Utc::now() - Duration::days(1),
        Utc::now() - Duration::seconds(1),
    ] {
        let token = token_expiring(&app, expired_at).await;
        assert_every_request_refused(&app, "expired", |r| r.bearer_auth(&token)).await;
    }
}

async fn a_token_that_has_not_expired_yet_works(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let token = token_expiring(&app, Utc::now() + Duration::hours(1)).await;
    let response = app.post_row_as(&token, &valid_row()).await;
    assert_eq!(response.status().as_u16(), 201);
}

async fn a_read_only_token_reads_but_cannot_write(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let created: Value = app.post_row(&valid_row()).await.json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    let reader = app.token_for("default", READ).await;
    for body in [
        with(valid_row(), "reportPeriod", json!("30")),
        // A replay would write nothing, but writing is still not the reader's to try.
        valid_row(),
    ] {
        let response = app.post_row_as(&reader, &body).await;
        let error = assert_graph_error(response, 403, "accessDenied").await;
        assert!(
            error["error"]["message"]
                .as_str()
                .unwrap()
                .contains("Reports.ReadWrite.All"),
            "{error}"
        );
    }
    // Nor does the body decide the answer: 403 comes before 400 or 415.
    for (content_type, body) in [("application/json", "{"), ("text/plain", "hello")] {
        let response = app
            .client
            .post(app.url(COLLECTION))
            .bearer_auth(&reader)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_graph_error(response, 403, "accessDenied").await;
    }
    assert_eq!(app.row_count().await, 1);
    let one = app.get_as(&reader, &format!("{COLLECTION}/{id}")).await;
    assert_eq!(one.status().as_u16(), 200);
    assert_eq!(one.json::<Value>().await.unwrap()["id"], id);
    let list: Value = app.get_as(&reader, COLLECTION).await.json().await.unwrap();
    assert_eq!(list["value"].as_array().unwrap().len(), 1);
}

async fn another_tenants_rows_do_not_exist(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let created: Value = app.post_row(&valid_row()).await.json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    for scopes in [READ, READ_WRITE] {
        let stranger = app.token_for("contoso", scopes).await;
        let error = assert_graph_error(
            app.get_as(&stranger, &format!("{COLLECTION}/{id}")).await,
            404,
            "itemNotFound",
        )
        .await;
        // The same answer as for an id that never existed.
        let never = uuid::Uuid::now_v7();
        let unknown = assert_graph_error(
            app.get_as(&stranger, &format!("{COLLECTION}/{never}"))
                .await,
            404,
            "itemNotFound",
        )
        .await;
        assert_eq!(
            error["error"]["message"]
                .as_str()
                .unwrap()
                .replace(id, "ID"),
            unknown["error"]["message"]
                .as_str()
                .unwrap()
                .replace(&never.to_string(), "ID")
        );
        let list: Value = app
            .get_as(&stranger, COLLECTION)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(list["value"], json!([]), "{list}");
    }
    // And the owner still sees it.
    let own: Value = app.get(COLLECTION).await.json().await.unwrap();
    assert_eq!(own["value"][0]["id"], id);
}

async fn health_and_readiness_need_no_token(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for path in ["/health", "/ready"] {
        for authorization in [None, Some("Bearer not-a-token")] {
            let mut request = app.client.request(Method::GET, app.url(path));
            if let Some(value) = authorization {
                request = request.header("authorization", value);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status().as_u16(), 200, "{path}");
        }
    }
}

/// A caller without a usable token learns nothing about the body's fate: 401
/// whatever the body, its type or its size.
async fn authentication_comes_before_the_body(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let bodies: [(Option<&str>, Vec<u8>); 5] = [
        (Some("application/json"), b"{".to_vec()),
        (Some("application/json"), b"{\"web\": -1}".to_vec()),
        (Some("text/plain"), valid_row().to_string().into_bytes()),
        (None, valid_row().to_string().into_bytes()),
        (Some("application/json"), vec![b' '; 65 * 1024]),
    ];
    for authorization in [None, Some("Bearer not-a-token")] {
        for (content_type, body) in &bodies {
            let mut request = app.client.post(app.url(COLLECTION)).body(body.clone());
            if let Some(content_type) = content_type {
                request = request.header("content-type", *content_type);
            }
            if let Some(authorization) = authorization {
                request = request.header("authorization", authorization);
            }
            let what = format!("{authorization:?} {content_type:?} {} bytes", body.len());
            assert_unauthenticated(request.send().await.unwrap(), &what).await;
        }
    }
    assert_eq!(app.row_count().await, 0);
}
