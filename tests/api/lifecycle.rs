//! What outlives a request: rows and tokens across a restart, and a collection
//! read page by page.

use chrono::{Duration, NaiveDate, Utc};
use serde_json::{json, Value};
use teams_usage_store::auth::hash_secret;
use teams_usage_store::domain::{DistributionRow, NewDistributionRow, ReportPeriod};

use crate::common::fixtures::{device_counts, tenant};
use crate::helpers::{
    assert_graph_error, valid_row, with, Backend, TestApp, COLLECTION, READ, READ_WRITE,
};

backend_tests!(
    a_restart_keeps_rows_and_tokens,
    paging_visits_every_row_once,
    paging_defaults_to_pages_of_100,
    rows_inserted_while_paging_are_neither_skipped_nor_repeated
);

async fn a_restart_keeps_rows_and_tokens(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let reader = app.token_for("contoso", READ).await;
    let writer = app.token_for("contoso", READ_WRITE).await;
    let revoked = app.token_for("default", READ_WRITE).await;
    let revoked_id = app
        .store
        .find_token(&hash_secret(&revoked))
        .await
        .unwrap()
        .unwrap()
        .id;
    app.store
        .revoke_token(revoked_id, Utc::now())
        .await
        .unwrap();
    let ours: Value = app.post_row(&valid_row()).await.json().await.unwrap();
    let theirs: Value = app
        .post_row_as(&writer, &valid_row())
        .await
        .json()
        .await
        .unwrap();

    // `restart` also checks that no second bootstrap token is issued.
    let app = app.restart().await;

    for (token, row) in [(&app.token, &ours), (&reader, &theirs), (&writer, &theirs)] {
        let id = row["id"].as_str().unwrap();
        let response = app.get_as(token, &format!("{COLLECTION}/{id}")).await;
        assert_eq!(response.status().as_u16(), 200);
        let mut fetched: Value = response.json().await.unwrap();
        // The restarted server listens on another port; the row is the same.
        fetched["@odata.context"] = row["@odata.context"].clone();
        assert_eq!(&fetched, row);
    }
    let response = app.get_as(&revoked, COLLECTION).await;
    assert_graph_error(response, 401, "InvalidAuthenticationToken").await;
    // The natural key is still known: a re-send is a replay, other counts conflict.
    let replay = app.post_row(&valid_row()).await;
    assert_eq!(replay.status().as_u16(), 200);
    assert_eq!(replay.json::<Value>().await.unwrap()["id"], ours["id"]);
    let conflict = app.post_row(&with(valid_row(), "web", json!(0))).await;
    assert_graph_error(conflict, 409, "conflict").await;
    let tokens = app.store.list_tokens(None).await.unwrap();
    assert_eq!(tokens.len(), 4, "bootstrap, reader, writer, revoked");
    assert_eq!(app.row_count().await, 2);
}

/// `n` rows for `tenant`, one refresh date each, stored directly.
async fn seed(app: &TestApp, tenant_name: &str, n: usize) -> Vec<String> {
    let first = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
    let rows: Vec<DistributionRow> = (0..n)
        .map(|i| {
            let content = NewDistributionRow {
                report_refresh_date: first + Duration::days(i as i64),
                report_period: ReportPeriod::D30,
                counts: device_counts([i as i64, 1, 2, 3, 4, 5], None, Some(6)),
            };
            DistributionRow::create(tenant(tenant_name), content, Utc::now())
        })
        .collect();
    app.store.insert_rows(&rows).await.unwrap();
    rows.iter().map(|r| r.id.to_string()).collect()
}

/// Follows `@odata.nextLink` from `first`; every page's ids, in order.
async fn read_all_pages(app: &TestApp, first: &str) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut next = Some(app.url(first));
    while let Some(url) = next {
        assert!(pages.len() < 1000, "paging does not end");
        let response = app
            .client
            .get(&url)
            .bearer_auth(&app.token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200, "{url}");
        let page: Value = response.json().await.unwrap();
        assert!(page["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("/v1.0/$metadata#reports/teamsDeviceUsageDistributionUserCounts"));
        pages.push(
            page["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|row| row["id"].as_str().unwrap().to_owned())
                .collect(),
        );
        next = page["@odata.nextLink"].as_str().map(str::to_owned);
        if let Some(link) = &next {
            assert!(link.starts_with(&app.url(COLLECTION)), "{link}");
            assert!(link.contains("%24skiptoken=") || link.contains("$skiptoken="));
        }
    }
    pages
}

async fn paging_visits_every_row_once(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let ids = seed(&app, "default", 25).await;
    seed(&app, "contoso", 10).await;
    let pages = read_all_pages(&app, &format!("{COLLECTION}?$top=7")).await;
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(&sizes[..4], [7, 7, 7, 4]);
    assert!(sizes[4..].iter().all(|&n| n == 0), "{sizes:?}");
    // Creation order, each once, none of the other tenant's.
    assert_eq!(pages.concat(), ids);
    // A page size that divides the row count still ends.
    let pages = read_all_pages(&app, &format!("{COLLECTION}?$top=5")).await;
    assert_eq!(pages.concat(), ids);
    let pages = read_all_pages(&app, &format!("{COLLECTION}?$top=1000")).await;
    assert_eq!(pages, [ids]);
}

async fn paging_defaults_to_pages_of_100(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let ids = seed(&app, "default", 150).await;
    let pages = read_all_pages(&app, COLLECTION).await;
    assert_eq!(pages.len(), 2);
    assert_eq!(pages[0].len(), 100);
    assert_eq!(pages.concat(), ids);
    for bad in ["$top=0", "$top=1001", "$top=x", "$skiptoken=garbage"] {
        let response = app.get(&format!("{COLLECTION}?{bad}")).await;
        assert_graph_error(response, 400, "badRequest").await;
    }
}

async fn rows_inserted_while_paging_are_neither_skipped_nor_repeated(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut ids = seed(&app, "default", 10).await;
    let first: Value = app
        .get(&format!("{COLLECTION}?$top=4"))
        .await
        .json()
        .await
        .unwrap();
    // A row arrives after the first page was read.
    let late: Value = app
        .post_row(&with(valid_row(), "reportPeriod", json!("180")))
        .await
        .json()
        .await
        .unwrap();
    ids.push(late["id"].as_str().unwrap().to_owned());
    let mut seen: Vec<String> = first["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    let next = first["@odata.nextLink"].as_str().unwrap();
    let rest = read_all_pages(&app, next.strip_prefix(&app.address).unwrap()).await;
    seen.extend(rest.concat());
    assert_eq!(seen, ids);
}
