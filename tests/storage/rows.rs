//! `RowStore`: insert outcomes, tenant scoping, paging, update, delete, latest.

use chrono::{Duration, Utc};
use teams_usage_store::domain::{truncate_to_micros, Property, ReportPeriod, RowPatch};
use teams_usage_store::odata::{CompareOp, Cursor, Filter, Literal, OrderKey, RowQuery};
use teams_usage_store::storage::{InsertOutcome, UpdateOutcome};

use crate::common::fixtures::{count, date, row, tenant};
use crate::common::Backend;
use crate::TestStore;

use ReportPeriod::{D180, D30, D7, D90};

backend_tests!(
    a_new_key_is_created_a_resent_one_replayed_a_changed_one_conflicts,
    duplicates_inside_one_batch_behave_as_if_inserted_one_by_one,
    a_batch_of_many_statements_behaves_as_if_inserted_one_by_one,
    reads_are_scoped_by_tenant,
    pages_continue_after_the_cursor,
    an_update_keeps_identity_and_refuses_a_taken_key,
    an_update_that_changes_nothing_writes_nothing,
    a_delete_removes_only_the_tenants_row,
    the_latest_row_is_per_tenant_and_period
);

async fn a_new_key_is_created_a_resent_one_replayed_a_changed_one_conflicts(backend: Backend) {
    let Some(t) = TestStore::open(backend).await else {
        return;
    };
    let first = row("t1", "2026-11-01", D7, 3);
    let outcome = t
        .store
        .insert_rows(std::slice::from_ref(&first))
        .await
        .unwrap();
    assert_eq!(outcome, [InsertOutcome::Created(first.clone())]);
    // A re-send is a new row value (new id, new time) with the same content.
    let resent = row("t1", "2026-11-01", D7, 3);
    let outcome = t.store.insert_rows(&[resent]).await.unwrap();
    assert_eq!(outcome, [InsertOutcome::Replayed(first.clone())]);
    let changed = row("t1", "2026-11-01", D7, 4);
    let outcome = t.store.insert_rows(&[changed]).await.unwrap();
    assert_eq!(outcome, [InsertOutcome::Conflict(first.clone())]);
    // Stored exactly as given, to the microsecond.
    let stored = t.store.get_row(&tenant("t1"), first.id).await.unwrap();
    assert_eq!(stored, Some(first));
    assert_eq!(t.database.row_count().await, 1);
    assert_eq!(t.store.insert_rows(&[]).await.unwrap(), []);
}

async fn duplicates_inside_one_batch_behave_as_if_inserted_one_by_one(backend: Backend) {
    let Some(t) = TestStore::open(backend).await else {
        return;
    };
    let a = row("t1", "2026-11-01", D7, 3);
    let b = row("t1", "2026-11-02", D7, 3);
    let elsewhere = row("t2", "2026-11-01", D7, 9);
    let batch = [
        a.clone(),
        row("t1", "2026-11-01", D7, 3),
        row("t1", "2026-11-01", D7, 9),
        b.clone(),
        elsewhere.clone(),
        row("t1", "2026-11-02", D7, 3),
    ];
    let outcomes = t.store.insert_rows(&batch).await.unwrap();
    assert_eq!(
        outcomes,
        [
            InsertOutcome::Created(a.clone()),
            InsertOutcome::Replayed(a.clone()),
            InsertOutcome::Conflict(a),
            InsertOutcome::Created(b.clone()),
            InsertOutcome::Created(elsewhere),
            InsertOutcome::Replayed(b),
        ]
    );
    assert_eq!(t.database.row_count().await, 3);
}

/// More rows than SQLite puts in one statement (64): new keys over two tenants,
/// re-sent and changed copies of stored rows, and duplicates inside the batch,
/// each answered as inserting the rows one by one would.
async fn a_batch_of_many_statements_behaves_as_if_inserted_one_by_one(backend: Backend) {
    let Some(t) = TestStore::open(backend).await else {
        return;
    };
    let day = |n: i64| (date("2026-01-01") + Duration::days(n)).to_string();
    let stored: Vec<_> = (0..10).map(|n| row("t1", &day(n), D7, n)).collect();
    t.store.insert_rows(&stored).await.unwrap();

    let fresh: Vec<_> = (0..130)
        .map(|n| row(if n % 2 == 0 { "t1" } else { "t2" }, &day(n), D30, n))
        .collect();
    let mut batch = fresh.clone();
    let mut expected: Vec<_> = fresh.iter().cloned().map(InsertOutcome::Created).collect();
    for (n, before) in stored.iter().enumerate() {
        let n = n as i64;
        // The first five re-sent as they are, the other five with other counts.
        let web = if n < 5 { n } else { n + 100 };
        batch.push(row("t1", &day(n), D7, web));
        expected.push(if n < 5 {
            InsertOutcome::Replayed(before.clone())
        } else {
            InsertOutcome::Conflict(before.clone())
        });
    }
    batch.push(row("t1", &day(0), D30, 0));
    expected.push(InsertOutcome::Replayed(fresh[0].clone()));
    batch.push(row("t2", &day(1), D30, 7));
    expected.push(InsertOutcome::Conflict(fresh[1].clone()));

    assert_eq!(t.store.insert_rows(&batch).await.unwrap(), expected);
    assert_eq!(t.database.row_count().await, 140);
}

fn period_is(period: ReportPeriod) -> Filter {
    Filter::Compare {
        property: Property::ReportPeriod,
        op: CompareOp::Eq,
        value: Literal::Period(period),
    }
}

async fn reads_are_scoped_by_tenant(backend: Backend) {
    let Some(t) = TestStore::open(backend).await else {
        return;
    };
    let ours = [
        row("t1", "2026-11-01", D7, 1),
        row("t1", "2026-11-01", D30, 2),
        row("t1", "2026-11-02", D30, 3),
    ];
    // The other tenant holds the same natural keys with other counts.
    let theirs = [
        row("t2", "2026-11-01", D7, 7),
        row("t2", "2026-11-01", D30, 8),
    ];
    t.store.insert_rows(&ours).await.unwrap();
    t.store.insert_rows(&theirs).await.unwrap();

    assert_eq!(
        t.store.get_row(&tenant("t1"), ours[0].id).await.unwrap(),
        Some(ours[0].clone())
    );
    assert_eq!(
        t.store.get_row(&tenant("t2"), ours[0].id).await.unwrap(),
        None
    );
    assert_eq!(
        t.store.get_row(&tenant("t1"), theirs[0].id).await.unwrap(),
        None
    );

    let all = RowQuery::first(100);
    assert_eq!(t.store.list_rows(&tenant("t1"), &all).await.unwrap(), ours);
    assert_eq!(
        t.store.list_rows(&tenant("t2"), &all).await.unwrap(),
        theirs
    );
    assert_eq!(t.store.list_rows(&tenant("t3"), &all).await.unwrap(), []);

    assert_eq!(t.store.count_rows(&tenant("t1"), None).await.unwrap(), 3);
    assert_eq!(t.store.count_rows(&tenant("t2"), None).await.unwrap(), 2);
    assert_eq!(t.store.count_rows(&tenant("t3"), None).await.unwrap(), 0);
    let d30 = period_is(D30);
    assert_eq!(
        t.store.count_rows(&tenant("t1"), Some(&d30)).await.unwrap(),
        2
    );
    assert_eq!(
        t.store.count_rows(&tenant("t2"), Some(&d30)).await.unwrap(),
        1
    );
    let filtered = RowQuery {
        filter: Some(d30),
        ..RowQuery::first(100)
    };
    assert_eq!(
        t.store.list_rows(&tenant("t1"), &filtered).await.unwrap(),
        ours[1..]
    );
}

async fn pages_continue_after_the_cursor(backend: Backend) {
    let Some(t) = TestStore::open(backend).await else {
        return;
    };
    let rows: Vec<_> = [(1, 50), (2, 10), (3, 30), (4, 10), (5, 40)]
        .into_iter()
        .map(|(day, web)| row("t1", &format!("2026-11-0{day}"), D90, web))
        .collect();
    t.store.insert_rows(&rows).await.unwrap();
    t.store
        .insert_rows(&[row("t2", "2026-11-03", D90, 35)])
        .await
        .unwrap();

    // Creation order, two at a time.
    let mut seen = Vec::new();
    let mut query = RowQuery::first(2);
    loop {
        let page = t.store.list_rows(&tenant("t1"), &query).await.unwrap();
        let Some(last) = page.last() else { break };
        query.after = Some(Cursor {
            keys: Vec::new(),
            last_id: last.id,
        });
        seen.extend(page);
    }
    assert_eq!(seen, rows);

    // By web descending; equal counts fall back to creation order.
    let order = vec![OrderKey {
        property: Property::Web,
        descending: true,
    }];
    let mut query = RowQuery {
        order_by: order.clone(),
        ..RowQuery::first(2)
    };
    let mut webs = Vec::new();
    loop {
        let page = t.store.list_rows(&tenant("t1"), &query).await.unwrap();
        let Some(last) = page.last() else { break };
        query.after = Some(Cursor {
            keys: vec![Literal::Int(last.counts.web.get())],
            last_id: last.id,
        });
        webs.extend(
            page.iter()
                .map(|r| (r.counts.web.get(), r.report_refresh_date)),
        );
    }
    assert_eq!(
        webs,
        [
            (50, date("2026-11-01")),
            (40, date("2026-11-05")),
            (30, date("2026-11-03")),
            (10, date("2026-11-02")),
            (10, date("2026-11-04")),
        ]
    );
}

async fn an_update_keeps_identity_and_refuses_a_taken_key(backend: Backend) {
    let Some(t) = TestStore::open(backend).await else {
        return;
    };
    let a = row("t1", "2026-11-01", D7, 3);
    let b = row("t1", "2026-11-02", D7, 3);
    let theirs = row("t2", "2026-11-05", D7, 3);
    t.store
        .insert_rows(&[a.clone(), b.clone(), theirs.clone()])
        .await
        .unwrap();
    let t1 = tenant("t1");

    let later = Utc::now() + Duration::seconds(5);
    let patch = RowPatch {
        web: Some(count(10)),
        linux: Some(None),
        chrome_os: Some(Some(count(2))),
        ..RowPatch::default()
    };
    let UpdateOutcome::Updated(updated) =
        t.store.update_row(&t1, a.id, &patch, later).await.unwrap()
    else {
        panic!("the row exists")
    };
    assert_eq!((updated.id, updated.created_at), (a.id, a.created_at));
    assert_eq!(updated.updated_at, truncate_to_micros(later));
    assert_eq!(updated.counts.web, count(10));
    assert_eq!(updated.counts.linux, None);
    assert_eq!(updated.counts.chrome_os, Some(count(2)));
    assert_eq!(updated.counts.mac, a.counts.mac);
    assert_eq!(
        t.store.get_row(&t1, a.id).await.unwrap(),
        Some(updated.clone())
    );

    // Moving onto b's key, or onto another key of the same tenant's b, conflicts.
    let onto_b = RowPatch {
        report_refresh_date: Some(date("2026-11-02")),
        ..RowPatch::default()
    };
    assert_eq!(
        t.store.update_row(&t1, a.id, &onto_b, later).await.unwrap(),
        UpdateOutcome::Conflict { existing_id: b.id }
    );
    // Another tenant's key is no obstacle; a fresh key is fine.
    let onto_theirs = RowPatch {
        report_refresh_date: Some(date("2026-11-05")),
        report_period: Some(D180),
        ..RowPatch::default()
    };
    let moved = t
        .store
        .update_row(&t1, a.id, &onto_theirs, later)
        .await
        .unwrap();
    assert!(
        matches!(moved, UpdateOutcome::Updated(ref r) if r.report_period == D180),
        "{moved:?}"
    );

    // Unknown ids and other tenants' ids are not found, and change nothing.
    for (who, id) in [
        (&t1, uuid::Uuid::now_v7()),
        (&t1, theirs.id),
        (&tenant("t2"), b.id),
    ] {
        let outcome = t.store.update_row(who, id, &patch, later).await.unwrap();
        assert_eq!(outcome, UpdateOutcome::NotFound);
    }
    assert_eq!(t.store.get_row(&t1, b.id).await.unwrap(), Some(b));
    assert_eq!(
        t.store.get_row(&tenant("t2"), theirs.id).await.unwrap(),
        Some(theirs)
    );
    assert_eq!(t.database.row_count().await, 3);
}

async fn an_update_that_changes_nothing_writes_nothing(backend: Backend) {
    let Some(t) = TestStore::open(backend).await else {
        return;
    };
    let a = row("t1", "2026-11-01", D7, 3);
    t.store.insert_rows(std::slice::from_ref(&a)).await.unwrap();
    let same = RowPatch {
        web: Some(a.counts.web),
        report_period: Some(D7),
        ..RowPatch::default()
    };
    let later = Utc::now() + Duration::seconds(5);
    for patch in [RowPatch::default(), same] {
        let outcome = t.store.update_row(&tenant("t1"), a.id, &patch, later).await;
        assert_eq!(outcome.unwrap(), UpdateOutcome::Updated(a.clone()));
    }
    assert_eq!(t.store.get_row(&tenant("t1"), a.id).await.unwrap(), Some(a));
}

async fn a_delete_removes_only_the_tenants_row(backend: Backend) {
    let Some(t) = TestStore::open(backend).await else {
        return;
    };
    let a = row("t1", "2026-11-01", D7, 3);
    let b = row("t1", "2026-11-02", D7, 3);
    t.store.insert_rows(&[a.clone(), b.clone()]).await.unwrap();
    assert!(!t.store.delete_row(&tenant("t2"), a.id).await.unwrap());
    assert!(!t
        .store
        .delete_row(&tenant("t1"), uuid::Uuid::now_v7())
        .await
        .unwrap());
    assert!(t.store.delete_row(&tenant("t1"), a.id).await.unwrap());
    assert!(!t.store.delete_row(&tenant("t1"), a.id).await.unwrap());
    assert_eq!(t.store.get_row(&tenant("t1"), a.id).await.unwrap(), None);
    assert_eq!(t.store.get_row(&tenant("t1"), b.id).await.unwrap(), Some(b));
    // The key is free again: other counts are a new row, not a conflict.
    let again = row("t1", "2026-11-01", D7, 4);
    let outcome = t
        .store
        .insert_rows(std::slice::from_ref(&again))
        .await
        .unwrap();
    assert_eq!(outcome, [InsertOutcome::Created(again)]);
    assert_eq!(t.database.row_count().await, 2);
}

async fn the_latest_row_is_per_tenant_and_period(backend: Backend) {
    let Some(t) = TestStore::open(backend).await else {
        return;
    };
    let newest_d7 = row("t1", "2026-11-03", D7, 3);
    let only_d30 = row("t1", "2026-10-01", D30, 3);
    let theirs = row("t2", "2026-11-20", D7, 3);
    t.store
        .insert_rows(&[
            row("t1", "2026-11-01", D7, 1),
            newest_d7.clone(),
            row("t1", "2026-11-02", D7, 2),
            only_d30.clone(),
            theirs.clone(),
        ])
        .await
        .unwrap();
    let latest = |name: &'static str, period| {
        let store = t.store.clone();
        async move { store.latest_row(&tenant(name), period).await.unwrap() }
    };
    assert_eq!(latest("t1", D7).await, Some(newest_d7));
    assert_eq!(latest("t1", D30).await, Some(only_d30));
    assert_eq!(latest("t1", D90).await, None);
    assert_eq!(latest("t2", D7).await, Some(theirs));
    assert_eq!(latest("t3", D7).await, None);
}
