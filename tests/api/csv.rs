//! The collection as Graph CSV: `$format=text/csv` or `Accept: text/csv`,
//! every matching row with the OData options that apply, streamed a page at
//! a time.

use futures_util::StreamExt;
use teams_usage_store::domain::{ApiVersion, TenantId};
use teams_usage_store::odata::RowQuery;
use teams_usage_store::routes::rows_csv::{csv_chunks, CsvRequest};

use crate::helpers::{
    assert_graph_error, valid_row, with, Backend, TestApp, BETA_COLLECTION, COLLECTION,
};

backend_tests!(
    the_collection_downloads_as_graph_csv_with_its_options,
    csv_is_sent_a_page_at_a_time,
);

const V1_HEADER: &str =
    "Report Refresh Date,Web,Windows Phone,Android Phone,iOS,Mac,Windows,Report Period";
const BETA_HEADER: &str =
    "Report Refresh Date,Web,Windows Phone,Android Phone,iOS,Mac,Windows,Chrome OS,Linux,Report Period";

async fn store_days(app: &TestApp, days: &[(&str, &str, i64)]) {
    for (day, period, web) in days {
        let body = with(
            with(
                with(valid_row(), "reportRefreshDate", (*day).into()),
                "reportPeriod",
                (*period).into(),
            ),
            "web",
            (*web).into(),
        );
        assert_eq!(app.post_row(&body).await.status(), 201);
    }
}

/// The body's lines after checking the BOM and the content type.
async fn csv_lines(response: reqwest::Response) -> Vec<String> {
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(content_type, "text/csv; charset=utf-8");
    let body = response.bytes().await.unwrap();
    assert!(body.starts_with(b"\xEF\xBB\xBF"), "no BOM");
    let text = std::str::from_utf8(&body[3..]).unwrap();
    assert!(text.ends_with("\r\n"));
    text.split("\r\n")
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

async fn the_collection_downloads_as_graph_csv_with_its_options(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    store_days(
        &app,
        &[
            ("2026-11-01", "7", 1),
            ("2026-11-02", "7", 2),
            ("2026-11-03", "30", 3),
            ("2026-11-04", "7", 4),
        ],
    )
    .await;
    let get = |path: String| app.request(reqwest::Method::GET, &path);

    let all = csv_lines(
        get(format!("{COLLECTION}?$format=text/csv"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(all.len(), 5, "{all:?}");
    assert_eq!(all[0], V1_HEADER);
    assert_eq!(all[1], "2026-11-01,1,12,12,3,3,7,7");

    let beta = csv_lines(
        get(format!("{BETA_COLLECTION}?$format=text/csv"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(beta[0], BETA_HEADER);
    assert_eq!(beta[1], "2026-11-01,1,12,12,3,3,7,,,7");

    // Accept alone, with the options that apply.
    let filtered = csv_lines(
        get(format!(
            "{COLLECTION}?$filter=reportPeriod%20eq%20'7'&$orderby=reportRefreshDate%20desc&$skip=1&$top=2"
        ))
        .header("Accept", "text/csv")
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(
        filtered,
        [
            V1_HEADER,
            "2026-11-02,2,12,12,3,3,7,7",
            "2026-11-01,1,12,12,3,3,7,7"
        ]
    );

    // No row matching: the header alone.
    let none = csv_lines(
        get(format!(
            "{COLLECTION}?$format=text/csv&$filter=web%20gt%20100"
        ))
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(none, [V1_HEADER]);

    // JSON stays the default, Accept: application/json too.
    let json = get(COLLECTION.into())
        .header("Accept", "application/json, text/csv;q=0.5")
        .send()
        .await
        .unwrap();
    assert!(json.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));

    let explicit = get(format!("{COLLECTION}?$format=application/json&$top=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(explicit.status(), 200);
    assert!(explicit.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));

    for (query, status, code) in [
        ("$format=json", 406, "notAcceptable"),
        ("$format=text/csv&$select=web", 400, "badRequest"),
        ("$format=text/csv&$count=true", 400, "badRequest"),
        ("$format=text/csv&$top=0", 400, "badRequest"),
        ("$format=application/xml", 406, "notAcceptable"),
    ] {
        let response = get(format!("{COLLECTION}?{query}")).send().await.unwrap();
        assert_graph_error(response, status, code).await;
    }
}

/// Storage is read a page at a time and each page is its own chunk: the file
/// never sits whole in memory. Shown with pages of 2 rows over 5 rows.
async fn csv_is_sent_a_page_at_a_time(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    store_days(
        &app,
        &[
            ("2026-11-01", "7", 1),
            ("2026-11-02", "7", 2),
            ("2026-11-03", "7", 3),
            ("2026-11-04", "7", 4),
            ("2026-11-05", "7", 5),
        ],
    )
    .await;
    let request = CsvRequest {
        query: RowQuery::first(0),
        top: None,
        version: ApiVersion::V1,
    };
    let chunks: Vec<_> = csv_chunks(
        app.store.clone(),
        TenantId::parse("default").unwrap(),
        request,
        2,
    )
    .collect()
    .await;
    let chunks: Vec<_> = chunks.into_iter().map(Result::unwrap).collect();
    // BOM and header, then pages of 2, 2 and 1 rows.
    let rows_per_chunk: Vec<usize> = chunks[1..]
        .iter()
        .map(|c| c.split(|b| *b == b'\n').filter(|l| !l.is_empty()).count())
        .collect();
    assert_eq!(rows_per_chunk, [2, 2, 1]);
    let whole: Vec<u8> = chunks.concat();
    let download = app
        .request(
            reqwest::Method::GET,
            &format!("{COLLECTION}?$format=text/csv"),
        )
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(whole, download.to_vec());

    // $top across pages: 3 rows with pages of 2.
    let request = CsvRequest {
        query: RowQuery::first(0),
        top: Some(3),
        version: ApiVersion::V1,
    };
    let chunks: Vec<_> = csv_chunks(
        app.store.clone(),
        TenantId::parse("default").unwrap(),
        request,
        2,
    )
    .collect()
    .await;
    let text: String = chunks
        .into_iter()
        .map(|c| String::from_utf8(c.unwrap().to_vec()).unwrap())
        .collect();
    assert_eq!(text.matches("\r\n").count(), 4, "{text}");
}
