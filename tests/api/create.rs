use serde_json::{json, Value};

use crate::helpers::{
    assert_graph_error, valid_row, with, without, Backend, TestApp, BETA_COLLECTION, COLLECTION,
    READ_WRITE,
};

backend_tests!(
    a_valid_row_is_created,
    an_identical_repost_is_a_replay,
    other_counts_for_the_same_key_conflict,
    every_problem_of_a_body_is_reported,
    links_use_the_prefix_the_request_used,
    optional_counts_may_be_absent_null_or_counts,
    ieee754_compatible_clients_may_send_int64_as_strings,
    ieee754_compatible_clients_read_int64_as_strings,
    a_replay_is_judged_by_content_not_spelling,
    a_conflict_on_an_optional_count_names_the_existing_id,
    two_tenants_may_store_the_same_natural_key,
    concurrent_posts_of_one_key_store_it_once
);

const JSON_CONTENT_TYPE: &str =
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

async fn a_valid_row_is_created(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let response = app.post_row(&valid_row()).await;
    assert_eq!(response.status().as_u16(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let body: Value = response.json().await.unwrap();
    let id = body["id"].as_str().unwrap();
    assert!(
        location.ends_with(&format!("{COLLECTION}/{id}")),
        "{location}"
    );
    assert_eq!(
        body["@odata.type"],
        "#microsoft.graph.teamsDeviceUsageDistributionUserCounts"
    );
    assert!(body["@odata.context"]
        .as_str()
        .unwrap()
        .ends_with("/v1.0/$metadata#reports/teamsDeviceUsageDistributionUserCounts/$entity"));
    assert_eq!(body["windowsPhone"], 12);
    assert_eq!(body["reportPeriod"], "7");
    assert_eq!(body["chromeOS"], Value::Null);

    let fetched: Value = app
        .get(&format!("{COLLECTION}/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fetched, body);
    assert_eq!(app.row_count().await, 1);
}

async fn an_identical_repost_is_a_replay(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let first: Value = app.post_row(&valid_row()).await.json().await.unwrap();
    let again = app.post_row(&valid_row()).await;
    assert_eq!(again.status().as_u16(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], first["id"]);
    assert_eq!(app.row_count().await, 1);
}

async fn other_counts_for_the_same_key_conflict(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let first: Value = app.post_row(&valid_row()).await.json().await.unwrap();
    let response = app.post_row(&with(valid_row(), "web", json!(4))).await;
    let body = assert_graph_error(response, 409, "conflict").await;
    let id = first["id"].as_str().unwrap();
    assert!(
        body["error"]["message"].as_str().unwrap().contains(id),
        "{body}"
    );
    assert_eq!(app.row_count().await, 1);
}

async fn every_problem_of_a_body_is_reported(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let body = with(
        with(with(valid_row(), "web", json!(-1)), "mac", json!("x")),
        "bogus",
        json!(1),
    );
    let error = assert_graph_error(app.post_row(&body).await, 400, "badRequest").await;
    let mut targets: Vec<&str> = error["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["target"].as_str().unwrap())
        .collect();
    targets.sort();
    assert_eq!(targets, ["bogus", "mac", "web"]);
    assert_eq!(app.row_count().await, 0);
}

async fn links_use_the_prefix_the_request_used(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let response = app
        .post_raw(
            BETA_COLLECTION,
            Some("application/json"),
            valid_row().to_string(),
        )
        .await;
    assert_eq!(response.status().as_u16(), 201);
    assert_eq!(response.headers()["content-type"], JSON_CONTENT_TYPE);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let created: Value = response.json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    assert_eq!(location, app.url(&format!("{BETA_COLLECTION}/{id}")));
    assert_eq!(
        created["@odata.context"],
        app.url("/beta/$metadata#reports/teamsDeviceUsageDistributionUserCounts/$entity")
    );
    // The same row read through either prefix names that prefix.
    for (collection, version) in [(COLLECTION, "v1.0"), (BETA_COLLECTION, "beta")] {
        let response = app.get(&format!("{collection}/{id}")).await;
        assert_eq!(response.status().as_u16(), 200);
        let row: Value = response.json().await.unwrap();
        assert_eq!(
            row["@odata.context"],
            app.url(&format!(
                "/{version}/$metadata#reports/teamsDeviceUsageDistributionUserCounts/$entity"
            ))
        );
        assert_eq!(row["id"], id);
    }
    // A replay through /v1.0 of a row created through /beta answers in /v1.0 terms.
    let replay: Value = app.post_row(&valid_row()).await.json().await.unwrap();
    assert_eq!(replay["id"], id);
    assert!(replay["@odata.context"]
        .as_str()
        .unwrap()
        .contains("/v1.0/"));
}

async fn optional_counts_may_be_absent_null_or_counts(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let cases = [
        ("2026-10-01", json!(null), json!(null), false),
        ("2026-10-02", json!(null), json!(null), true),
        ("2026-10-03", json!(4), json!(0), true),
        ("2026-10-04", json!(null), json!(9), true),
    ];
    for (date, chrome_os, linux, send) in cases {
        let mut body = with(valid_row(), "reportRefreshDate", json!(date));
        if send {
            body = with(
                with(body, "chromeOS", chrome_os.clone()),
                "linux",
                linux.clone(),
            );
        }
        let response = app.post_row(&body).await;
        assert_eq!(response.status().as_u16(), 201, "{body}");
        let created: Value = response.json().await.unwrap();
        assert_eq!(
            (&created["chromeOS"], &created["linux"]),
            (&chrome_os, &linux)
        );
        let id = created["id"].as_str().unwrap();
        let fetched: Value = app
            .get(&format!("{COLLECTION}/{id}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(fetched, created);
    }
    assert_eq!(app.row_count().await, 4);
}

async fn ieee754_compatible_clients_may_send_int64_as_strings(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    // 2^53 + 1: a JavaScript number cannot hold it, a string can.
    let body = with(
        with(
            with(valid_row(), "web", json!("9007199254740993")),
            "linux",
            json!("0"),
        ),
        "windows",
        json!(7),
    );
    let response = app
        .post_raw(
            COLLECTION,
            Some("application/json;IEEE754Compatible=true"),
            body.to_string(),
        )
        .await;
    assert_eq!(response.status().as_u16(), 201);
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["web"], json!(9_007_199_254_740_993_i64));
    assert_eq!(created["linux"], json!(0));
    assert_eq!(created["windows"], json!(7));
    // The same content sent as numbers is a replay of it.
    let numbers = with(
        with(valid_row(), "web", json!(9_007_199_254_740_993_i64)),
        "linux",
        json!(0),
    );
    let replay = app.post_row(&numbers).await;
    assert_eq!(replay.status().as_u16(), 200);
    assert_eq!(app.row_count().await, 1);
}

async fn ieee754_compatible_clients_read_int64_as_strings(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let response = app
        .request(reqwest::Method::POST, COLLECTION)
        .header("accept", "application/json;IEEE754Compatible=true")
        .json(&with(valid_row(), "mac", json!(i64::MAX)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("IEEE754Compatible=true"));
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["mac"], "9223372036854775807");
    assert_eq!(created["web"], "3");
    assert_eq!(created["chromeOS"], Value::Null);
    assert_eq!(created["reportPeriod"], "7");
    let id = created["id"].as_str().unwrap();
    let plain: Value = app
        .get(&format!("{COLLECTION}/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(plain["mac"], json!(i64::MAX));
}

async fn a_replay_is_judged_by_content_not_spelling(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let first: Value = app.post_row(&valid_row()).await.json().await.unwrap();
    // No @odata.type, explicit nulls, other key order, another prefix: same content.
    let respelled = json!({
        "reportPeriod": "7", "windows": 7, "mac": 3, "ios": 3, "androidPhone": 12,
        "windowsPhone": 12, "web": 3, "reportRefreshDate": "2026-11-01",
        "chromeOS": null, "linux": null
    });
    for (collection, body) in [
        (COLLECTION, without(valid_row(), "@odata.type")),
        (BETA_COLLECTION, respelled),
    ] {
        let response = app
            .post_raw(collection, Some("application/json"), body.to_string())
            .await;
        assert_eq!(response.status().as_u16(), 200, "{body}");
        assert!(!response.headers().contains_key("location"));
        let again: Value = response.json().await.unwrap();
        assert_eq!(again["id"], first["id"]);
        assert_eq!(again["web"], first["web"]);
    }
    assert_eq!(app.row_count().await, 1);
}

async fn a_conflict_on_an_optional_count_names_the_existing_id(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let first: Value = app
        .post_row(&with(valid_row(), "chromeOS", json!(5)))
        .await
        .json()
        .await
        .unwrap();
    let id = first["id"].as_str().unwrap();
    // Null (or absent) where a count is stored is other content, not a replay.
    for body in [
        valid_row(),
        with(valid_row(), "chromeOS", json!(6)),
        with(valid_row(), "linux", json!(0)),
    ] {
        let error = assert_graph_error(app.post_row(&body).await, 409, "conflict").await;
        assert!(
            error["error"]["message"].as_str().unwrap().contains(id),
            "{error}"
        );
    }
    let stored: Value = app
        .get(&format!("{COLLECTION}/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stored, first);
    assert_eq!(app.row_count().await, 1);
}

async fn two_tenants_may_store_the_same_natural_key(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let contoso = app.token_for("contoso", READ_WRITE).await;
    let ours: Value = app.post_row(&valid_row()).await.json().await.unwrap();
    // Other counts under the same key: no conflict across tenants.
    let response = app
        .post_row_as(&contoso, &with(valid_row(), "web", json!(99)))
        .await;
    assert_eq!(response.status().as_u16(), 201);
    let theirs: Value = response.json().await.unwrap();
    assert_ne!(theirs["id"], ours["id"]);
    // And identical content is a replay only within one tenant.
    let response = app
        .post_row_as(&contoso, &with(valid_row(), "web", json!(99)))
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let ours_again = app.post_row(&valid_row()).await;
    assert_eq!(ours_again.status().as_u16(), 200);
    let ours_again: Value = ours_again.json().await.unwrap();
    assert_eq!(ours_again["id"], ours["id"]);
    assert_eq!(app.row_count().await, 2);
}

/// Collectors retry in parallel: of many simultaneous POSTs of one key, one
/// creates, the identical ones replay it and the different ones conflict.
async fn concurrent_posts_of_one_key_store_it_once(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let bodies: Vec<Value> = (0..24)
        .map(|i| {
            if i % 3 == 0 {
                with(valid_row(), "web", json!(100 + i))
            } else {
                valid_row()
            }
        })
        .collect();
    let responses =
        futures_util::future::join_all(bodies.iter().map(|body| app.post_row(body))).await;
    let mut created = Vec::new();
    let mut statuses = Vec::new();
    for (body, response) in bodies.iter().zip(responses) {
        let status = response.status().as_u16();
        let json: Value = response.json().await.unwrap();
        statuses.push(status);
        if status == 201 {
            created.push((body.clone(), json["id"].clone()));
        }
    }
    assert_eq!(created.len(), 1, "{statuses:?}");
    let (winner, id) = &created[0];
    for (body, status) in bodies.iter().zip(&statuses) {
        let expected = if body == winner {
            [200, 201]
        } else {
            [409, 409]
        };
        assert!(expected.contains(status), "{body} -> {status}");
    }
    let stored: Value = app
        .get(&format!("{COLLECTION}/{}", id.as_str().unwrap()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stored["web"], winner["web"]);
    assert_eq!(app.row_count().await, 1);
}
