//! Graph's error JSON for every failure the service sends, and the request ids
//! every response carries.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_graph_error, valid_row, with, Backend, TestApp, COLLECTION};

mod database;

backend_tests!(
    malformed_json_is_a_bad_request,
    a_body_that_is_not_utf8_is_a_bad_request,
    only_json_bodies_are_accepted,
    a_body_over_the_limit_is_too_large,
    an_unknown_route_is_not_found,
    a_wrong_method_is_not_allowed,
    an_unknown_or_malformed_id_is_not_found,
    every_response_carries_a_request_id,
    the_client_request_id_is_echoed
);

async fn malformed_json_is_a_bad_request(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let valid = valid_row().to_string();
    let truncated = valid[..valid.len() - 1].to_owned();
    for body in [
        "".to_owned(),
        "{".to_owned(),
        truncated,
        "{\"web\": 3,}".to_owned(),
        "{web: 3}".to_owned(),
        "{'web': 3}".to_owned(),
        format!("{valid} {valid}"),
        "NaN".to_owned(),
        // A property named twice would be stored as whichever came last.
        valid.replacen("\"web\":3", "\"web\":-1,\"web\":3", 1),
    ] {
        let response = app
            .post_raw(COLLECTION, Some("application/json"), body.clone())
            .await;
        let error = assert_graph_error(response, 400, "badRequest").await;
        assert!(
            error["error"]["message"].as_str().unwrap().contains("JSON"),
            "{body:?}: {error}"
        );
    }
    assert_eq!(app.row_count().await, 0);
}

async fn a_body_that_is_not_utf8_is_a_bad_request(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    // Valid JSON but for one Latin-1 byte inside a string.
    let mut latin1 = with(valid_row(), "@odata.context", json!("caf\u{e9}"))
        .to_string()
        .into_bytes();
    let at = latin1.windows(2).position(|w| w == [0xc3, 0xa9]).unwrap();
    latin1.splice(at..at + 2, [0xe9]);
    for body in [latin1, vec![0xff, 0xfe, b'{', 0, b'}', 0]] {
        let response = app
            .post_raw(COLLECTION, Some("application/json"), body)
            .await;
        let error = assert_graph_error(response, 400, "badRequest").await;
        assert!(
            error["error"]["message"]
                .as_str()
                .unwrap()
                .contains("UTF-8"),
            "{error}"
        );
    }
    assert_eq!(app.row_count().await, 0);
}

async fn only_json_bodies_are_accepted(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let body = valid_row().to_string();
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("text/json"),
        Some("application/jsonx"),
        Some("application/json; charset=latin1"),
        Some("json"),
        Some(""),
    ] {
        let response = app.post_raw(COLLECTION, content_type, body.clone()).await;
        assert_graph_error(response, 415, "unsupportedMediaType").await;
    }
    assert_eq!(app.row_count().await, 0);
    // Parameters and case do not matter to the media type itself.
    let response = app
        .post_raw(
            COLLECTION,
            Some("Application/JSON; charset=UTF-8; odata.metadata=minimal"),
            body,
        )
        .await;
    assert_eq!(response.status().as_u16(), 201);
}

async fn a_body_over_the_limit_is_too_large(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    // A valid row padded with an ignored annotation to just over 64 KiB.
    let padded = |size: usize| {
        let base = with(valid_row(), "@odata.context", json!("")).to_string();
        with(
            valid_row(),
            "@odata.context",
            json!("x".repeat(size - base.len())),
        )
        .to_string()
    };
    let limit = 64 * 1024;
    let over = padded(limit + 1);
    assert_eq!(over.len(), limit + 1);
    let response = app
        .post_raw(COLLECTION, Some("application/json"), over.clone())
        .await;
    assert_graph_error(response, 413, "requestEntityTooLarge").await;
    // Streamed in chunks without a Content-Length, the limit still holds.
    let (status, body) = post_chunked(&app, over.into_bytes()).await;
    assert_eq!(status, 413, "{body}");
    let body: Value = serde_json::from_str(&body).expect("a JSON error body");
    assert_eq!(body["error"]["code"], "requestEntityTooLarge");
    assert_eq!(app.row_count().await, 0);
    // Exactly at the limit is fine.
    let response = app
        .post_raw(COLLECTION, Some("application/json"), padded(limit))
        .await;
    assert_eq!(response.status().as_u16(), 201);
}

/// POSTs `body` with `Transfer-Encoding: chunked` over a plain connection (an
/// HTTP client would send a Content-Length); answers the status and body.
async fn post_chunked(app: &TestApp, body: Vec<u8>) -> (u16, String) {
    use std::io::{Read, Write};
    let address = app.address.trim_start_matches("http://").to_owned();
    let token = app.token.clone();
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        let mut request = format!(
            "POST {COLLECTION} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        )
        .into_bytes();
        for chunk in body.chunks(4096) {
            request.extend(format!("{:x}\r\n", chunk.len()).bytes());
            request.extend(chunk);
            request.extend(b"\r\n");
        }
        request.extend(b"0\r\n\r\n");
        // The server may answer and close before reading everything: that is its right.
        let _ = stream.write_all(&request);
        let mut response = Vec::new();
        let _ = stream.read_to_end(&mut response);
        let response = String::from_utf8_lossy(&response).into_owned();
        let status = response
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status line in {response:?}"));
        let (head, body) = response.split_once("\r\n\r\n").unwrap();
        let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
            dechunk(body)
        } else {
            body.to_owned()
        };
        (status, body)
    })
    .await
    .unwrap()
}

fn dechunk(mut rest: &str) -> String {
    let mut body = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        body.push_str(&after[..size]);
        rest = &after[size + 2..];
    }
    body
}

async fn an_unknown_route_is_not_found(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for (method, path) in [
        // `/` is the dashboard page; other files beside its own are not.
        (Method::GET, "/dashboard/nothing.js"),
        (Method::GET, "/nothing"),
        (Method::GET, "/v1.0/nothing"),
        (Method::GET, "/v1.0/reports/nothing"),
        (
            Method::GET,
            "/v2.0/reports/teamsDeviceUsageDistributionUserCounts",
        ),
        (Method::GET, "/v1.0/reports/teamsDeviceUsageUserCounts"),
        (
            Method::GET,
            "/v1.0/reports/teamsdeviceusagedistributionusercounts",
        ),
        (Method::POST, "/v1.0/users"),
        (
            Method::GET,
            "/v1.0/reports/teamsDeviceUsageDistributionUserCounts/a/b",
        ),
    ] {
        let response = app.request(method.clone(), path).send().await.unwrap();
        let error = assert_graph_error(response, 404, "itemNotFound").await;
        assert!(!error["error"]["message"].as_str().unwrap().is_empty());
    }
}

async fn a_wrong_method_is_not_allowed(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let created: Value = app.post_row(&valid_row()).await.json().await.unwrap();
    let item = format!("{COLLECTION}/{}", created["id"].as_str().unwrap());
    for (method, path, allow) in [
        (Method::PUT, COLLECTION.to_owned(), "GET, POST"),
        (Method::DELETE, COLLECTION.to_owned(), "GET, POST"),
        (Method::PATCH, COLLECTION.to_owned(), "GET, POST"),
        (Method::PUT, item.clone(), "GET, PATCH, DELETE"),
        (Method::POST, item.clone(), "GET, PATCH, DELETE"),
        (Method::POST, "/health".to_owned(), "GET"),
        (Method::DELETE, "/ready".to_owned(), "GET"),
        (Method::GET, "/v1.0/$batch".to_owned(), "POST"),
        (Method::POST, "/v1.0/$metadata".to_owned(), "GET"),
    ] {
        let response = app
            .request(method.clone(), &path)
            .json(&valid_row())
            .send()
            .await
            .unwrap();
        // 405 says which methods the resource does serve.
        assert_eq!(response.headers()["allow"], allow, "{method} {path}");
        assert_graph_error(response, 405, "methodNotAllowed").await;
    }
    assert_eq!(app.row_count().await, 1);
}

async fn an_unknown_or_malformed_id_is_not_found(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.post_row(&valid_row()).await;
    for id in [
        uuid::Uuid::now_v7().to_string(),
        uuid::Uuid::nil().to_string(),
        "not-a-uuid".to_owned(),
        "1".to_owned(),
        "'; DROP TABLE teams_device_usage_distribution_user_counts; --".to_owned(),
    ] {
        let path = format!(
            "{COLLECTION}/{}",
            url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>()
        );
        let error = assert_graph_error(app.get(&path).await, 404, "itemNotFound").await;
        assert!(!error["error"]["message"].as_str().unwrap().is_empty());
    }
    assert_eq!(app.row_count().await, 1);
}

async fn every_response_carries_a_request_id(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let created = app.post_row(&valid_row()).await;
    assert_eq!(created.status().as_u16(), 201);
    let mut ids = vec![request_id(&created)];
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for response in [
        app.get(&format!("{COLLECTION}/{id}")).await,
        app.get(COLLECTION).await,
        app.post_row(&valid_row()).await,
        app.client.get(app.url("/health")).send().await.unwrap(),
        app.client.get(app.url("/ready")).send().await.unwrap(),
        app.client.get(app.url(COLLECTION)).send().await.unwrap(),
        app.get("/nothing").await,
        app.get("/v1.0/$metadata").await,
        app.get(&format!("{COLLECTION}/$count?$orderby=web&$top=1"))
            .await,
    ] {
        ids.push(request_id(&response));
        // OData Part 1, 8.1.5: every answer, success or error, names its OData version.
        assert_eq!(
            response
                .headers()
                .get("odata-version")
                .map(|v| v.to_str().unwrap()),
            Some("4.0"),
            "{} {}",
            response.status(),
            response.url()
        );
    }
    // A fresh id for each request.
    let count = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), count);
}

/// The `request-id` header, which must be a UUID.
fn request_id(response: &reqwest::Response) -> uuid::Uuid {
    let header = response
        .headers()
        .get("request-id")
        .unwrap_or_else(|| panic!("no request-id on {} {}", response.status(), response.url()));
    uuid::Uuid::parse_str(header.to_str().unwrap()).expect("request-id is a UUID")
}

async fn the_client_request_id_is_echoed(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let client_id = "3f5e2b5a-1d2c-4f6e-9a8b-7c6d5e4f3a2b";
    let success = app
        .request(Method::POST, COLLECTION)
        .header("client-request-id", client_id)
        .json(&valid_row())
        .send()
        .await
        .unwrap();
    assert_eq!(success.status().as_u16(), 201);
    assert_eq!(success.headers()["client-request-id"], client_id);
    for request in [
        app.request(Method::POST, COLLECTION).json(&json!({})),
        app.request(Method::GET, "/nothing"),
        app.client.get(app.url(COLLECTION)),
    ] {
        let response = request
            .header("client-request-id", client_id)
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["client-request-id"], client_id);
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body["error"]["innerError"]["client-request-id"], client_id,
            "{status}: {body}"
        );
    }
    // Without one, none is invented.
    let response = app.get("/nothing").await;
    assert!(!response.headers().contains_key("client-request-id"));
    let body: Value = response.json().await.unwrap();
    assert!(body["error"]["innerError"]
        .get("client-request-id")
        .is_none());
}
