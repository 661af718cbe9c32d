//! `GET {base}/tenants`: every tenant at once, for an operator's token, with
//! how fresh its newest report is and how its collector fares.

use chrono::{Duration, Utc};
use serde_json::{json, Value};
use teams_usage_store::domain::{ReportPeriod, TenantId};
use teams_usage_store::storage::CollectionRun;
use uuid::Uuid;

use crate::helpers::{assert_graph_error, valid_row, with, Backend, TestApp, READ, READ_WRITE};

backend_tests!(
    only_an_operator_lists_the_tenants,
    each_tenant_shows_its_rows_freshness_and_collector,
    the_list_is_filtered_ordered_and_cut,
    bad_options_are_refused,
    the_list_downloads_as_csv,
);

fn days_ago(n: i64) -> String {
    (Utc::now().date_naive() - Duration::days(n)).to_string()
}

async fn store_row(app: &TestApp, tenant: &str, period: &str, date: &str) {
    let token = app.token_for(tenant, READ_WRITE).await;
    let row = with(
        with(valid_row(), "reportRefreshDate", json!(date)),
        "reportPeriod",
        json!(period),
    );
    let response = app
        .post_json_as(
            &token,
            "/v1.0/reports/teamsDeviceUsageDistributionUserCounts",
            &row,
        )
        .await;
    assert_eq!(response.status().as_u16(), 201);
}

/// contoso: fresh, named, a failing collector; fabrikam: 10 days old; northwind: a token, no rows.
async fn three_tenants(app: &TestApp) {
    store_row(app, "contoso", "7", &days_ago(1)).await;
    store_row(app, "contoso", "30", &days_ago(2)).await;
    store_row(app, "contoso", "7", &days_ago(8)).await;
    store_row(app, "fabrikam", "7", &days_ago(10)).await;
    app.token_for("northwind", READ).await;
    app.store
        .set_tenant_name(&TenantId::parse("contoso").unwrap(), "Contoso Ltd")
        .await
        .unwrap();
    let at = Utc::now() - Duration::hours(1);
    for (minutes, error) in [
        (30, None),
        (0, Some("Graph answered 403: missing Reports.Read.All")),
    ] {
        let started_at = at + Duration::minutes(minutes);
        app.store
            .record_collection_run(&CollectionRun {
                id: Uuid::now_v7(),
                source: "contoso-graph".into(),
                target_tenant: TenantId::parse("contoso").unwrap(),
                period: ReportPeriod::D7,
                started_at,
                finished_at: started_at + Duration::seconds(1),
                created: 0,
                already_stored: 0,
                conflicting: 0,
                error: error.map(str::to_owned),
            })
            .await
            .unwrap();
    }
}

async fn tenants(app: &TestApp, token: &str, query: &str) -> Value {
    let response = app.get_as(token, &format!("/v1.0/tenants{query}")).await;
    assert_eq!(response.status().as_u16(), 200, "{query}");
    response.json().await.unwrap()
}

fn ids(list: &Value) -> Vec<&str> {
    list["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect()
}

async fn only_an_operator_lists_the_tenants(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    assert_graph_error(app.get("/v1.0/tenants").await, 403, "accessDenied").await;
    let anonymous = app
        .client
        .get(app.url("/v1.0/tenants"))
        .send()
        .await
        .unwrap();
    assert_graph_error(anonymous, 401, "InvalidAuthenticationToken").await;
    let operator = app.all_tenants_token("msp", READ).await;
    let list = tenants(&app, &operator, "").await;
    assert_eq!(
        list["@odata.context"],
        format!("{}/v1.0/$metadata#tenants", app.address)
    );
    // The bootstrap token's tenant, and the operator's own.
    assert_eq!(ids(&list), ["default", "msp"]);
}

async fn each_tenant_shows_its_rows_freshness_and_collector(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| s.stale_after_days = 3).await else {
        return;
    };
    three_tenants(&app).await;
    let operator = app.all_tenants_token("msp", READ).await;
    let list = tenants(&app, &operator, "?$filter=id ne 'default' and id ne 'msp'").await;
    assert_eq!(ids(&list), ["contoso", "fabrikam", "northwind"]);
    let contoso = &list["value"][0];
    assert_eq!(contoso["displayName"], "Contoso Ltd");
    assert_eq!(contoso["rowCount"], 3);
    assert_eq!(contoso["latestReportRefreshDate"], days_ago(1));
    assert_eq!(
        contoso["latestByPeriod"],
        json!({"7": days_ago(1), "30": days_ago(2)})
    );
    assert_eq!(contoso["ageDays"], 1);
    assert_eq!(contoso["stale"], false);
    assert_eq!(
        contoso["lastCollectionError"],
        "Graph answered 403: missing Reports.Read.All"
    );
    assert!(contoso["lastCollectionSuccessAt"].is_string());
    assert!(contoso["lastCollectionErrorAt"].is_string());
    let fabrikam = &list["value"][1];
    assert_eq!(
        (
            fabrikam["ageDays"].clone(),
            fabrikam["stale"].clone(),
            fabrikam["displayName"].clone()
        ),
        (json!(10), json!(true), Value::Null)
    );
    assert_eq!(fabrikam["lastCollectionError"], Value::Null);
    let northwind = &list["value"][2];
    assert_eq!(northwind["rowCount"], 0);
    assert_eq!(northwind["ageDays"], Value::Null);
    assert_eq!(northwind["stale"], true, "no report at all is stale");
}

async fn the_list_is_filtered_ordered_and_cut(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    three_tenants(&app).await;
    let operator = app.all_tenants_token("msp", READ).await;
    for (query, expected) in [
        ("?$filter=stale eq true and rowCount gt 0", vec!["fabrikam"]),
        ("?$filter=stale eq false", vec!["contoso"]),
        ("?$filter=displayName eq 'Contoso Ltd'", vec!["contoso"]),
        (
            "?$filter=ageDays ge 1&$orderby=ageDays desc",
            vec!["fabrikam", "contoso"],
        ),
        // Null ages sort first, then by id.
        (
            "?$orderby=ageDays",
            vec!["default", "msp", "northwind", "contoso", "fabrikam"],
        ),
        (
            "?$orderby=rowCount desc&$top=2",
            vec!["contoso", "fabrikam"],
        ),
        (
            "?$orderby=rowCount desc&$top=2&$skip=1",
            vec!["fabrikam", "default"],
        ),
        (
            "?$filter=not (id eq 'default' or id eq 'msp')&$orderby=id desc",
            vec!["northwind", "fabrikam", "contoso"],
        ),
    ] {
        let list = tenants(&app, &operator, query).await;
        assert_eq!(ids(&list), expected, "{query}");
    }
    let since = tenants(
        &app,
        &operator,
        &format!("?$filter=latestReportRefreshDate ge {}", days_ago(5)),
    )
    .await;
    assert_eq!(ids(&since), ["contoso"]);
}

async fn bad_options_are_refused(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let operator = app.all_tenants_token("msp", READ).await;
    for query in [
        "?$filter=rowCount eq 'many'",
        "?$filter=stale eq 1",
        "?$filter=bogus eq 1",
        "?$filter=DisplayName eq 'x'",
        "?$filter=(id eq 'a'",
        "?$orderby=ageDays sideways",
        "?$top=0",
        "?$top=1001",
        "?$skip=-1",
        "?$select=id",
        "?$count=true",
        "?$skiptoken=abc",
        "?tenant=contoso",
        "?$top=1&$top=2",
    ] {
        let response = app
            .get_as(&operator, &format!("/v1.0/tenants{query}"))
            .await;
        assert_graph_error(response, 400, "badRequest").await;
    }
    let response = app
        .get_as(&operator, "/v1.0/tenants?$format=application/xml")
        .await;
    assert_graph_error(response, 406, "notAcceptable").await;
}

async fn the_list_downloads_as_csv(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    three_tenants(&app).await;
    let operator = app.all_tenants_token("msp", READ).await;
    let response = app
        .get_as(
            &operator,
            "/beta/tenants?$format=text/csv&$filter=rowCount gt 0&$orderby=id",
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(disposition.contains("filename=\"tenants-"), "{disposition}");
    let bytes = response.bytes().await.unwrap();
    let text = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap()).unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(
        lines[0],
        "Tenant Id,Display Name,Row Count,Latest Report Refresh Date,Latest 7,Latest 30,Latest 90,Latest 180,Age Days,Stale,Last Collection Success,Last Collection Error At,Last Collection Error"
    );
    assert_eq!(lines.len(), 3);
    assert!(
        lines[1].starts_with(&format!(
            "contoso,Contoso Ltd,3,{},{},{},,,1,false,",
            days_ago(1),
            days_ago(1),
            days_ago(2)
        )),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with(&format!("fabrikam,,1,{0},{0},,,,10,true,", days_ago(10))),
        "{}",
        lines[2]
    );
    let accept = app
        .client
        .get(app.url("/v1.0/tenants"))
        .bearer_auth(&operator)
        .header("Accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert!(accept.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
}
