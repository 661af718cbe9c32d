//! A page costs what it returns, whatever the tenant's history: every page of
//! the default order (and of the orders led by the refresh date) is read as a
//! range of an index, and the default order sorts nothing. Checked on the plan
//! the database chooses for the very query `list_rows` sends, and on the rows
//! that query returns page after page.

use std::cmp::Ordering;

use chrono::{Duration, NaiveDate};
use teams_usage_store::domain::{DistributionRow, Property, ReportPeriod};
use teams_usage_store::odata::{Cursor, OrderKey, RowQuery};

use crate::common::fixtures::{row, tenant};
use crate::common::Backend;
use crate::TestStore;

backend_tests!(
    default_order_pages_are_index_ranges_without_a_sort,
    date_led_pages_read_each_period_as_a_range,
    every_order_pages_through_every_row_once
);

/// Dates per period in the large tenant: four periods, 10,000 rows.
const DATES: i64 = 2500;

fn day(n: i64) -> String {
    (NaiveDate::from_ymd_opt(2010, 1, 1).unwrap() + Duration::days(n)).to_string()
}

/// `DATES` dates x 4 periods for tenant `big` (dates stored out of id order:
/// newest first) and a smaller tenant beside it, stored; planner statistics on
/// Postgres, where a table without them may be read any way. SQLite's are
/// left absent, as the service never makes them.
async fn large_tenant(t: &TestStore) -> Vec<DistributionRow> {
    let mut rows = Vec::new();
    for n in (0..DATES).rev() {
        for period in ReportPeriod::ALL {
            rows.push(row("big", &day(n), period, n % 17));
        }
    }
    for chunk in rows.chunks(2000) {
        t.store.insert_rows(chunk).await.unwrap();
    }
    let small: Vec<_> = (0..500)
        .map(|n| row("small", &day(n), ReportPeriod::D7, n))
        .collect();
    t.store.insert_rows(&small).await.unwrap();
    if t.database.backend == Backend::Postgres {
        t.database
            .execute("ANALYZE teams_device_usage_distribution_user_counts")
            .await;
    }
    rows
}

/// The API's order: each key in its direction (a null count first ascending),
/// then the id ascending.
fn compare(order: &[OrderKey], a: &DistributionRow, b: &DistributionRow) -> Ordering {
    for key in order {
        let by = match key.property {
            Property::Id => a.id.cmp(&b.id),
            Property::ReportRefreshDate => a.report_refresh_date.cmp(&b.report_refresh_date),
            Property::ReportPeriod => a.report_period.days().cmp(&b.report_period.days()),
            count => a
                .counts
                .get(count)
                .map(|c| c.get())
                .cmp(&b.counts.get(count).map(|c| c.get())),
        };
        let by = if key.descending { by.reverse() } else { by };
        if by != Ordering::Equal {
            return by;
        }
    }
    a.id.cmp(&b.id)
}

fn sorted(rows: &[DistributionRow], order: &[OrderKey]) -> Vec<DistributionRow> {
    let mut rows = rows.to_vec();
    rows.sort_by(|a, b| compare(order, a, b));
    rows
}

fn key(property: Property, descending: bool) -> OrderKey {
    OrderKey {
        property,
        descending,
    }
}

/// Plan nodes that sort (not their `Sort Key:` detail lines).
fn sorts(plan: &[String]) -> usize {
    plan.iter()
        .filter(|line| {
            let node = line.trim().trim_start_matches("->").trim();
            node.contains("TEMP B-TREE") || node == "Sort" || node == "Incremental Sort"
        })
        .count()
}

/// Plan lines that read the rows table whole rather than a range of a key.
fn full_scans(plan: &[String]) -> Vec<&String> {
    plan.iter()
        .filter(|line| {
            line.contains("SCAN teams_device_usage_distribution_user_counts")
                || line.contains("Seq Scan")
                || line.contains("Bitmap Heap Scan")
        })
        .collect()
}

async fn default_order_pages_are_index_ranges_without_a_sort(backend: Backend) {
    let Some(t) = TestStore::open(backend).await else {
        return;
    };
    let rows = large_tenant(&t).await;
    let in_order = sorted(&rows, &[]);
    let big = tenant("big");

    let first = RowQuery::first(100);
    let deep = RowQuery {
        after: Some(Cursor::after(&[], &in_order[8000])),
        ..RowQuery::first(100)
    };
    assert_eq!(
        t.store.list_rows(&big, &first).await.unwrap(),
        in_order[..100]
    );
    assert_eq!(
        t.store.list_rows(&big, &deep).await.unwrap(),
        in_order[8001..8101]
    );

    for (query, after) in [(&first, false), (&deep, true)] {
        let plan = t.store.explain_page(&big, query).await.unwrap();
        assert_eq!(sorts(&plan), 0, "a sort in {plan:#?}");
        assert!(full_scans(&plan).is_empty(), "a full scan in {plan:#?}");
        let range = match (backend, after) {
            (Backend::Sqlite, false) => "USING INDEX teams_device_usage_tenant_id (tenant_id=?)",
            (Backend::Sqlite, true) => {
                "USING INDEX teams_device_usage_tenant_id (tenant_id=? AND id>?)"
            }
            (Backend::Postgres, _) => {
                "Index Scan using teams_device_usage_distribution_user_counts_pkey"
            }
        };
        assert!(
            plan.iter().any(|line| line.contains(range)),
            "{range} not in {plan:#?}"
        );
        if backend == Backend::Postgres {
            let condition = plan
                .iter()
                .find(|line| line.contains("Index Cond"))
                .unwrap_or_else(|| panic!("no index condition in {plan:#?}"));
            assert!(condition.contains("tenant_id = "), "{plan:#?}");
            assert_eq!(condition.contains("id > "), after, "{plan:#?}");
        }
    }
}

async fn date_led_pages_read_each_period_as_a_range(backend: Backend) {
    let Some(t) = TestStore::open(backend).await else {
        return;
    };
    let rows = large_tenant(&t).await;
    let big = tenant("big");

    for descending in [false, true] {
        let order = vec![key(Property::ReportRefreshDate, descending)];
        let in_order = sorted(&rows, &order);
        let deep = RowQuery {
            order_by: order.clone(),
            after: Some(Cursor::after(&order, &in_order[6001])),
            ..RowQuery::first(100)
        };
        assert_eq!(
            t.store.list_rows(&big, &deep).await.unwrap(),
            in_order[6002..6102]
        );
        let plan = t.store.explain_page(&big, &deep).await.unwrap();
        assert!(full_scans(&plan).is_empty(), "a full scan in {plan:#?}");
        // One range of the natural key per period, each at most a page long;
        // the sorts order those short lists (SQLite sorts each, then merges
        // them; Postgres merges them, then orders rows of the same date by id).
        let ranges = plan
            .iter()
            .filter(|line| match backend {
                Backend::Sqlite => line.contains(
                    "USING PRIMARY KEY (tenant_id=? AND report_period=? AND report_refresh_date",
                ),
                Backend::Postgres => line.contains("using teams_device_usage_natural_key"),
            })
            .count();
        assert_eq!(ranges, 4, "{plan:#?}");
        let most = match backend {
            Backend::Sqlite => 4,
            Backend::Postgres => 1,
        };
        assert!(sorts(&plan) <= most, "{plan:#?}");
        if backend == Backend::Postgres {
            assert_eq!(
                plan.iter().filter(|line| line.contains("Limit")).count(),
                5,
                "each period's range is limited: {plan:#?}"
            );
        }
    }

    // The natural key's own order: one range, no sort at all.
    let order = vec![
        key(Property::ReportPeriod, true),
        key(Property::ReportRefreshDate, true),
    ];
    let in_order = sorted(&rows, &order);
    let deep = RowQuery {
        order_by: order.clone(),
        after: Some(Cursor::after(&order, &in_order[7000])),
        ..RowQuery::first(100)
    };
    assert_eq!(
        t.store.list_rows(&big, &deep).await.unwrap(),
        in_order[7001..7101]
    );
    let plan = t.store.explain_page(&big, &deep).await.unwrap();
    assert_eq!(sorts(&plan), 0, "a sort in {plan:#?}");
    assert!(full_scans(&plan).is_empty(), "a full scan in {plan:#?}");
}

async fn every_order_pages_through_every_row_once(backend: Backend) {
    let Some(t) = TestStore::open(backend).await else {
        return;
    };
    // Equal dates across periods, equal counts, and null counts, so every
    // tie-break is exercised; the other tenant's rows never show.
    let mut rows = Vec::new();
    for n in 0..30 {
        for period in ReportPeriod::ALL {
            let mut r = row(
                "t",
                &day(n * 2 + i64::from(period.days() % 2)),
                period,
                n % 4,
            );
            if n % 3 == 0 {
                r.counts.linux = None;
            }
            rows.push(r);
        }
    }
    t.store.insert_rows(&rows).await.unwrap();
    t.store
        .insert_rows(&[row("other", &day(3), ReportPeriod::D7, 1)])
        .await
        .unwrap();

    use Property::{Id, Linux, ReportPeriod as Period, ReportRefreshDate as Date, Web};
    let orders: Vec<Vec<OrderKey>> = vec![
        vec![],
        vec![key(Id, true)],
        vec![key(Date, false)],
        vec![key(Date, true)],
        vec![key(Date, true), key(Web, false)],
        vec![key(Date, false), key(Period, true)],
        vec![key(Period, false)],
        vec![key(Period, false), key(Date, true)],
        vec![key(Period, true), key(Date, true)],
        vec![key(Web, true)],
        vec![key(Linux, false), key(Date, true)],
    ];
    for order in orders {
        for (top, skip) in [(7, 0), (1, 0), (13, 5)] {
            let mut seen = Vec::new();
            let mut query = RowQuery {
                order_by: order.clone(),
                skip,
                ..RowQuery::first(top)
            };
            loop {
                let page = t.store.list_rows(&tenant("t"), &query).await.unwrap();
                let Some(last) = page.last() else { break };
                query.after = Some(Cursor::after(&order, last));
                query.skip = 0;
                seen.extend(page);
            }
            let expected = sorted(&rows, &order);
            assert_eq!(
                seen,
                expected[skip as usize..],
                "order {order:?}, $top={top}, $skip={skip}"
            );
        }
    }
}
