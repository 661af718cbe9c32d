//! What a query response looks like: `$count`, `$select`, `/$count`, option-name case.

use serde_json::Value;

use super::{ids, list, page, seed_fixture, sorted_ids};
use crate::helpers::{assert_graph_error, Backend, TestApp, BETA_COLLECTION, COLLECTION, READ};

backend_tests!(
    count_true_counts_the_filter_not_the_page,
    select_projects_rows_and_the_context,
    the_count_segment_is_plain_text_and_honours_the_filter,
    option_names_are_case_insensitive
);

async fn count_true_counts_the_filter_not_the_page(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    seed_fixture(&app).await;
    let body = page(
        &app,
        &[
            ("$count", "true"),
            ("$top", "2"),
            ("$filter", "chromeOS ne null"),
        ],
    )
    .await;
    assert_eq!(body["@odata.count"], 8, "{body}");
    assert_eq!(ids(&body).len(), 2);
    // Graph puts the count before the rows.
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["@odata.context", "@odata.count", "value", "@odata.nextLink"]
    );
    // The next page still counts everything that matches.
    let next = super::follow(&app, body["@odata.nextLink"].as_str().unwrap()).await;
    assert_eq!(next["@odata.count"], 8);
    let without = page(&app, &[("$count", "false")]).await;
    assert!(without.get("@odata.count").is_none(), "{without}");
    // Int64 as a string when the client asks for IEEE754 compatibility.
    let response = app
        .client
        .get(app.url(COLLECTION))
        .query(&[("$count", "true")])
        .header("accept", "application/json;IEEE754Compatible=true")
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["@odata.count"], "12");
}

async fn select_projects_rows_and_the_context(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let rows = seed_fixture(&app).await;
    let body = page(&app, &[("$select", "ios,web,ios")]).await;
    let context = body["@odata.context"].as_str().unwrap();
    assert!(
        context
            .ends_with("/v1.0/$metadata#reports/teamsDeviceUsageDistributionUserCounts(ios,web)"),
        "{context}"
    );
    let value = body["value"].as_array().unwrap();
    assert_eq!(value.len(), rows.len());
    for (row, stored) in value.iter().zip(&rows) {
        let mut keys: Vec<&str> = row
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort();
        assert_eq!(keys, ["@odata.type", "ios", "web"]);
        assert_eq!(row["web"], stored["web"]);
    }
    // `*` is every property, and the context names none.
    let all = page(&app, &[("$select", "*")]).await;
    assert_eq!(all["value"][0], rows[0]);
    assert!(all["@odata.context"]
        .as_str()
        .unwrap()
        .ends_with("#reports/teamsDeviceUsageDistributionUserCounts"));
    // The context uses the prefix the request used.
    let response = app
        .client
        .get(app.url(BETA_COLLECTION))
        .query(&[("$select", "chromeOS")])
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    let beta: Value = response.json().await.unwrap();
    assert!(beta["@odata.context"]
        .as_str()
        .unwrap()
        .ends_with("/beta/$metadata#reports/teamsDeviceUsageDistributionUserCounts(chromeOS)"));
}

async fn the_count_segment_is_plain_text_and_honours_the_filter(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    seed_fixture(&app).await;
    let count_path = format!("{COLLECTION}/$count");
    let text = |response: reqwest::Response| async move {
        assert_eq!(response.status().as_u16(), 200);
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(content_type.starts_with("text/plain"), "{content_type}");
        response.text().await.unwrap()
    };
    assert_eq!(text(app.get(&count_path).await).await, "12");
    let filtered = app
        .client
        .get(app.url(&count_path))
        .bearer_auth(&app.token)
        .query(&[("$filter", "linux eq null or web ge 10")])
        .send()
        .await
        .unwrap();
    assert_eq!(text(filtered).await, "7");
    assert_eq!(
        text(
            app.get(&format!("{count_path}?$FILTER=web%20gt%20100"))
                .await
        )
        .await,
        "0"
    );
    // Another tenant counts only its own rows; a read-only token may count.
    let other = app.token_for("contoso", READ).await;
    assert_eq!(text(app.get_as(&other, &count_path).await).await, "0");
    assert_eq!(
        text(
            app.get_as(&other, &format!("{BETA_COLLECTION}/$count"))
                .await
        )
        .await,
        "0"
    );
    // $orderby, $top and $skip do not change a count: accepted and ignored.
    let full = text(app.get(&count_path).await).await;
    assert_eq!(
        text(
            app.get(&format!("{count_path}?$orderby=web%20desc&$top=1&$skip=1"))
                .await
        )
        .await,
        full
    );
    for (query, what) in [
        ("$top=0", "$top"),
        ("$orderby=bogus", "'bogus' is not a property"),
        ("$count=true", "'$count' is not supported on /$count"),
        (
            "$format=text/plain",
            "'$format' is not supported on /$count",
        ),
        ("$filter=web", "Invalid $filter"),
        ("filter=web eq 1", "Unknown query parameter 'filter'"),
    ] {
        let response = app.get(&format!("{count_path}?{query}")).await;
        let body = assert_graph_error(response, 400, "badRequest").await;
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(what), "{query}: {message}");
    }
    let response = app
        .client
        .post(app.url(&count_path))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_graph_error(response, 405, "methodNotAllowed").await;
}

async fn option_names_are_case_insensitive(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let rows = seed_fixture(&app).await;
    let body = page(
        &app,
        &[
            ("$FILTER", "web lt 6"),
            ("$OrderBy", "web desc"),
            ("$Top", "2"),
            ("$COUNT", "true"),
        ],
    )
    .await;
    let small: Vec<Value> = rows
        .iter()
        .filter(|r| r["web"].as_i64() < Some(6))
        .cloned()
        .collect();
    assert_eq!(ids(&body), sorted_ids(&small, &[("web", true)])[..2]);
    assert_eq!(body["@odata.count"], 6);
    // The link keeps the client's spelling and goes on where the page ended.
    let link = body["@odata.nextLink"].as_str().unwrap();
    assert!(link.contains("$FILTER=web%20lt%206"), "{link}");
    let next = super::follow(&app, link).await;
    assert_eq!(ids(&next), sorted_ids(&small, &[("web", true)])[2..4]);
    let response = list(&app, &[("$top", "1"), ("$TOP", "2")]).await;
    assert_graph_error(response, 400, "badRequest").await;
}
