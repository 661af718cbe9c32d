//! The report function `getTeamsDeviceUsageDistributionUserCounts(period='D7')`,
//! and Int64 output under `IEEE754Compatible=true` on every JSON route.

use reqwest::Response;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{
    assert_graph_error, valid_row, with, Backend, TestApp, BETA_COLLECTION, COLLECTION, READ,
    READ_WRITE,
};

backend_tests!(
    csv_under_v1_is_the_latest_row_in_8_columns,
    csv_under_beta_has_chrome_os_and_linux,
    nothing_stored_is_the_header_alone,
    json_is_a_graph_collection,
    every_period_has_its_own_latest_row,
    the_call_may_be_namespaced_and_percent_encoded,
    the_sdk_request_gets_the_csv,
    bad_periods_and_malformed_calls_are_400,
    other_function_names_are_404,
    formats_it_cannot_produce_are_406,
    other_tenants_rows_stay_out_of_the_report,
    reading_needs_a_valid_token_and_only_read_scope,
    other_methods_on_the_function_are_405,
    every_json_route_writes_int64_as_strings_when_asked,
);

const V1_HEADER: &str =
    "Report Refresh Date,Web,Windows Phone,Android Phone,iOS,Mac,Windows,Report Period";
const BETA_HEADER: &str = "Report Refresh Date,Web,Windows Phone,Android Phone,iOS,Mac,Windows,Chrome OS,Linux,Report Period";
const BOM: &[u8] = b"\xEF\xBB\xBF";

fn report(base: &str, period: &str) -> String {
    format!("/{base}/reports/getTeamsDeviceUsageDistributionUserCounts(period='{period}')")
}

/// The CSV's lines after checking the BOM and the CRLF line ends.
async fn csv_lines(response: Response) -> Vec<String> {
    assert_eq!(response.status().as_u16(), 200);
    let bytes = response.bytes().await.unwrap();
    assert!(bytes.starts_with(BOM), "no byte-order mark: {bytes:?}");
    let text = std::str::from_utf8(&bytes[BOM.len()..]).unwrap();
    assert!(text.ends_with("\r\n"), "{text:?}");
    text.split_terminator("\r\n").map(str::to_owned).collect()
}

fn content_type(response: &Response) -> String {
    response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned()
}

async fn store(app: &TestApp, body: Value) {
    assert_eq!(app.post_row(&body).await.status().as_u16(), 201, "{body}");
}

fn row_on(date: &str, period: &str, web: i64) -> Value {
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

async fn bad_periods_and_malformed_calls_are_400(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    store(&app, row_on("2026-11-03", "7", 3)).await;
    let call = "/v1.0/reports/getTeamsDeviceUsageDistributionUserCounts";
    for path in [
        format!("{call}(period='D8')"),
        format!("{call}(period='D365')"),
        format!("{call}(period='7')"),
        format!("{call}(period='d7')"),
        format!("{call}(period='')"),
        format!("{call}(period=D7)"),
        format!("{call}(period=\"D7\")"),
        format!("{call}(period='D7'"),
        format!("{call}(period='D7',period='D30')"),
        format!("{call}(date='2026-11-01')"),
        format!("{call}()"),
        call.to_owned(),
        format!("{}?$top=1", report("v1.0", "D7")),
        format!("{}?$filter=web%20gt%201", report("v1.0", "D7")),
        format!("{}?period=D7", report("v1.0", "D7")),
        format!("{}?$format=text/csv&$format=text/csv", report("v1.0", "D7")),
    ] {
        let error = assert_graph_error(app.get(&path).await, 400, "badRequest").await;
        assert!(
            error["error"]["message"].as_str().unwrap().len() > 20,
            "{path}: {error}"
        );
    }
    let error = assert_graph_error(app.get(&report("v1.0", "D8")).await, 400, "badRequest").await;
    let message = error["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("D8") && message.contains("D180"),
        "{message}"
    );
    assert_eq!(app.row_count().await, 1);
}

async fn other_function_names_are_404(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for path in [
        "/v1.0/reports/getTeamsDeviceUsageUserCounts(period='D7')",
        "/v1.0/reports/getTeamsDeviceUsageDistributionUserCountsX(period='D7')",
        "/v1.0/reports/getTeamsDeviceUsageDistributionUserCounts(period='D7')/more",
        "/v1.0/reports/other.namespace.getTeamsDeviceUsageDistributionUserCounts(period='D7')",
        "/v2.0/reports/getTeamsDeviceUsageDistributionUserCounts(period='D7')",
    ] {
        assert_graph_error(app.get(path).await, 404, "itemNotFound").await;
    }
}

async fn formats_it_cannot_produce_are_406(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    store(&app, row_on("2026-11-03", "7", 3)).await;
    for format in ["application/xml", "text/html", "xlsx", "json"] {
        let path = format!("{}?$format={format}", report("v1.0", "D7"));
        assert_graph_error(app.get(&path).await, 406, "notAcceptable").await;
    }
    for accept in [
        "application/xml",
        "image/png, text/html",
        "text/csv;q=0, application/*;q=0",
    ] {
        let response = app
            .client
            .get(app.url(&report("v1.0", "D7")))
            .bearer_auth(&app.token)
            .header("Accept", accept)
            .send()
            .await
            .unwrap();
        assert_graph_error(response, 406, "notAcceptable").await;
    }
    // $format wins over an Accept it contradicts.
    let response = app
        .client
        .get(app.url(&format!("{}?$format=text/csv", report("v1.0", "D7"))))
        .bearer_auth(&app.token)
        .header("Accept", "application/xml")
        .send()
        .await
        .unwrap();
    assert_eq!(csv_lines(response).await.len(), 2);
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

async fn reading_needs_a_valid_token_and_only_read_scope(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    store(&app, row_on("2026-11-03", "7", 3)).await;
    let reader = app.token_for("default", READ).await;
    assert_eq!(
        csv_lines(app.get_as(&reader, &report("v1.0", "D7")).await)
            .await
            .len(),
        2
    );
    let response = app
        .client
        .get(app.url(&report("v1.0", "D7")))
        .send()
        .await
        .unwrap();
    assert_graph_error(response, 401, "InvalidAuthenticationToken").await;
    let response = app.get_as("not-a-token", &report("v1.0", "D7")).await;
    assert_graph_error(response, 401, "InvalidAuthenticationToken").await;
    // Authentication comes before the call is looked at.
    let response = app.get_as("not-a-token", &report("v1.0", "D8")).await;
    assert_graph_error(response, 401, "InvalidAuthenticationToken").await;
}

async fn other_methods_on_the_function_are_405(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let response = app
        .client
        .post(app.url(&report("v1.0", "D7")))
        .bearer_auth(&app.token)
        .json(&valid_row())
        .send()
        .await
        .unwrap();
    assert_graph_error(response, 405, "methodNotAllowed").await;
    let response = app
        .client
        .delete(app.url(&report("beta", "D7")))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_graph_error(response, 405, "methodNotAllowed").await;
    assert_eq!(app.row_count().await, 0);
}

/// With `IEEE754Compatible=true` in Accept every Int64 is a string and the
/// Content-Type says so; without it they are numbers and it says false.
async fn every_json_route_writes_int64_as_strings_when_asked(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    const IEEE754: &str = "application/json;IEEE754Compatible=true";
    let big = i64::MAX;
    let body = with(
        with(valid_row(), "windows", json!(big)),
        "chromeOS",
        json!(5),
    );

    let created = app
        .client
        .post(app.url(COLLECTION))
        .bearer_auth(&app.token)
        .header("Accept", IEEE754)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    let (created_type, created): (String, Value) =
        (content_type(&created), created.json().await.unwrap());
    let id = created["id"].as_str().unwrap().to_owned();
    let mut answers = vec![("POST", created_type, created)];

    let get = |path: String| {
        app.client
            .get(app.url(&path))
            .bearer_auth(&app.token)
            .header("Accept", IEEE754)
            .send()
    };
    for (name, path) in [
        ("GET row", format!("{COLLECTION}/{id}")),
        ("GET beta row", format!("{BETA_COLLECTION}/{id}")),
        ("GET collection", COLLECTION.to_owned()),
        (
            "report",
            format!("{}?$format=application/json", report("v1.0", "D7")),
        ),
    ] {
        let response = get(path).await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "{name}");
        let content_type = content_type(&response);
        let mut body: Value = response.json().await.unwrap();
        if let Some(value) = body.get_mut("value") {
            body = value[0].take();
        }
        answers.push((name, content_type, body));
    }
    let patched = app
        .client
        .patch(app.url(&format!("{COLLECTION}/{id}")))
        .bearer_auth(&app.token)
        .header("Accept", IEEE754)
        .header("Prefer", "return=representation")
        .json(&json!({"mac": 8}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status().as_u16(), 200);
    answers.push((
        "PATCH",
        content_type(&patched),
        patched.json().await.unwrap(),
    ));

    for (name, content_type, row) in answers {
        assert_eq!(
            content_type,
            "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=true;charset=utf-8",
            "{name}"
        );
        assert_eq!(row["windows"], big.to_string(), "{name}: {row}");
        assert_eq!(row["web"], "3", "{name}: {row}");
        assert_eq!(row["chromeOS"], "5", "{name}: {row}");
        assert_eq!(row["linux"], Value::Null, "{name}: {row}");
        // Strings stay strings: the period and the date are not Int64.
        assert_eq!(row["reportPeriod"], "7", "{name}: {row}");
    }

    // Without the parameter the same routes write numbers.
    let plain = app.get(&format!("{COLLECTION}/{id}")).await;
    assert!(content_type(&plain).contains("IEEE754Compatible=false"));
    let plain: Value = plain.json().await.unwrap();
    assert_eq!(plain["windows"], big);
    let report_json: Value = app
        .get(&format!(
            "{}?$format=application/json",
            report("v1.0", "D7")
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report_json["value"][0]["windows"], big);
    // The parameter may also ride on $format.
    let response = app
        .get(&format!(
            "{}?$format=application/json;IEEE754Compatible=true",
            report("v1.0", "D7")
        ))
        .await;
    assert!(content_type(&response).contains("IEEE754Compatible=true"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["value"][0]["windows"], big.to_string());
}
