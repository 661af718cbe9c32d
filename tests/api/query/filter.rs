//! `$filter` over every property, with OData's null semantics, precedence and
//! literal syntax; hostile input never reaches SQL.

use serde_json::Value;

use super::{count, ids, list, page, seed_fixture, sorted_ids};
use crate::helpers::{Backend, TestApp};

backend_tests!(
    every_property_can_be_filtered_with_every_operator,
    null_counts_follow_odata_semantics,
    precedence_not_and_or_and_literals_on_the_left,
    sql_injection_is_refused_or_matches_nothing
);

type Predicate = Box<dyn Fn(&Value) -> bool>;

/// Asserts that `$filter=filter` returns exactly the rows `expected` keeps.
async fn assert_filter(app: &TestApp, rows: &[Value], filter: &str, expected: Predicate) {
    let body = page(app, &[("$filter", filter), ("$top", "1000")]).await;
    let want: Vec<Value> = rows.iter().filter(|r| expected(r)).cloned().collect();
    assert_eq!(ids(&body), sorted_ids(&want, &[]), "$filter={filter}");
}

/// OData comparison of a possibly-null count with a number: null matches no ordering.
fn compares(value: Option<i64>, op: &str, literal: i64) -> bool {
    match (value, op) {
        (None, "ne") => true,
        (None, _) => false,
        (Some(v), "eq") => v == literal,
        (Some(v), "ne") => v != literal,
        (Some(v), "gt") => v > literal,
        (Some(v), "ge") => v >= literal,
        (Some(v), "lt") => v < literal,
        (Some(v), "le") => v <= literal,
        _ => unreachable!("{op}"),
    }
}

const OPERATORS: [&str; 6] = ["eq", "ne", "gt", "ge", "lt", "le"];

async fn every_property_can_be_filtered_with_every_operator(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let rows = seed_fixture(&app).await;
    // A literal each property holds in exactly one row, so eq, gt and lt all bite.
    for (property, literal) in [
        ("web", 5),
        ("windowsPhone", 5),
        ("androidPhone", 25),
        ("ios", 1),
        ("mac", 105),
        ("windows", 10),
        ("chromeOS", 5),
        ("linux", 5),
    ] {
        for op in OPERATORS {
            let filter = format!("{property} {op} {literal}");
            assert_filter(
                &app,
                &rows,
                &filter,
                Box::new(move |r| compares(count(r, property), op, literal)),
            )
            .await;
        }
    }
    for (op, days) in [
        ("eq", 30),
        ("ne", 7),
        ("gt", 30),
        ("ge", 90),
        ("lt", 90),
        ("le", 7),
    ] {
        // Periods compare as numbers: '180' gt '30' although "180" < "30" as text.
        let filter = format!("reportPeriod {op} '{days}'");
        assert_filter(
            &app,
            &rows,
            &filter,
            Box::new(move |r| {
                let period: i64 = r["reportPeriod"].as_str().unwrap().parse().unwrap();
                compares(Some(period), op, days)
            }),
        )
        .await;
    }
    for op in OPERATORS {
        let filter = format!("reportRefreshDate {op} 2025-01-02");
        assert_filter(
            &app,
            &rows,
            &filter,
            Box::new(move |r| {
                let day: i64 = r["reportRefreshDate"].as_str().unwrap()[8..]
                    .parse()
                    .unwrap();
                compares(Some(day), op, 2)
            }),
        )
        .await;
    }
    let id = rows[5]["id"].as_str().unwrap().to_owned();
    for filter in [format!("id eq '{id}'"), format!("id eq {id}")] {
        let wanted = id.clone();
        assert_filter(
            &app,
            &rows,
            &filter,
            Box::new(move |r| r["id"] == wanted.as_str()),
        )
        .await;
    }
    let wanted = id.clone();
    assert_filter(
        &app,
        &rows,
        &format!("id ne {id}"),
        Box::new(move |r| r["id"] != wanted.as_str()),
    )
    .await;
    // An id no row has matches nothing.
    let body = page(
        &app,
        &[("$filter", "id eq '00000000-0000-7000-8000-000000000000'")],
    )
    .await;
    assert_eq!(ids(&body), Vec::<String>::new());
}

async fn null_counts_follow_odata_semantics(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let rows = seed_fixture(&app).await;
    let cases: Vec<(&str, Predicate)> = vec![
        ("chromeOS eq null", Box::new(|r| r["chromeOS"].is_null())),
        ("chromeOS ne null", Box::new(|r| !r["chromeOS"].is_null())),
        ("null eq linux", Box::new(|r| r["linux"].is_null())),
        // Ordering against null is false, never unknown: not(...) then holds.
        ("chromeOS gt null", Box::new(|_| false)),
        ("not (chromeOS gt null)", Box::new(|_| true)),
        (
            "chromeOS gt 5",
            Box::new(|r| count(r, "chromeOS").is_some_and(|v| v > 5)),
        ),
        (
            "not (chromeOS gt 5)",
            Box::new(|r| count(r, "chromeOS").is_none_or(|v| v <= 5)),
        ),
        (
            "not (linux le 5)",
            Box::new(|r| count(r, "linux").is_none_or(|v| v > 5)),
        ),
        ("linux ne 5", Box::new(|r| count(r, "linux") != Some(5))),
        (
            "not (linux ne 5)",
            Box::new(|r| count(r, "linux") == Some(5)),
        ),
        // Required properties are never null.
        ("web eq null", Box::new(|_| false)),
        ("reportRefreshDate ne null", Box::new(|_| true)),
        (
            "chromeOS eq null and linux eq null",
            Box::new(|r| r["chromeOS"].is_null() && r["linux"].is_null()),
        ),
    ];
    for (filter, expected) in cases {
        assert_filter(&app, &rows, filter, expected).await;
    }
}

async fn precedence_not_and_or_and_literals_on_the_left(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let rows = seed_fixture(&app).await;
    let web = |r: &Value| count(r, "web").unwrap();
    let ios = |r: &Value| count(r, "ios").unwrap();
    let cases: Vec<(&str, Predicate)> = vec![
        (
            "web lt 3 or web gt 9 and ios eq 0",
            Box::new(move |r| web(r) < 3 || (web(r) > 9 && ios(r) == 0)),
        ),
        (
            "(web lt 3 or web gt 9) and ios eq 0",
            Box::new(move |r| (web(r) < 3 || web(r) > 9) && ios(r) == 0),
        ),
        (
            "not (web lt 3 or web gt 9) and ios eq 0",
            Box::new(move |r| !(web(r) < 3 || web(r) > 9) && ios(r) == 0),
        ),
        ("not not (web lt 3)", Box::new(move |r| web(r) < 3)),
        ("5 lt web", Box::new(move |r| web(r) > 5)),
        ("5 ge web", Box::new(move |r| web(r) <= 5)),
        (
            "2025-01-02 le reportRefreshDate",
            Box::new(|r| r["reportRefreshDate"].as_str().unwrap() >= "2025-01-02"),
        ),
        (
            "'90' lt reportPeriod",
            Box::new(|r| r["reportPeriod"] == "180"),
        ),
        (
            "web GT 5 AND NOT (linux EQ NULL)",
            Box::new(move |r| web(r) > 5 && !r["linux"].is_null()),
        ),
        (
            "  ( ( web eq 1 ) )or(web eq 2)  ",
            Box::new(move |r| web(r) == 1 || web(r) == 2),
        ),
    ];
    for (filter, expected) in cases {
        assert_filter(&app, &rows, filter, expected).await;
    }
}

async fn sql_injection_is_refused_or_matches_nothing(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let rows = seed_fixture(&app).await;
    let table = "teams_device_usage_distribution_user_counts";
    let attempts = [
        "reportPeriod eq '7'' OR ''1''=''1'".to_owned(),
        "reportPeriod eq '7' or 1 eq 1".to_owned(),
        "id eq '1'' OR 1=1 --'".to_owned(),
        format!("id eq 'x''; DROP TABLE {table}; --'"),
        format!("web eq 1; DROP TABLE {table}"),
        "web eq 1) OR (1=1".to_owned(),
        "web eq 1 -- comment".to_owned(),
        "web eq 1 /* comment */".to_owned(),
        "web eq 0x1".to_owned(),
        "web eq 1 UNION SELECT * FROM tokens".to_owned(),
        "tenant_id eq 'default'".to_owned(),
        "report_period eq 7".to_owned(),
        "reportRefreshDate eq '2025-01-01'' OR ''a''=''a'".to_owned(),
    ];
    for filter in &attempts {
        let response = list(&app, &[("$filter", filter)]).await;
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        match status {
            400 => assert_eq!(body["error"]["code"], "badRequest", "{filter}: {body}"),
            200 => assert_eq!(ids(&body), Vec::<String>::new(), "{filter}: {body}"),
            other => panic!("{filter}: {other} {body}"),
        }
    }
    // The table and every row are still there.
    assert_eq!(app.row_count().await, rows.len() as i64);
    assert_eq!(ids(&page(&app, &[]).await), sorted_ids(&rows, &[]));
}
