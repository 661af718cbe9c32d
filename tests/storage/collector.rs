//! `CollectorStore`: the Graph collector's runs and its lease.

use chrono::{Duration, Utc};
use teams_usage_store::domain::{truncate_to_micros, ReportPeriod};
use teams_usage_store::storage::CollectionRun;
use uuid::Uuid;

use crate::common::fixtures::tenant;
use crate::common::Backend;
use crate::TestStore;

backend_tests!(
    the_newest_run_of_each_source_and_period_is_listed_with_its_last_success,
    runs_are_listed_for_their_target_tenant,
    a_lease_is_taken_by_one_holder_until_it_expires
);

fn run(
    source: &str,
    tenant_name: &str,
    period: ReportPeriod,
    minutes_ago: i64,
    error: Option<&str>,
) -> CollectionRun {
    let started_at = truncate_to_micros(Utc::now() - Duration::minutes(minutes_ago));
    CollectionRun {
        id: Uuid::now_v7(),
        source: source.into(),
        target_tenant: tenant(tenant_name),
        period,
        started_at,
        finished_at: started_at + Duration::seconds(2),
        created: 1,
        already_stored: 2,
        conflicting: 3,
        error: error.map(str::to_owned),
    }
}

async fn the_newest_run_of_each_source_and_period_is_listed_with_its_last_success(
    backend: Backend,
) {
    let Some(t) = TestStore::open(backend).await else {
        return;
    };
    let success = run("contoso", "default", ReportPeriod::D7, 30, None);
    let failure = run(
        "contoso",
        "default",
        ReportPeriod::D7,
        20,
        Some("throttled"),
    );
    let other_period = run(
        "contoso",
        "default",
        ReportPeriod::D30,
        20,
        Some("throttled"),
    );
    for r in [&success, &failure, &other_period] {
        t.store.record_collection_run(r).await.unwrap();
    }
    let statuses = t.store.latest_collection_runs(None).await.unwrap();
    assert_eq!(statuses.len(), 2);
    assert_eq!(statuses[0].last_run, failure);
    assert_eq!(statuses[0].last_success, Some(success.finished_at));
    assert_eq!(statuses[0].failures_since_success, 1);
    assert_eq!(statuses[1].last_run, other_period);
    assert_eq!(statuses[1].last_success, None);
    assert_eq!(statuses[1].failures_since_success, 1);
}

async fn runs_are_listed_for_their_target_tenant(backend: Backend) {
    let Some(t) = TestStore::open(backend).await else {
        return;
    };
    let contoso = run("contoso", "contoso", ReportPeriod::D7, 5, None);
    let fabrikam = run("fabrikam", "fabrikam", ReportPeriod::D7, 5, None);
    for r in [&contoso, &fabrikam] {
        t.store.record_collection_run(r).await.unwrap();
    }
    let only = t
        .store
        .latest_collection_runs(Some(&tenant("fabrikam")))
        .await
        .unwrap();
    assert_eq!(only.len(), 1);
    assert_eq!(only[0].last_run, fabrikam);
    assert_eq!(t.store.latest_collection_runs(None).await.unwrap().len(), 2);
}

async fn a_lease_is_taken_by_one_holder_until_it_expires(backend: Backend) {
    let Some(t) = TestStore::open(backend).await else {
        return;
    };
    let now = Utc::now();
    let until = now + Duration::minutes(10);
    assert!(t
        .store
        .take_lease("collect", "a", now, until)
        .await
        .unwrap());
    // Held: nobody takes it, its holder neither (one run per interval).
    let later = now + Duration::minutes(5);
    assert!(!t
        .store
        .take_lease("collect", "b", later, later + Duration::minutes(10))
        .await
        .unwrap());
    assert!(!t
        .store
        .take_lease("collect", "a", later, later + Duration::minutes(10))
        .await
        .unwrap());
    // Another lease is another name.
    assert!(t
        .store
        .take_lease("other", "b", later, until)
        .await
        .unwrap());
    // Expired (its holder died mid-run): the next replica takes over.
    let after = until + Duration::seconds(1);
    assert!(t
        .store
        .take_lease("collect", "b", after, after + Duration::minutes(10))
        .await
        .unwrap());
    assert!(!t
        .store
        .take_lease("collect", "a", after, after + Duration::minutes(10))
        .await
        .unwrap());

    // Racing for a free lease: exactly one of many wins.
    let race_at = after + Duration::minutes(11);
    let attempts = (0..8).map(|i| {
        let store = t.store.clone();
        tokio::spawn(async move {
            store
                .take_lease(
                    "collect",
                    &format!("r{i}"),
                    race_at,
                    race_at + Duration::minutes(10),
                )
                .await
                .unwrap()
        })
    });
    let mut won = 0;
    for attempt in attempts.collect::<Vec<_>>() {
        won += usize::from(attempt.await.unwrap());
    }
    assert_eq!(won, 1);
}
