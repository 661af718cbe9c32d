//! A tenant exists by its tokens and its rows: `RowStore::tenant_exists`,
//! which keeps a misspelt `import --tenant` from creating a tenant; and a
//! database is new until its first migration (`Store::never_migrated`).

use chrono::Utc;
use teams_usage_store::auth::{issue_token, Scopes};
use teams_usage_store::domain::ReportPeriod;
use teams_usage_store::storage::{self, InsertOutcome};

use crate::common::fixtures::{row, tenant};
use crate::common::{Backend, TestDatabase};
use crate::TestStore;

backend_tests!(
    a_tenant_exists_by_a_token_or_a_row,
    a_database_is_new_until_it_is_migrated
);

async fn a_tenant_exists_by_a_token_or_a_row(backend: Backend) {
    let Some(t) = TestStore::open(backend).await else {
        return;
    };
    let store = &t.store;
    for name in ["contoso", "fabrikam", "northwind"] {
        assert!(!store.tenant_exists(&tenant(name)).await.unwrap(), "{name}");
    }
    // A token makes its tenant, and a revoked one still names it.
    let issued = issue_token(
        tenant("contoso"),
        "collector".into(),
        Scopes::parse("Reports.Read.All").unwrap(),
        None,
        Utc::now(),
    );
    store.insert_token(&issued.stored).await.unwrap();
    assert!(store.tenant_exists(&tenant("contoso")).await.unwrap());
    assert!(store
        .revoke_token(issued.stored.id, Utc::now())
        .await
        .unwrap());
    assert!(store.tenant_exists(&tenant("contoso")).await.unwrap());
    // So do rows, without any token.
    let stored = row("fabrikam", "2026-11-01", ReportPeriod::D7, 3);
    let outcomes = store
        .insert_rows(std::slice::from_ref(&stored))
        .await
        .unwrap();
    assert!(matches!(outcomes[..], [InsertOutcome::Created(_)]));
    assert!(store.tenant_exists(&tenant("fabrikam")).await.unwrap());
    // Neither makes another tenant, even one that differs only in case.
    assert!(!store.tenant_exists(&tenant("northwind")).await.unwrap());
    assert!(!store.tenant_exists(&tenant("Fabrikam")).await.unwrap());
    // A tenant whose last row is deleted and that has no token is gone.
    assert!(store
        .delete_row(&tenant("fabrikam"), stored.id)
        .await
        .unwrap());
    assert!(!store.tenant_exists(&tenant("fabrikam")).await.unwrap());
}

async fn a_database_is_new_until_it_is_migrated(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let store = storage::connect(&database.url, 1).await.unwrap();
    assert!(store.never_migrated().await.unwrap());
    store.migrate().await.unwrap();
    assert!(!store.never_migrated().await.unwrap());
    store.close().await;
    // Opened again, it is the same database, no longer new.
    let store = storage::connect(&database.url, 1).await.unwrap();
    assert!(!store.never_migrated().await.unwrap());
    store.close().await;
}
