//! The real application on a random port, with a fresh database per test, on
//! either backend.

use std::sync::{Arc, Once};

use actix_web::dev::ServerHandle;
use chrono::Utc;
use reqwest::{Client, Response};
use serde_json::{json, Value};
use teams_usage_store::auth::{issue_token, Scopes};
use teams_usage_store::config::{DatabaseUrl, Settings};
use teams_usage_store::domain::TenantId;
use teams_usage_store::startup::Application;
use teams_usage_store::storage::Store;

pub const COLLECTION: &str = "/v1.0/reports/teamsDeviceUsageDistributionUserCounts";
pub const BETA_COLLECTION: &str = "/beta/reports/teamsDeviceUsageDistributionUserCounts";
pub const READ_WRITE: &str = "Reports.ReadWrite.All";
pub const READ: &str = "Reports.Read.All";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates one `#[tokio::test]` per backend for each `async fn name(backend: Backend)`.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::helpers::Backend::Sqlite).await }
            )*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::helpers::Backend::Postgres).await }
            )*
        }
    };
}

/// The server the Postgres tests use; each test gets its own database in it.
fn postgres_admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn postgres_required() -> bool {
    std::env::var("TEST_REQUIRE_POSTGRES").is_ok_and(|v| v == "1" || v == "true")
}

/// A database that exists for one test.
pub struct TestDatabase {
    pub url: DatabaseUrl,
    /// Keeps the SQLite file's folder alive.
    _dir: Option<tempfile::TempDir>,
    postgres_name: Option<String>,
}

impl TestDatabase {
    /// `None` when Postgres is not reachable and not required: the test is skipped.
    pub async fn create(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                Some(Self {
                    url: DatabaseUrl::parse(&url).unwrap(),
                    _dir: Some(dir),
                    postgres_name: None,
                })
            }
            Backend::Postgres => {
                let admin = match sqlx::PgPool::connect(&postgres_admin_url()).await {
                    Ok(pool) => pool,
                    Err(e) if !postgres_required() => {
                        static WARN: Once = Once::new();
                        WARN.call_once(|| {
                            eprintln!(
                                "SKIPPING the Postgres half of the tests: cannot reach {} ({e}). \
                                 Set TEST_POSTGRES_URL to a server, or TEST_REQUIRE_POSTGRES=1 to make this an error.",
                                postgres_admin_url()
                            )
                        });
                        return None;
                    }
                    Err(e) => {
                        panic!("TEST_REQUIRE_POSTGRES is set but Postgres is unreachable: {e}")
                    }
                };
                let name = format!("tus_test_{}", uuid::Uuid::new_v4().simple());
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&admin)
                    .await
                    .expect("create test database");
                admin.close().await;
                let mut url = url::Url::parse(&postgres_admin_url()).unwrap();
                url.set_path(&name);
                Some(Self {
                    url: DatabaseUrl::parse(url.as_str()).unwrap(),
                    _dir: None,
                    postgres_name: Some(name),
                })
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(name) = self.postgres_name.take() else {
            return;
        };
        // Drop runs outside async; a short-lived runtime on its own thread does the cleanup.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let admin = sqlx::PgPool::connect(&postgres_admin_url()).await.ok()?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&admin)
                    .await
                    .ok()?;
                admin.close().await;
                Some(())
            })
        })
        .join();
    }
}

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
        let database = TestDatabase::create(backend).await?;
        let settings = Settings {
            database_url: database.url.clone(),
            host: "127.0.0.1".into(),
            port: 0,
            ..Settings::from_lookup(|_| None).unwrap()
        };
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

    pub async fn post_row_as(&self, token: &str, body: &Value) -> Response {
        self.client
            .post(self.url(COLLECTION))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request")
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
        let sql = "SELECT COUNT(*) FROM teams_device_usage_distribution_user_counts";
        match self.backend {
            Backend::Sqlite => {
                let pool = sqlx::SqlitePool::connect(self.database.url.expose())
                    .await
                    .unwrap();
                let n = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
                pool.close().await;
                n
            }
            Backend::Postgres => {
                let pool = sqlx::PgPool::connect(self.database.url.expose())
                    .await
                    .unwrap();
                let n = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
                pool.close().await;
                n
            }
        }
    }
}

/// The seed page's example body, made valid.
pub fn valid_row() -> Value {
    json!({
        "@odata.type": "#microsoft.graph.teamsDeviceUsageDistributionUserCounts",
        "reportRefreshDate": "2026-11-01",
        "web": 3,
        "windowsPhone": 12,
        "androidPhone": 12,
        "ios": 3,
        "mac": 3,
        "windows": 7,
        "reportPeriod": "7"
    })
}

/// `valid_row` with one property replaced (or removed, with `Value::Null` for
/// required ones use `without`).
pub fn with(mut body: Value, key: &str, value: Value) -> Value {
    body[key] = value;
    body
}

pub fn without(mut body: Value, key: &str) -> Value {
    body.as_object_mut().unwrap().remove(key);
    body
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
