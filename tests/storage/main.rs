//! The storage conformance suite: one set of tests, run through the `Store`
//! trait against SQLite and against Postgres, each on a fresh database.
// A test fails by panicking: unwrap and expect say where.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
#[path = "../common/mod.rs"]
mod common;

mod failures;
mod migrations;
mod rows;
mod tokens;
mod wal;

use std::sync::Arc;

use chrono::{NaiveDate, Utc};
use teams_usage_store::domain::{
    DeviceCounts, DistributionRow, NewDistributionRow, ReportPeriod, TenantId, UserCount,
};
use teams_usage_store::storage::{self, Store};

use common::{Backend, TestDatabase};

/// Generates one `#[tokio::test]` per backend for each `async fn name(backend: Backend)`.
#[macro_export]
macro_rules! conformance_tests {
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

/// A migrated store on a fresh database; `None` skips the test.
pub struct TestStore {
    pub store: Arc<dyn Store>,
    // Declared last: the database outlives the store's connections.
    pub database: TestDatabase,
}

impl TestStore {
    pub async fn open(backend: Backend) -> Option<Self> {
        let database = TestDatabase::create(backend).await?;
        let store = storage::connect(&database.url, 1).await.expect("connect");
        store.migrate().await.expect("migrate");
        Some(Self { store, database })
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        let store = self.store.clone();
        // Close the pools before the database is dropped; Drop is not async.
        let _ = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map(|runtime| runtime.block_on(store.close()))
        })
        .join();
    }
}

pub fn tenant(name: &str) -> TenantId {
    TenantId::parse(name).unwrap()
}

pub fn count(n: i64) -> UserCount {
    UserCount::new(n).unwrap()
}

pub fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// Content for `date` and `period`, with `web` as the count that varies.
pub fn content(day: &str, period: ReportPeriod, web: i64) -> NewDistributionRow {
    NewDistributionRow {
        report_refresh_date: date(day),
        report_period: period,
        counts: DeviceCounts {
            web: count(web),
            windows_phone: count(12),
            android_phone: count(12),
            ios: count(3),
            mac: count(3),
            windows: count(7),
            chrome_os: None,
            linux: Some(count(0)),
        },
    }
}

pub fn row(tenant_name: &str, day: &str, period: ReportPeriod, web: i64) -> DistributionRow {
    DistributionRow::create(tenant(tenant_name), content(day, period, web), Utc::now())
}
