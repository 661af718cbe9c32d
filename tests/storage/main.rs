//! The storage conformance suite: one set of tests, run through the `Store`
//! trait against SQLite and against Postgres, each on a fresh database.
// A test fails by panicking: unwrap and expect say where.
#![allow(clippy::unwrap_used, clippy::expect_used)]

// Each target uses a part of the shared helpers.
#[allow(dead_code)]
#[macro_use]
#[path = "../common/mod.rs"]
mod common;

mod collector;
mod failures;
mod imports;
mod migrations;
mod plans;
mod rows;
mod tenants;
mod tokens;
mod views;
mod wal;

use std::sync::Arc;

use teams_usage_store::storage::{self, Store};

use common::{Backend, TestDatabase};

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
