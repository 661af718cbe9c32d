//! The device mix summed over tenants (`{base}/tenants/rollup`, operators
//! only) and the newest shares against earlier ones, for a roll-up and for
//! one tenant (`{base}/dashboard/comparison`).

use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::helpers::{assert_graph_error, valid_row, Backend, TestApp, READ, READ_WRITE};

backend_tests!(
    the_rollup_sums_each_date_over_the_tenants,
    a_filter_chooses_the_tenants_summed,
    the_rollup_downloads_as_graph_csv,
    only_an_operator_rolls_up_and_bad_parameters_are_refused,
    shares_are_compared_with_30_90_and_365_days_before,
    sums_past_an_int64_are_exact,
);

fn days_ago(n: i64) -> String {
    (Utc::now().date_naive() - Duration::days(n)).to_string()
}

/// A 7-day row of `tenant` on `date`: `web` and `windows` users, the other counts 0.
async fn store(
    app: &TestApp,
    tenant: &str,
    date: &str,
    web: i64,
    windows: i64,
    linux: Option<i64>,
) {
    let token = app.token_for(tenant, READ_WRITE).await;
    let mut row = valid_row();
    for name in ["windowsPhone", "androidPhone", "ios", "mac"] {
        row[name] = json!(0);
    }
    row["reportRefreshDate"] = json!(date);
    row["web"] = json!(web);
    row["windows"] = json!(windows);
    if let Some(linux) = linux {
        row["linux"] = json!(linux);
    }
    let response = app
        .post_json_as(
            &token,
            "/beta/reports/teamsDeviceUsageDistributionUserCounts",
            &row,
        )
        .await;
    assert_eq!(response.status().as_u16(), 201);
}

async fn three_tenants(app: &TestApp) {
    store(app, "contoso", &days_ago(8), 10, 30, None).await;
    store(app, "contoso", &days_ago(1), 20, 40, Some(1)).await;
    store(app, "fabrikam", &days_ago(8), 5, 5, None).await;
    store(app, "fabrikam", &days_ago(1), 15, 15, Some(3)).await;
    store(app, "northwind", &days_ago(1), 0, 6, None).await;
}

async fn rollup(app: &TestApp, token: &str, query: &str) -> Value {
    let response = app
        .get_as(token, &format!("/v1.0/tenants/rollup{query}"))
        .await;
    assert_eq!(response.status().as_u16(), 200, "{query}");
    response.json().await.unwrap()
}

async fn the_rollup_sums_each_date_over_the_tenants(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    three_tenants(&app).await;
    let operator = app.all_tenants_token("msp", READ).await;
    let body = rollup(&app, &operator, "?period=7").await;
    assert_eq!(body["reportPeriod"], "7");
    assert_eq!(body["latestReportRefreshDate"], days_ago(1));
    let days = body["value"].as_array().unwrap();
    assert_eq!(days.len(), 2);
    let (older, newer) = (&days[0], &days[1]);
    assert_eq!(older["reportRefreshDate"], days_ago(8));
    assert_eq!(
        (
            older["tenantCount"].clone(),
            older["web"].clone(),
            older["windows"].clone(),
            older["linux"].clone(),
            older["users"].clone()
        ),
        (json!(2), json!(15), json!(35), Value::Null, json!(50))
    );
    assert_eq!(
        (
            newer["tenantCount"].clone(),
            newer["web"].clone(),
            newer["windows"].clone(),
            newer["linux"].clone(),
            newer["users"].clone()
        ),
        (json!(3), json!(35), json!(61), json!(4), json!(100))
    );
    // Each tenant's part of the newest day's 100 users, largest first.
    assert_eq!(
        body["tenantShares"],
        json!([
            {"id": "contoso", "users": 61, "share": 61.0},
            {"id": "fabrikam", "users": 33, "share": 33.0},
            {"id": "northwind", "users": 6, "share": 6.0},
        ])
    );
    // A date range; nothing in it is an empty roll-up.
    let recent = rollup(&app, &operator, &format!("?period=7&from={}", days_ago(3))).await;
    assert_eq!(recent["value"].as_array().unwrap().len(), 1);
    let none = rollup(&app, &operator, "?period=30").await;
    assert_eq!(none["value"], json!([]));
    assert_eq!(none["tenantShares"], json!([]));
    assert_eq!(none["latestReportRefreshDate"], Value::Null);
}

async fn a_filter_chooses_the_tenants_summed(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    three_tenants(&app).await;
    let operator = app.all_tenants_token("msp", READ).await;
    let body = rollup(&app, &operator, "?period=7&$filter=id ne 'northwind'").await;
    let newer = &body["value"][1];
    assert_eq!(
        (newer["tenantCount"].clone(), newer["windows"].clone()),
        (json!(2), json!(55))
    );
    let ids: Vec<&str> = body["tenantShares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["contoso", "fabrikam"]);
    let nobody = rollup(&app, &operator, "?period=7&$filter=rowCount gt 100").await;
    assert_eq!(nobody["value"], json!([]));
}

async fn the_rollup_downloads_as_graph_csv(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    three_tenants(&app).await;
    let operator = app.all_tenants_token("msp", READ).await;
    for (base, header, newer) in [
        (
            "/v1.0",
            "Report Refresh Date,Web,Windows Phone,Android Phone,iOS,Mac,Windows,Report Period,Tenant Count",
            format!("{},35,0,0,0,0,61,7,3", days_ago(1)),
        ),
        (
            "/beta",
            "Report Refresh Date,Web,Windows Phone,Android Phone,iOS,Mac,Windows,Chrome OS,Linux,Report Period,Tenant Count",
            format!("{},35,0,0,0,0,61,,4,7,3", days_ago(1)),
        ),
    ] {
        let response = app
            .get_as(&operator, &format!("{base}/tenants/rollup?period=7&$format=text/csv"))
            .await;
        assert_eq!(response.status().as_u16(), 200);
        let disposition = response.headers()["content-disposition"].to_str().unwrap().to_owned();
        assert!(disposition.contains("all-tenants-7-"), "{disposition}");
        let bytes = response.bytes().await.unwrap();
        let text = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap()).unwrap();
        let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert_eq!(lines[0], header);
        assert_eq!(lines[2], newer);
    }
}

async fn only_an_operator_rolls_up_and_bad_parameters_are_refused(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for path in [
        "/v1.0/tenants/rollup?period=7",
        "/v1.0/tenants/rollup/comparison?period=7",
    ] {
        assert_graph_error(app.get(path).await, 403, "accessDenied").await;
    }
    let operator = app.all_tenants_token("msp", READ).await;
    for query in [
        "",
        "?period=8",
        "?period=7&period=7",
        "?period=7&from=2026-02-30",
        "?period=7&from=2026-06-01&to=2026-01-01",
        "?period=7&from=2000-01-01&to=2026-01-01",
        "?period=7&tenant=contoso",
        "?period=7&$filter=bogus eq 1",
        "?period=7&$orderby=id",
        "?period=7&$top=1",
        "?period=7&$select=web",
    ] {
        let response = app
            .get_as(&operator, &format!("/v1.0/tenants/rollup{query}"))
            .await;
        assert_graph_error(response, 400, "badRequest").await;
    }
    let response = app
        .get_as(
            &operator,
            "/v1.0/tenants/rollup?period=7&$format=application/xml",
        )
        .await;
    assert_graph_error(response, 406, "notAcceptable").await;
    for query in [
        "?period=7&from=2026-01-01",
        "?period=7&$format=text/csv",
        "",
    ] {
        let response = app
            .get_as(
                &operator,
                &format!("/v1.0/tenants/rollup/comparison{query}"),
            )
            .await;
        assert_graph_error(response, 400, "badRequest").await;
    }
    for query in [
        "?period=7&$filter=id eq 'x'",
        "?period=7&from=2026-01-01",
        "",
    ] {
        let response = app.get(&format!("/v1.0/dashboard/comparison{query}")).await;
        assert_graph_error(response, 400, "badRequest").await;
    }
}

async fn shares_are_compared_with_30_90_and_365_days_before(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    // contoso's history: web half of the users now, a quarter 40 days back, a tenth 380 days back.
    store(&app, "contoso", &days_ago(1), 50, 50, None).await;
    store(&app, "contoso", &days_ago(41), 25, 75, None).await;
    store(&app, "contoso", &days_ago(380), 10, 90, None).await;
    store(&app, "fabrikam", &days_ago(1), 0, 100, None).await;
    let contoso = app.token_for("contoso", READ).await;
    let mine: Value = app
        .get_as(&contoso, "/v1.0/dashboard/comparison?period=7")
        .await
        .json()
        .await
        .unwrap();
    let comparison = &mine["comparison"];
    assert_eq!(comparison["latest"]["reportRefreshDate"], days_ago(1));
    assert_eq!(comparison["latest"]["shares"]["web"], 50.0);
    let earlier = comparison["earlier"].as_array().unwrap();
    assert_eq!(earlier[0]["daysBack"], 30);
    assert_eq!(earlier[0]["reportRefreshDate"], days_ago(41));
    assert_eq!(earlier[0]["changePercentagePoints"]["web"], 25.0);
    assert_eq!(earlier[0]["changePercentagePoints"]["windows"], -25.0);
    // 90 days back finds nothing newer than the row 380 days old, inside the year looked at.
    assert_eq!(earlier[1]["daysBack"], 90);
    assert_eq!(earlier[1]["reportRefreshDate"], days_ago(380));
    assert_eq!(earlier[1]["changePercentagePoints"]["web"], 40.0);
    assert_eq!(earlier[2]["daysBack"], 365);
    assert_eq!(earlier[2]["reportRefreshDate"], days_ago(380));
    // As of a day before the newest row: the history then.
    let then: Value = app
        .get_as(
            &contoso,
            &format!("/v1.0/dashboard/comparison?period=7&to={}", days_ago(2)),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        then["comparison"]["latest"]["reportRefreshDate"],
        days_ago(41)
    );
    // Nothing stored for a period: no comparison.
    let none: Value = app
        .get_as(&contoso, "/v1.0/dashboard/comparison?period=30")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none["comparison"], Value::Null);
    // The roll-up: both tenants now (50 of 200 users on the web), contoso alone before.
    let operator = app.all_tenants_token("msp", READ).await;
    let all: Value = app
        .get_as(&operator, "/v1.0/tenants/rollup/comparison?period=7")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all["comparison"]["latest"]["shares"]["web"], 25.0);
    assert_eq!(
        all["comparison"]["earlier"][0]["changePercentagePoints"]["web"],
        0.0
    );
    let without: Value = app
        .get_as(
            &operator,
            "/v1.0/tenants/rollup/comparison?period=7&$filter=id eq 'fabrikam'",
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(without["comparison"]["latest"]["shares"]["windows"], 100.0);
    assert_eq!(
        without["comparison"]["earlier"][0]["reportRefreshDate"],
        Value::Null
    );
}

async fn sums_past_an_int64_are_exact(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let max = i64::MAX;
    store(&app, "contoso", &days_ago(1), max, max, Some(max)).await;
    store(&app, "fabrikam", &days_ago(1), max, 1, None).await;
    let operator = app.all_tenants_token("msp", READ).await;
    let body = rollup(&app, &operator, "?period=7").await;
    let day = &body["value"][0];
    // 2^64 - 2, written exactly (a JSON number past an Int64), and as a string when asked.
    assert_eq!(day["web"].to_string(), "18446744073709551614");
    assert_eq!(day["windows"].to_string(), "9223372036854775808");
    assert_eq!(day["linux"].to_string(), "9223372036854775807");
    // Past a u64 too: read from the answer's text, which a JSON value here would round.
    let raw = app
        .get_as(&operator, "/v1.0/tenants/rollup?period=7")
        .await
        .text()
        .await
        .unwrap();
    let users = 4 * i128::from(max) + 1;
    assert!(raw.contains(&format!("\"users\":{users}")), "{raw}");
    let text: Value = app
        .client
        .get(app.url("/v1.0/tenants/rollup?period=7"))
        .bearer_auth(&operator)
        .header("Accept", "application/json;IEEE754Compatible=true")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(text["value"][0]["web"], "18446744073709551614");
    let csv = app
        .get_as(&operator, "/v1.0/tenants/rollup?period=7&$format=text/csv")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        csv.contains(",18446744073709551614,0,0,0,0,9223372036854775808,7,2"),
        "{csv}"
    );
    let comparison = app
        .get_as(&operator, "/v1.0/tenants/rollup/comparison?period=7")
        .await;
    assert_eq!(comparison.status().as_u16(), 200);
    let mine = app
        .get_as(
            &app.token_for("contoso", READ).await,
            "/v1.0/dashboard/comparison?period=7",
        )
        .await;
    assert_eq!(mine.status().as_u16(), 200);
}
