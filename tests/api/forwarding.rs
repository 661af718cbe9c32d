//! Links in answers (`Location`, `@odata.nextLink`, `@odata.context`) never point
//! where a client's `Host`-like headers say unless the service is told to trust them.

use serde_json::Value;
use teams_usage_store::config::Forwarding;

use crate::helpers::{valid_row, with, Backend, TestApp, COLLECTION};

backend_tests!(
    forwarding_headers_from_an_untrusted_peer_are_ignored,
    a_public_base_url_makes_every_link,
    forwarding_headers_from_a_trusted_proxy_are_believed
);

const EVIL: [(&str, &str); 3] = [
    ("x-forwarded-host", "evil.example"),
    ("x-forwarded-proto", "https"),
    ("forwarded", "host=evil.example;proto=https"),
];

/// The three links of a POST and a two-page list, sent with forged forwarding headers.
async fn links(app: &TestApp) -> Vec<String> {
    let mut links = Vec::new();
    for date in ["2026-11-01", "2026-11-02"] {
        let mut request = app.request(reqwest::Method::POST, COLLECTION).json(&with(
            valid_row(),
            "reportRefreshDate",
            date.into(),
        ));
        for (name, value) in EVIL {
            request = request.header(name, value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), 201);
        links.push(response.headers()["location"].to_str().unwrap().to_owned());
        let body: Value = response.json().await.unwrap();
        links.push(body["@odata.context"].as_str().unwrap().to_owned());
    }
    let mut request = app.request(reqwest::Method::GET, &format!("{COLLECTION}?$top=1"));
    for (name, value) in EVIL {
        request = request.header(name, value);
    }
    let page: Value = request.send().await.unwrap().json().await.unwrap();
    links.push(page["@odata.nextLink"].as_str().unwrap().to_owned());
    links.push(page["@odata.context"].as_str().unwrap().to_owned());
    links
}

async fn forwarding_headers_from_an_untrusted_peer_are_ignored(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for link in links(&app).await {
        assert!(
            link.starts_with(&format!("{}/v1.0/", app.address)),
            "{link}"
        );
    }
}

async fn a_public_base_url_makes_every_link(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| {
        // Even a trusted proxy's headers lose to the configured base.
        s.forwarding = Forwarding::parse(
            Some("https://reports.example.com/usage/"),
            Some("127.0.0.1"),
        )
        .unwrap();
    })
    .await
    else {
        return;
    };
    for link in links(&app).await {
        assert!(
            link.starts_with("https://reports.example.com/usage/v1.0/"),
            "{link}"
        );
    }
}

async fn forwarding_headers_from_a_trusted_proxy_are_believed(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| {
        s.forwarding = Forwarding::parse(None, Some("127.0.0.0/8, ::1")).unwrap();
    })
    .await
    else {
        return;
    };
    for link in links(&app).await {
        assert!(link.starts_with("https://evil.example/v1.0/"), "{link}");
    }
}
