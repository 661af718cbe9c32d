//! A fresh database per test, on either backend; shared by every test target,
//! each of which includes it with `#[macro_use] mod common;` before its own modules.

pub mod fixtures;

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Once, OnceLock};

use teams_usage_store::config::DatabaseUrl;

/// Generates one `#[tokio::test]` per backend for each `async fn name(backend: Backend)`,
/// named `sqlite::name` and `postgres::name` so either half can be filtered.
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::common::Backend::Sqlite).await }
            )*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::common::Backend::Postgres).await }
            )*
        }
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The server the Postgres tests use; each test gets its own database in it.
pub fn postgres_admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn postgres_required() -> bool {
    std::env::var("TEST_REQUIRE_POSTGRES").is_ok_and(|v| v == "1" || v == "true")
}

/// Postgres tests this test process skipped, and the first reason; a skipped
/// test passes, so the count is reported on stderr when the process exits.
static POSTGRES_SKIPS: AtomicUsize = AtomicUsize::new(0);
static POSTGRES_SKIP_REASON: OnceLock<String> = OnceLock::new();

fn record_postgres_skip(error: &sqlx::Error) {
    POSTGRES_SKIPS.fetch_add(1, Ordering::SeqCst);
    static REPORT_AT_EXIT: Once = Once::new();
    REPORT_AT_EXIT.call_once(|| {
        let _ = POSTGRES_SKIP_REASON.set(error.to_string());
        // The one unsafe call of the project: libtest offers no hook after its
        // summary. SAFETY: the handler is a plain `extern "C" fn` that only
        // reads statics and writes to stderr.
        #[allow(unsafe_code)]
        unsafe {
            libc::atexit(report_postgres_skips)
        };
    });
}

extern "C" fn report_postgres_skips() {
    let skipped = POSTGRES_SKIPS.load(Ordering::SeqCst);
    let reason = POSTGRES_SKIP_REASON.get().map_or("", String::as_str);
    // Not eprintln!: a panic here, at exit and across `extern "C"`, would abort.
    let _ = writeln!(
        std::io::stderr(),
        "\nSKIPPED {skipped} Postgres tests in this target: cannot reach {} ({reason}); \
         they are counted as passed above. Set TEST_POSTGRES_URL to a reachable server, \
         or TEST_REQUIRE_POSTGRES=1 to make this an error.\n",
        postgres_admin_url()
    );
}

/// The table the rows live in, for SQL the tests run behind the service's back.
pub const ROWS_TABLE: &str = "teams_device_usage_distribution_user_counts";

/// A database that exists for one test.
pub struct TestDatabase {
    pub url: DatabaseUrl,
    pub backend: Backend,
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
                    backend,
                    _dir: Some(dir),
                    postgres_name: None,
                })
            }
            Backend::Postgres => {
                let admin = match sqlx::PgPool::connect(&postgres_admin_url()).await {
                    Ok(pool) => pool,
                    Err(e) if !postgres_required() => {
                        record_postgres_skip(&e);
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
                    backend,
                    _dir: None,
                    postgres_name: Some(name),
                })
            }
        }
    }

    /// Runs SQL straight on the database, behind the service's back.
    pub async fn execute(&self, sql: &str) {
        match self.backend {
            Backend::Sqlite => {
                let pool = sqlx::SqlitePool::connect(self.url.expose()).await.unwrap();
                sqlx::raw_sql(sql).execute(&pool).await.expect(sql);
                pool.close().await;
            }
            Backend::Postgres => {
                let pool = sqlx::PgPool::connect(self.url.expose()).await.unwrap();
                sqlx::raw_sql(sql).execute(&pool).await.expect(sql);
                pool.close().await;
            }
        }
    }

    /// True when the rows table cannot be read (a wiped database).
    pub async fn row_count_fails(&self) -> bool {
        let sql = format!("SELECT COUNT(*) FROM {ROWS_TABLE}");
        let pool = sqlx::PgPool::connect(self.url.expose()).await.unwrap();
        let failed = sqlx::query_scalar::<_, i64>(&sql)
            .fetch_one(&pool)
            .await
            .is_err();
        pool.close().await;
        failed
    }

    /// Rows in the table, all tenants, read straight from SQL.
    pub async fn row_count(&self) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM {ROWS_TABLE}");
        match self.backend {
            Backend::Sqlite => {
                let pool = sqlx::SqlitePool::connect(self.url.expose()).await.unwrap();
                let n = sqlx::query_scalar(&sql).fetch_one(&pool).await.unwrap();
                pool.close().await;
                n
            }
            Backend::Postgres => {
                let pool = sqlx::PgPool::connect(self.url.expose()).await.unwrap();
                let n = sqlx::query_scalar(&sql).fetch_one(&pool).await.unwrap();
                pool.close().await;
                n
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
