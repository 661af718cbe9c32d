//! Imports that resolve conflicts: each is one call and one transaction, the
//! conflicting rows kept or replaced beside the rest, and nothing stays of an
//! import that fails half-way.

use teams_usage_store::domain::{DistributionRow, ReportPeriod};
use teams_usage_store::storage::{ConflictPolicy, ImportReport, StoreError};

use crate::common::fixtures::{count, row, tenant};
use crate::common::Backend;
use crate::failures::refuse_web_666;
use crate::TestStore;

backend_tests!(
    conflicts_are_kept_or_replaced_in_one_call,
    a_failing_replacement_undoes_the_whole_import
);

/// Two stored rows of tenant `t1`, web 1 on 2026-11-01 and web 2 on 2026-11-02.
async fn two_stored(t: &TestStore) -> [DistributionRow; 2] {
    let stored = [
        row("t1", "2026-11-01", ReportPeriod::D7, 1),
        row("t1", "2026-11-02", ReportPeriod::D7, 2),
    ];
    t.store.insert_rows(&stored).await.unwrap();
    stored
}

async fn stored_row(t: &TestStore, id: uuid::Uuid) -> DistributionRow {
    t.store.get_row(&tenant("t1"), id).await.unwrap().unwrap()
}

async fn conflicts_are_kept_or_replaced_in_one_call(backend: Backend) {
    let Some(t) = TestStore::open(backend).await else {
        return;
    };
    let [first, second] = two_stored(&t).await;
    // Each call offers rows made afresh, as each collection run does.
    let offered = || {
        [
            row("t1", "2026-11-01", ReportPeriod::D7, 10),
            row("t1", "2026-11-02", ReportPeriod::D7, 2),
            row("t1", "2026-11-03", ReportPeriod::D7, 3),
        ]
    };

    let kept = t
        .store
        .import_rows_resolving(&offered(), ConflictPolicy::Keep)
        .await
        .unwrap();
    let expected = ImportReport {
        created: 1,
        already_stored: 1,
        conflicts: vec![(0, first.clone())],
    };
    assert_eq!(kept, expected);
    assert_eq!(
        stored_row(&t, first.id).await,
        first,
        "the stored row stays"
    );
    assert_eq!(t.database.row_count().await, 3);

    let restated = offered();
    let replaced = t
        .store
        .import_rows_resolving(&restated, ConflictPolicy::Replace)
        .await
        .unwrap();
    let expected = ImportReport {
        created: 0,
        already_stored: 2,
        conflicts: vec![(0, first.clone())],
    };
    assert_eq!(replaced, expected, "the report names the row as it was");
    let now = stored_row(&t, first.id).await;
    assert_eq!(
        now.counts, restated[0].counts,
        "the offered counts replace it"
    );
    assert_eq!(
        now.created_at, first.created_at,
        "it keeps its creation time"
    );
    assert_eq!(now.updated_at, restated[0].updated_at);
    assert_eq!(stored_row(&t, second.id).await, second);
    assert_eq!(t.database.row_count().await, 3);
}

async fn a_failing_replacement_undoes_the_whole_import(backend: Backend) {
    let Some(t) = TestStore::open(backend).await else {
        return;
    };
    let [first, second] = two_stored(&t).await;
    t.database.execute(&refuse_web_666(backend, "UPDATE")).await;
    // A new row and a replacement go in before the last replacement fails.
    let offered = [
        row("t1", "2026-11-01", ReportPeriod::D7, 10),
        row("t1", "2026-11-03", ReportPeriod::D7, 3),
        row("t1", "2026-11-02", ReportPeriod::D7, 666),
    ];
    let error = t
        .store
        .import_rows_resolving(&offered, ConflictPolicy::Replace)
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Database(_)), "{error:?}");
    assert_eq!(t.database.row_count().await, 2, "no new row stays");
    assert_eq!(stored_row(&t, first.id).await.counts.web, count(1));
    assert_eq!(stored_row(&t, second.id).await, second);
}
