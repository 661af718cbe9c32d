//! The report function `getTeamsDeviceUsageDistributionUserCounts(period='D7')`.
//! What it refuses is in `report/refusals.rs`; Int64 output under
//! `IEEE754Compatible=true`, on every JSON route, in `report/ieee754.rs`.

mod ieee754;
mod refusals;

use reqwest::Response;
use serde_json::{json, Value};

use crate::helpers::{valid_row, with, Backend, TestApp, READ_WRITE};

backend_tests!(
    csv_under_v1_is_the_latest_row_in_8_columns,
    csv_under_beta_has_chrome_os_and_linux,
    nothing_stored_is_the_header_alone,
    json_is_a_graph_collection,
    every_period_has_its_own_latest_row,
    the_call_may_be_namespaced_and_percent_encoded,
    the_sdk_request_gets_the_csv,
    other_tenants_rows_stay_out_of_the_report,
);

const V1_HEADER: &str =
    "Report Refresh Date,Web,Windows Phone,Android Phone,iOS,Mac,Windows,Report Period";
const BETA_HEADER: &str = "Report Refresh Date,Web,Windows Phone,Android Phone,iOS,Mac,Windows,Chrome OS,Linux,Report Period";
const BOM: &[u8] = b"\xEF\xBB\xBF";

pub(super) fn report(base: &str, period: &str) -> String {
    format!("/{base}/reports/getTeamsDeviceUsageDistributionUserCounts(period='{period}')")
}

/// The CSV's lines after checking the BOM and the CRLF line ends.
pub(super) async fn csv_lines(response: Response) -> Vec<String> {
    assert_eq!(response.status().as_u16(), 200);
    let bytes = response.bytes().await.unwrap();
    assert!(bytes.starts_with(BOM), "no byte-order mark: {bytes:?}");
    let text = std::str::from_utf8(&bytes[BOM.len()..]).unwrap();
    assert!(text.ends_with("\r\n"), "{text:?}");
    text.split_terminator("\r\n").map(str::to_owned).collect()
}

pub(super) fn content_type(response: &Response) -> String {
    response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned()
}

pub(super) async fn store(app: &TestApp, body: Value) {
    assert_eq!(app.post_row(&body).await.status().as_u16(), 201, "{body}");
}

pub(super) fn row_on(date: &str, period: &str, web: i64) -> Value {
    with(
        with(
            with(valid_row(), "reportRefreshDate", json!(date)),
            "reportPeriod",
            json!(period),
        ),
        "web",
        json!(web),
    )
}

async fn csv_under_v1_is_the_latest_row_in_8_columns(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    store(&app, row_on("2026-11-01", "7", 1)).await;
    store(&app, row_on("2026-11-03", "7", 3)).await;
    store(&app, row_on("2026-11-02", "7", 2)).await;
    store(&app, row_on("2026-11-20", "30", 30)).await;
    for query in ["", "?$format=text/csv", "?$format=text%2Fcsv"] {
        let response = app.get(&format!("{}{query}", report("v1.0", "D7"))).await;
        assert_eq!(
            content_type(&response),
            "text/csv; charset=utf-8",
            "{query}"
        );
        assert!(response.headers().contains_key("request-id"));
        assert_eq!(
            csv_lines(response).await,
            [V1_HEADER, "2026-11-03,3,12,12,3,3,7,7"],
            "{query}"
        );
    }
}

async fn csv_under_beta_has_chrome_os_and_linux(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    store(
        &app,
        with(row_on("2026-11-03", "90", 5), "chromeOS", json!(9)),
    )
    .await;
    let lines = csv_lines(app.get(&report("beta", "D90")).await).await;
    assert_eq!(lines, [BETA_HEADER, "2026-11-03,5,12,12,3,3,7,9,,90"]);
    // The same row under /v1.0 leaves the two newer columns out.
    let lines = csv_lines(app.get(&report("v1.0", "D90")).await).await;
    assert_eq!(lines, [V1_HEADER, "2026-11-03,5,12,12,3,3,7,90"]);
}

async fn nothing_stored_is_the_header_alone(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    // A row for another period is not this period's report.
    store(&app, row_on("2026-11-03", "30", 5)).await;
    assert_eq!(
        csv_lines(app.get(&report("v1.0", "D7")).await).await,
        [V1_HEADER]
    );
    assert_eq!(
        csv_lines(app.get(&report("beta", "D7")).await).await,
        [BETA_HEADER]
    );
    let response = app
        .get(&format!(
            "{}?$format=application/json",
            report("beta", "D180")
        ))
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["value"], json!([]));
}

async fn json_is_a_graph_collection(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    store(&app, row_on("2026-11-01", "7", 1)).await;
    let latest: Value = app
        .post_row(&with(row_on("2026-11-04", "7", 4), "linux", json!(6)))
        .await
        .json()
        .await
        .unwrap();
    for base in ["v1.0", "beta"] {
        let response = app
            .get(&format!("{}?$format=application/json", report(base, "D7")))
            .await;
        assert_eq!(response.status().as_u16(), 200);
        assert!(content_type(&response).contains("IEEE754Compatible=false"));
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body["@odata.context"],
            format!(
                "{}/{base}/$metadata#Collection(microsoft.graph.teamsDeviceUsageDistributionUserCounts)",
                app.address
            )
        );
        let value = body["value"].as_array().unwrap();
        assert_eq!(value.len(), 1);
        let mut expected = latest.clone();
        expected.as_object_mut().unwrap().remove("@odata.context");
        assert_eq!(value[0], expected);
        assert_eq!(value[0]["web"], 4);
        assert_eq!(value[0]["linux"], 6);
    }
}

async fn every_period_has_its_own_latest_row(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for (i, days) in ["7", "30", "90", "180"].into_iter().enumerate() {
        store(&app, row_on("2026-11-01", days, 100 + i as i64)).await;
        store(&app, row_on(&format!("2026-11-1{i}"), days, i as i64)).await;
    }
    for (i, (period, days)) in [("D7", "7"), ("D30", "30"), ("D90", "90"), ("D180", "180")]
        .into_iter()
        .enumerate()
    {
        let lines = csv_lines(app.get(&report("v1.0", period)).await).await;
        assert_eq!(
            lines[1],
            format!("2026-11-1{i},{i},12,12,3,3,7,{days}"),
            "{period}"
        );
    }
}

async fn the_call_may_be_namespaced_and_percent_encoded(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    store(&app, row_on("2026-11-03", "30", 3)).await;
    for path in [
        "/v1.0/reports/microsoft.graph.getTeamsDeviceUsageDistributionUserCounts(period='D30')",
        "/v1.0/reports/getTeamsDeviceUsageDistributionUserCounts(period=%27D30%27)",
        "/v1.0/reports/getTeamsDeviceUsageDistributionUserCounts%28period%3D%27D30%27%29",
        "/v1.0/reports/microsoft.graph.getTeamsDeviceUsageDistributionUserCounts(period=%27D30%27)",
    ] {
        let lines = csv_lines(app.get(path).await).await;
        assert_eq!(lines, [V1_HEADER, "2026-11-03,3,12,12,3,3,7,30"], "{path}");
    }
}

async fn the_sdk_request_gets_the_csv(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    store(&app, row_on("2026-11-03", "7", 3)).await;
    // What msgraph-sdk-python/-go/-dotnet send for this function.
    let response = app
        .client
        .get(app.url(&report("v1.0", "D7")))
        .bearer_auth(&app.token)
        .header("Accept", "application/octet-stream, application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(content_type(&response), "application/octet-stream");
    assert_eq!(
        csv_lines(response).await,
        [V1_HEADER, "2026-11-03,3,12,12,3,3,7,7"]
    );
    // A client that only takes JSON gets the JSON form.
    let response = app
        .client
        .get(app.url(&report("v1.0", "D7")))
        .bearer_auth(&app.token)
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert!(content_type(&response).starts_with("application/json"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["value"][0]["web"], 3);
}

async fn other_tenants_rows_stay_out_of_the_report(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    store(&app, row_on("2026-11-03", "7", 3)).await;
    let other = app.token_for("contoso", READ_WRITE).await;
    let lines = csv_lines(app.get_as(&other, &report("v1.0", "D7")).await).await;
    assert_eq!(lines, [V1_HEADER]);
    // Their own, older row is their latest, even with a newer one in another tenant.
    let response = app
        .post_row_as(&other, &row_on("2026-11-01", "7", 11))
        .await;
    assert_eq!(response.status().as_u16(), 201);
    let lines = csv_lines(app.get_as(&other, &report("v1.0", "D7")).await).await;
    assert_eq!(lines[1], "2026-11-01,11,12,12,3,3,7,7");
    let lines = csv_lines(app.get(&report("v1.0", "D7")).await).await;
    assert_eq!(lines[1], "2026-11-03,3,12,12,3,3,7,7");
}
