//! Int64 output: with `IEEE754Compatible=true` in Accept every JSON route
//! writes Int64 values as strings and says so in its Content-Type.

use serde_json::{json, Value};

use super::{content_type, report};
use crate::helpers::{valid_row, with, Backend, TestApp, BETA_COLLECTION, COLLECTION};

backend_tests!(every_json_route_writes_int64_as_strings_when_asked,);

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
