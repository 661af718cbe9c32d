//! The real application on a random port, with a fresh database per test, on
//! either backend.

use std::sync::Arc;

use actix_web::dev::ServerHandle;
use chrono::Utc;
use reqwest::{Client, Response};
use serde_json::Value;
use teams_usage_store::auth::{issue_token, Scopes, TokenReach};
use teams_usage_store::config::Settings;
use teams_usage_store::domain::TenantId;
use teams_usage_store::startup::Application;
use teams_usage_store::storage::Store;

pub use crate::common::fixtures::{valid_row, with, without};
pub use crate::common::{Backend, TestDatabase};

pub const COLLECTION: &str = "/v1.0/reports/teamsDeviceUsageDistributionUserCounts";
pub const BETA_COLLECTION: &str = "/beta/reports/teamsDeviceUsageDistributionUserCounts";
pub const READ_WRITE: &str = "Reports.ReadWrite.All";
pub const READ: &str = "Reports.Read.All";

pub struct TestApp {
    pub address: String,
    pub client: Client,
    /// The bootstrap token: Reports.ReadWrite.All for tenant `default`.
    pub token: String,
    pub store: Arc<dyn Store>,
    pub backend: Backend,
    server: RunningServer,
    settings: Settings,
    // Declared last: the database outlives the server that uses it.
    pub database: TestDatabase,
}

/// Stops the server when the test ends, so its database can be dropped.
struct RunningServer(ServerHandle);

impl Drop for RunningServer {
    fn drop(&mut self) {
        drop(self.0.stop(false));
    }
}

struct Started {
    address: String,
    store: Arc<dyn Store>,
    server: RunningServer,
    bootstrap_token: Option<String>,
}

async fn start(settings: Settings) -> Started {
    let app = Application::build(settings)
        .await
        .expect("the application starts");
    let started = Started {
        address: format!("http://127.0.0.1:{}", app.port()),
        store: app.store(),
        server: RunningServer(app.server_handle()),
        bootstrap_token: app.bootstrap_token().map(str::to_owned),
    };
    tokio::spawn(app.run_until_stopped());
    started
}

impl TestApp {
    /// A fresh database and the real server on a random port; `None` skips the test.
    pub async fn spawn(backend: Backend) -> Option<Self> {
        Self::spawn_with(backend, |_| {}).await
    }

    /// `spawn`, with `adjust` applied to the default settings first.
    pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> Option<Self> {
        let database = TestDatabase::create(backend).await?;
        let mut settings = Settings {
            database_url: database.url.clone(),
            host: "127.0.0.1".into(),
            port: 0,
            ..Settings::from_lookup(|_| None).unwrap()
        };
        adjust(&mut settings);
        let started = start(settings.clone()).await;
        Some(Self {
            address: started.address,
            client: Client::new(),
            token: started
                .bootstrap_token
                .expect("a fresh database issues a bootstrap token"),
            store: started.store,
            backend,
            server: started.server,
            settings,
            database,
        })
    }

    /// Stops the server and starts a new one on the same database.
    pub async fn restart(self) -> Self {
        self.server.0.stop(true).await;
        self.store.close().await;
        let started = start(self.settings.clone()).await;
        assert!(
            started.bootstrap_token.is_none(),
            "the bootstrap token is issued only once"
        );
        Self {
            address: started.address,
            store: started.store,
            server: started.server,
            ..self
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// A token for any tenant and scopes, created as the CLI does.
    pub async fn token_for(&self, tenant: &str, scopes: &str) -> String {
        let issued = issue_token(
            TenantId::parse(tenant).unwrap(),
            "test".into(),
            Scopes::parse(scopes).unwrap(),
            None,
            Utc::now(),
        );
        self.store.insert_token(&issued.stored).await.unwrap();
        issued.secret
    }

    /// An operator's token: it reads every tenant, its own (`tenant`) as `scopes` say.
    pub async fn all_tenants_token(&self, tenant: &str, scopes: &str) -> String {
        let issued = issue_token(
            TenantId::parse(tenant).unwrap(),
            "operator".into(),
            Scopes::parse(scopes).unwrap(),
            None,
            Utc::now(),
        )
        .reaching(TokenReach::AllTenants);
        self.store.insert_token(&issued.stored).await.unwrap();
        issued.secret
    }

    /// A request to `path` carrying the bootstrap token.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(&self.token)
    }

    pub async fn post_row_as(&self, token: &str, body: &Value) -> Response {
        self.post_json_as(token, COLLECTION, body).await
    }

    /// POSTs `body` as JSON to `path` with `token`.
    pub async fn post_json_as(&self, token: &str, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// POSTs `body` as given, with `content_type` (none when `None`), to `path`.
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> Response {
        let mut request = self.request(reqwest::Method::POST, path).body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        request.send().await.expect("request")
    }

    pub async fn post_row(&self, body: &Value) -> Response {
        self.post_row_as(&self.token, body).await
    }

    pub async fn get_as(&self, token: &str, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    pub async fn get(&self, path: &str) -> Response {
        self.get_as(&self.token, path).await
    }

    /// Rows in the table, all tenants, read straight from SQL.
    pub async fn row_count(&self) -> i64 {
        self.database.row_count().await
    }
}

/// Asserts a Graph error body with `code`, and returns it.
pub async fn assert_graph_error(response: Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status().as_u16(), status, "status");
    assert!(
        response.headers().contains_key("request-id"),
        "request-id header"
    );
    let request_id = response.headers()["request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "content-type {content_type}"
    );
    let body: Value = response.json().await.expect("a JSON error body");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert_eq!(
        body["error"]["innerError"]["request-id"],
        request_id.as_str(),
        "{body}"
    );
    assert!(body["error"]["innerError"]["date"].is_string(), "{body}");
    body
}
