//! Every way of getting a query wrong is a 400 in Graph's shape that says what
//! and where, names the option in `details`, and changes nothing.

use serde_json::Value;

use super::{list, page, seed_fixture};
use crate::helpers::{assert_graph_error, Backend, TestApp, COLLECTION};

backend_tests!(
    each_error_class_is_a_located_bad_request,
    skiptokens_belong_to_their_query
);

async fn each_error_class_is_a_located_bad_request(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let rows = seed_fixture(&app).await;
    // (option, value, target in details, words the message must contain)
    let cases: &[(&str, &str, &str, &[&str])] = &[
        // Unsupported and unknown options, parameters without `$`.
        (
            "$expand",
            "x",
            "$expand",
            &["'$expand' is not supported", "$filter"],
        ),
        (
            "$search",
            "\"web\"",
            "$search",
            &["'$search' is not supported"],
        ),
        ("$apply", "x", "$apply", &["not supported"]),
        ("$compute", "x", "$compute", &["not supported"]),
        ("$levels", "2", "$levels", &["not supported"]),
        ("$Expand", "x", "$Expand", &["'$Expand' is not supported"]),
        (
            "$bogus",
            "1",
            "$bogus",
            &["'$bogus' is not an OData query option"],
        ),
        (
            "top",
            "1",
            "top",
            &["Unknown query parameter 'top'", "begin with $"],
        ),
        // Malformed expressions and unknown properties, with their position.
        (
            "$filter",
            "web eq",
            "$filter",
            &["Invalid $filter", "(at position 7)"],
        ),
        (
            "$filter",
            "bogus eq 1",
            "$filter",
            &["'bogus' is not a property", "(at position 1)"],
        ),
        ("$filter", "Web eq 1", "$filter", &["did you mean 'web'?"]),
        (
            "$filter",
            "web eq 'x",
            "$filter",
            &["not closed", "(at position 8)"],
        ),
        (
            "$filter",
            "(web eq 1",
            "$filter",
            &["'(' is not closed", "(at position 1)"],
        ),
        (
            "$filter",
            "web eq 1 mac",
            "$filter",
            &["expected 'and', 'or'", "(at position 10)"],
        ),
        (
            "$filter",
            "not web eq 1",
            "$filter",
            &["parentheses", "(at position 5)"],
        ),
        (
            "$filter",
            "contains(web,'1')",
            "$filter",
            &[
                "functions such as contains() are not supported",
                "(at position 1)",
            ],
        ),
        (
            "$filter",
            "startswith(reportPeriod 'x')",
            "$filter",
            &["functions", "(at position 1)"],
        ),
        ("$filter", "web eq ios", "$filter", &["two properties"]),
        ("$filter", "", "$filter", &["empty"]),
        // Literals of the wrong type.
        (
            "$filter",
            "reportRefreshDate ge '2026-01-01'",
            "$filter",
            &["without quotes", "(at position 22)"],
        ),
        (
            "$filter",
            "reportRefreshDate ge 2026-02-30",
            "$filter",
            &["not a calendar date"],
        ),
        ("$filter", "reportPeriod eq 7", "$filter", &["quoted"]),
        (
            "$filter",
            "reportPeriod eq '365'",
            "$filter",
            &["'7', '30', '90', '180'"],
        ),
        ("$filter", "web gt -1", "$filter", &[">= 0"]),
        ("$filter", "web gt 1.5", "$filter", &["(at position 8)"]),
        ("$filter", "id eq 'not-a-guid'", "$filter", &["GUID"]),
        // Too deep.
        (
            "$filter",
            &format!("{}web eq 1{}", "(".repeat(40), ")".repeat(40)),
            "$filter",
            &["levels deep"],
        ),
        // $orderby, $select, $top, $skip, $count.
        (
            "$orderby",
            "web,bogus",
            "$orderby",
            &["'bogus' is not a property", "(at position 5)"],
        ),
        ("$orderby", "web sideways", "$orderby", &["not a direction"]),
        ("$orderby", "web,web desc", "$orderby", &["twice"]),
        (
            "$select",
            "web,tenant_id",
            "$select",
            &["'tenant_id' is not a property", "(at position 5)"],
        ),
        ("$select", "", "$select", &["missing"]),
        ("$top", "0", "$top", &["from 1 to 1000"]),
        ("$top", "1001", "$top", &["from 1 to 1000"]),
        ("$skip", "-1", "$skip", &["$skip must be a whole number"]),
        ("$count", "yes", "$count", &["true or false"]),
        // Tokens this service did not issue.
        (
            "$skiptoken",
            "garbage",
            "$skiptoken",
            &["not a token this service issued"],
        ),
        (
            "$skiptoken",
            "eyJrIjpbXSwiaWQiOiJ4In0",
            "$skiptoken",
            &["not a token this service issued"],
        ),
    ];
    for (option, value, target, words) in cases {
        let response = list(&app, &[(option, value)]).await;
        let body = assert_graph_error(response, 400, "badRequest").await;
        let message = body["error"]["message"].as_str().unwrap();
        for word in *words {
            assert!(message.contains(word), "{option}={value}: {message}");
        }
        assert_eq!(body["error"]["details"][0]["target"], *target, "{body}");
        assert_eq!(body["error"]["details"][0]["code"], "invalidQueryOption");
    }
    let response = app.get(&format!("{COLLECTION}?$top=1&$top=2")).await;
    let body = assert_graph_error(response, 400, "badRequest").await;
    assert!(body["error"]["message"].as_str().unwrap().contains("twice"));
    // Reads never write, not even when they fail.
    assert_eq!(app.row_count().await, rows.len() as i64);
}

async fn skiptokens_belong_to_their_query(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    seed_fixture(&app).await;
    let options = [
        ("$filter", "web ge 2"),
        ("$orderby", "ios desc"),
        ("$top", "3"),
    ];
    let first = page(&app, &options).await;
    let link = first["@odata.nextLink"].as_str().unwrap();
    let token = url::Url::parse(link)
        .unwrap()
        .query_pairs()
        .find(|(name, _)| name == "$skiptoken")
        .map(|(_, value)| value.into_owned())
        .unwrap();
    // The same query, spelled differently, continues; another query does not.
    let respelled = page(
        &app,
        &[
            ("$filter", "(web GE 2)"),
            ("$orderby", "ios DESC"),
            ("$top", "5"),
            ("$skiptoken", &token),
        ],
    )
    .await;
    assert!(!respelled["value"].as_array().unwrap().is_empty());
    for other in [
        vec![("$filter", "web ge 3"), ("$orderby", "ios desc")],
        vec![("$filter", "web ge 2"), ("$orderby", "ios")],
        vec![("$filter", "web ge 2")],
        vec![("$orderby", "ios desc")],
    ] {
        let mut with_token = other.clone();
        with_token.push(("$skiptoken", &token));
        let response = list(&app, &with_token).await;
        let body = assert_graph_error(response, 400, "badRequest").await;
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("another $filter or $orderby"),
            "{other:?}: {message}"
        );
        assert_eq!(body["error"]["details"][0]["target"], "$skiptoken");
    }
    // $skip with a token is refused: the token already says where the page starts.
    let mut with_skip = options.to_vec();
    with_skip.extend([("$skip", "2"), ("$skiptoken", token.as_str())]);
    let response = list(&app, &with_skip).await;
    let body: Value = assert_graph_error(response, 400, "badRequest").await;
    assert_eq!(body["error"]["details"][0]["target"], "$skip");
}
