//! Collection queries: `$filter`, `$orderby`, paging, `$count`, `$select`,
//! `/$count`, and every way of getting them wrong. Expected answers come from
//! evaluating each query in Rust over the rows the test stored.

mod errors;
mod filter;
mod paging;
mod shape;

use std::cmp::Ordering;

use reqwest::Response;
use serde_json::{json, Value};

use crate::helpers::{TestApp, COLLECTION};

const PERIODS: [&str; 4] = ["7", "30", "90", "180"];

/// Twelve rows whose every property varies, so each filter picks a known subset:
/// three refresh dates x four periods; chromeOS null for every third row, linux
/// for every other.
pub fn fixture() -> Vec<Value> {
    (0..12i64)
        .map(|i| {
            json!({
                "reportRefreshDate": format!("2025-01-0{}", 1 + i / 4),
                "reportPeriod": PERIODS[(i % 4) as usize],
                "web": i,
                "windowsPhone": 11 - i,
                "androidPhone": i * i,
                "ios": i % 3,
                "mac": 100 + i,
                "windows": 2 * i,
                "chromeOS": if i % 3 == 0 { Value::Null } else { json!(i) },
                "linux": if i % 2 == 0 { Value::Null } else { json!(12 - i) },
            })
        })
        .collect()
}

/// Stores the fixture through the API; the rows as a collection lists them
/// (the entity's own `@odata.context` removed).
pub async fn seed_fixture(app: &TestApp) -> Vec<Value> {
    let mut stored = Vec::new();
    for row in fixture() {
        let response = app.post_row(&row).await;
        assert_eq!(response.status().as_u16(), 201);
        let mut body: Value = response.json().await.unwrap();
        body.as_object_mut().unwrap().remove("@odata.context");
        stored.push(body);
    }
    stored
}

/// `GET {collection}` with `options` encoded as a browser would.
pub async fn list(app: &TestApp, options: &[(&str, &str)]) -> Response {
    app.client
        .get(app.url(COLLECTION))
        .query(options)
        .bearer_auth(&app.token)
        .send()
        .await
        .expect("request")
}

/// A page that must succeed.
pub async fn page(app: &TestApp, options: &[(&str, &str)]) -> Value {
    let response = list(app, options).await;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{options:?}: {body}");
    body
}

/// `GET` of a full URL, as a client follows `@odata.nextLink`.
pub async fn follow(app: &TestApp, url: &str) -> Value {
    let response = app
        .client
        .get(url)
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{url}: {body}");
    body
}

pub fn ids(page: &Value) -> Vec<String> {
    page["value"]
        .as_array()
        .expect("a value array")
        .iter()
        .map(|row| row["id"].as_str().unwrap().to_owned())
        .collect()
}

/// A count property's value; `None` for null.
pub fn count(row: &Value, property: &str) -> Option<i64> {
    row[property].as_i64()
}

/// How OData orders a property's values: dates as dates, periods as numbers,
/// null counts before every count.
pub fn compare_by(a: &Value, b: &Value, property: &str) -> Ordering {
    match property {
        "id" | "reportRefreshDate" => a[property].as_str().cmp(&b[property].as_str()),
        "reportPeriod" => {
            let days = |row: &Value| row[property].as_str().unwrap().parse::<i64>().unwrap();
            days(a).cmp(&days(b))
        }
        _ => count(a, property).cmp(&count(b, property)),
    }
}

/// The ids of `rows` sorted as `$orderby` with `keys` (property, descending)
/// sorts them, id ascending last.
pub fn sorted_ids(rows: &[Value], keys: &[(&str, bool)]) -> Vec<String> {
    let mut rows: Vec<&Value> = rows.iter().collect();
    rows.sort_by(|a, b| {
        keys.iter()
            .map(|(property, descending)| {
                let order = compare_by(a, b, property);
                if *descending {
                    order.reverse()
                } else {
                    order
                }
            })
            .chain([compare_by(a, b, "id")])
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    });
    rows.iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}
