//! `$orderby`, `$top`, `$skip` and keyset paging through `@odata.nextLink`.

use std::collections::HashSet;

use chrono::{Duration, NaiveDate, Utc};
use serde_json::{json, Value};
use teams_usage_store::domain::{DistributionRow, NewDistributionRow, ReportPeriod};

use super::{follow, ids, page, seed_fixture, sorted_ids};
use crate::common::fixtures::{device_counts, tenant};
use crate::helpers::{valid_row, Backend, TestApp};

backend_tests!(
    orderby_sorts_by_several_keys_including_nullable_ones,
    skip_and_top_cut_the_first_page_and_the_link_drops_skip,
    paging_250_rows_while_inserting_visits_each_once
);

async fn orderby_sorts_by_several_keys_including_nullable_ones(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let rows = seed_fixture(&app).await;
    for (orderby, keys) in [
        ("reportPeriod desc", vec![("reportPeriod", true)]),
        (
            "reportPeriod,reportRefreshDate desc",
            vec![("reportPeriod", false), ("reportRefreshDate", true)],
        ),
        (
            "chromeOS desc,reportPeriod desc",
            vec![("chromeOS", true), ("reportPeriod", true)],
        ),
        ("linux asc, ios DESC", vec![("linux", false), ("ios", true)]),
        (
            "ios,linux desc,web",
            vec![("ios", false), ("linux", true), ("web", false)],
        ),
        ("windowsPhone", vec![("windowsPhone", false)]),
        ("id desc", vec![("id", true)]),
    ] {
        let body = page(&app, &[("$orderby", orderby)]).await;
        assert_eq!(ids(&body), sorted_ids(&rows, &keys), "$orderby={orderby}");
    }
    // Periods sort as numbers, not as the strings they are in JSON.
    let body = page(&app, &[("$orderby", "reportPeriod desc"), ("$top", "12")]).await;
    let periods: Vec<&str> = body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reportPeriod"].as_str().unwrap())
        .collect();
    assert_eq!(&periods[..3], ["180", "180", "180"]);
    assert_eq!(&periods[9..], ["7", "7", "7"]);
    // Nulls come first ascending and last descending.
    let body = page(&app, &[("$orderby", "chromeOS"), ("$select", "chromeOS")]).await;
    let first: Vec<&Value> = body["value"].as_array().unwrap()[..4]
        .iter()
        .map(|r| &r["chromeOS"])
        .collect();
    assert!(first.iter().all(|v| v.is_null()), "{body}");
}

async fn skip_and_top_cut_the_first_page_and_the_link_drops_skip(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let rows = seed_fixture(&app).await;
    let by_web = sorted_ids(&rows, &[("web", false)]);
    let first = page(&app, &[("$orderby", "web"), ("$skip", "3"), ("$top", "4")]).await;
    assert_eq!(ids(&first), by_web[3..7]);
    let link = first["@odata.nextLink"].as_str().unwrap();
    assert!(!link.to_lowercase().contains("$skip="), "{link}");
    assert!(link.contains("$orderby=web"), "{link}");
    assert!(link.contains("$top=4"), "{link}");
    let second = follow(&app, link).await;
    assert_eq!(ids(&second), by_web[7..11]);
    let third = follow(&app, second["@odata.nextLink"].as_str().unwrap()).await;
    assert_eq!(ids(&third), by_web[11..]);
    // The last page links nowhere, also when it is exactly full.
    assert!(third.get("@odata.nextLink").is_none(), "{third}");
    let exact = page(&app, &[("$top", "12")]).await;
    assert_eq!(ids(&exact).len(), 12);
    assert!(exact.get("@odata.nextLink").is_none(), "{exact}");
    // Skipping past the end is an empty page.
    let past = page(&app, &[("$skip", "12")]).await;
    assert_eq!(ids(&past), Vec::<String>::new());
    assert!(past.get("@odata.nextLink").is_none());
}

/// 250 rows stored directly, with many ties in `web` and nulls in `linux`.
async fn seed_many(app: &TestApp) {
    let first = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let rows: Vec<DistributionRow> = (0..250i64)
        .map(|i| {
            let content = NewDistributionRow {
                report_refresh_date: first + Duration::days(i / 4),
                report_period: ReportPeriod::ALL[(i % 4) as usize],
                counts: device_counts(
                    [i % 7, 1, 2, i % 3, 4, 5],
                    None,
                    (i % 5 != 0).then_some(i % 11),
                ),
            };
            DistributionRow::create(tenant("default"), content, Utc::now())
        })
        .collect();
    app.store.insert_rows(&rows).await.unwrap();
}

async fn paging_250_rows_while_inserting_visits_each_once(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    seed_many(&app).await;
    let mut inserted = 0i64;
    for options in [
        vec![
            ("$filter", "mac ge 0"),
            ("$orderby", "web desc,linux"),
            ("$top", "40"),
            ("$count", "true"),
        ],
        vec![("$top", "100")],
        vec![
            ("$orderby", "reportRefreshDate desc,reportPeriod"),
            ("$top", "33"),
        ],
        vec![
            ("$orderby", "linux desc"),
            ("$top", "17"),
            ("$select", "id,web"),
        ],
    ] {
        // Everything that exists when paging starts must be visited.
        let mut everything = options.clone();
        everything.retain(|(name, _)| *name != "$top" && *name != "$select");
        everything.push(("$top", "1000"));
        let at_start: HashSet<String> = ids(&page(&app, &everything).await).into_iter().collect();
        assert!(at_start.len() >= 250);

        let mut seen: Vec<String> = Vec::new();
        let mut body = page(&app, &options).await;
        loop {
            seen.extend(ids(&body));
            if options.iter().any(|(name, _)| *name == "$count") {
                assert!(body["@odata.count"].as_u64().unwrap() >= 250, "{body}");
            }
            let Some(link) = body["@odata.nextLink"].as_str().map(str::to_owned) else {
                break;
            };
            for (name, value) in &options {
                let kept = format!("{name}=");
                assert!(link.contains(&kept), "{link} keeps {name}={value}");
            }
            // Rows that sort anywhere, before and after the cursor, arrive between pages.
            for web in [0, 3, 6] {
                inserted += 1;
                let date = NaiveDate::from_ymd_opt(2022, 1, 1).unwrap() + Duration::days(inserted);
                let row = json!({"reportRefreshDate": date.to_string(), "web": web, "linux": inserted % 4});
                let mut body = valid_row();
                body.as_object_mut()
                    .unwrap()
                    .extend(row.as_object().unwrap().clone());
                assert_eq!(app.post_row(&body).await.status().as_u16(), 201);
            }
            body = follow(&app, &link).await;
            assert!(seen.len() < 2000, "paging does not end");
        }
        let unique: HashSet<String> = seen.iter().cloned().collect();
        assert_eq!(
            unique.len(),
            seen.len(),
            "{options:?}: a row was visited twice"
        );
        let missed: Vec<&String> = at_start.difference(&unique).collect();
        assert!(missed.is_empty(), "{options:?}: missed {missed:?}");
    }
}
