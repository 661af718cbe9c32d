//! The batch envelope's rules, without a server.

use actix_web::web::Bytes;
use serde_json::{json, Value};

use super::dispatch::embed_body;
use super::envelope::{parse_batch, BatchResponseBody, BatchResponseItem, Embedded, MAX_REQUESTS};
use crate::domain::FieldProblem;

fn get(id: &str, url: &str) -> Value {
    json!({"id": id, "method": "GET", "url": url})
}

fn problems(body: Value) -> Vec<FieldProblem> {
    parse_batch(&body).expect_err("the batch is refused")
}

fn targets(body: Value) -> Vec<String> {
    problems(body).into_iter().map(|p| p.target).collect()
}

#[test]
fn a_plain_batch_becomes_a_plan_in_request_order() {
    let plan = parse_batch(&json!({"requests": [
        get("1", "/reports/teamsDeviceUsageDistributionUserCounts?$top=5"),
        {"id": "2", "method": "post", "url": "reports/teamsDeviceUsageDistributionUserCounts",
         "headers": {"Content-Type": "application/json"}, "body": {"web": 1}, "dependsOn": ["1"]},
    ]}))
    .unwrap();
    assert_eq!(plan.len(), 2);
    assert_eq!(
        plan[0].target.as_str(),
        "/reports/teamsDeviceUsageDistributionUserCounts?$top=5"
    );
    assert_eq!(plan[1].method, "POST");
    assert_eq!(
        plan[1].target.path(),
        "/reports/teamsDeviceUsageDistributionUserCounts"
    );
    assert_eq!(plan[1].body.as_deref(), Some(&b"{\"web\":1}"[..]));
    assert_eq!(plan[1].depends_on, [0]);
}

#[test]
fn urls_are_encoded_as_a_client_would_send_them() {
    let plan = parse_batch(&json!({"requests": [
        get("1", "/reports/x?$filter=web gt 5 and reportPeriod eq '7'"),
    ]}))
    .unwrap();
    assert_eq!(
        plan[0].target.as_str(),
        "/reports/x?$filter=web%20gt%205%20and%20reportPeriod%20eq%20'7'"
    );
}

#[test]
fn the_envelope_must_be_an_object_with_requests() {
    for body in [
        json!([]),
        json!({}),
        json!({"requests": {}}),
        json!({"requests": [], "extra": 1}),
        json!("requests"),
    ] {
        assert_eq!(targets(body.clone()), ["requests"], "{body}");
    }
}

#[test]
fn a_batch_holds_one_to_twenty_requests() {
    let many = |n: usize| json!({"requests": (0..n).map(|i| get(&i.to_string(), "/reports/x")).collect::<Vec<_>>()});
    assert!(parse_batch(&many(MAX_REQUESTS)).is_ok());
    assert!(problems(many(MAX_REQUESTS + 1))[0].message.contains("21"));
    assert_eq!(targets(many(0)), ["requests"]);
}

#[test]
fn every_bad_request_is_reported_at_once() {
    let found = targets(json!({"requests": [
        {"method": "GET", "url": "/a"},
        {"id": "2", "url": "/a"},
        {"id": "3", "method": "GET"},
        {"id": "4", "method": "GET", "url": "/a", "dependson": []},
        {"id": "5", "method": "G ET", "url": "/a"},
        {"id": "6", "method": "GET", "url": "https://graph.microsoft.com/v1.0/a"},
        {"id": "7", "method": "GET", "url": ""},
        {"id": "8", "method": "GET", "url": "/a", "headers": {"bad name": "x"}},
        {"id": "9", "method": "GET", "url": "/a", "headers": {"x": 1}},
    ]}));
    assert_eq!(
        found,
        [
            "requests[0]",
            "requests[1]",
            "requests[2]",
            "requests[3]",
            "requests[8]",
            "requests[4].method",
            "requests[5].url",
            "requests[6].url",
            "requests[7].headers"
        ]
    );
}

#[test]
fn ids_are_unique_and_not_empty() {
    assert_eq!(
        targets(json!({"requests": [get("1", "/a"), get("1", "/b"), get(" ", "/c")]})),
        ["requests[1].id", "requests[2].id"]
    );
}

#[test]
fn dependencies_must_exist_and_not_loop() {
    let depends =
        |id: &str, on: &[&str]| json!({"id": id, "method": "GET", "url": "/a", "dependsOn": on});
    assert_eq!(
        targets(json!({"requests": [depends("1", &["9"])]})),
        ["requests[0].dependsOn"]
    );
    assert_eq!(
        targets(json!({"requests": [depends("1", &["1"])]})),
        ["requests[0].dependsOn"]
    );
    let cycle = problems(json!({"requests": [
        depends("1", &[]), depends("2", &["4"]), depends("3", &["2"]), depends("4", &["3"]),
    ]}));
    assert_eq!(cycle.len(), 1);
    assert!(
        cycle[0].message.contains("2 -> 4 -> 3 -> 2"),
        "{}",
        cycle[0].message
    );
    // A diamond is not a cycle.
    let diamond = parse_batch(&json!({"requests": [
        depends("1", &[]), depends("2", &["1"]), depends("3", &["1"]), depends("4", &["2", "3"]),
    ]}))
    .unwrap();
    assert_eq!(diamond[3].depends_on, [1, 2]);
}

#[test]
fn a_nested_batch_is_refused_however_it_is_spelled() {
    for url in ["/$batch", "$batch", "/%24batch", "/$BATCH/", "/$batch?x=1"] {
        assert_eq!(
            targets(json!({"requests": [get("1", url)]})),
            ["requests[0].url"],
            "{url}"
        );
    }
}

#[test]
fn bodies_need_a_content_type_and_non_json_ones_are_base64() {
    let with_body = |headers: Value, body: Value| json!({"requests": [{"id": "1", "method": "POST", "url": "/a", "headers": headers, "body": body}]});
    assert_eq!(
        targets(with_body(json!({}), json!({"web": 1}))),
        ["requests[0].headers"]
    );
    assert_eq!(
        targets(with_body(
            json!({"Content-Type": "text/csv"}),
            json!({"web": 1})
        )),
        ["requests[0].body"]
    );
    assert_eq!(
        targets(with_body(
            json!({"Content-Type": "text/csv"}),
            json!("not base64!")
        )),
        ["requests[0].body"]
    );
    let plan = parse_batch(&with_body(
        json!({"content-type": "text/csv"}),
        json!("YSxi"),
    ))
    .unwrap();
    assert_eq!(plan[0].body.as_deref(), Some(&b"a,b"[..]));
    let plan = parse_batch(&with_body(json!({}), Value::Null)).unwrap();
    assert_eq!(plan[0].body, None);
}

#[test]
fn the_batch_decides_who_calls_and_the_length() {
    let plan = parse_batch(&json!({"requests": [{"id": "1", "method": "GET", "url": "/a",
        "headers": {"Authorization": "Bearer other", "Content-Length": "5", "Accept": "text/csv"}}]}))
    .unwrap();
    let names: Vec<_> = plan[0].headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["accept"]);
}

#[test]
fn bodies_are_embedded_by_their_content_type() {
    let json_type = "application/json;odata.metadata=minimal;charset=utf-8";
    let embedded =
        |bytes: &[u8], content_type: &str| embed_body(Bytes::copy_from_slice(bytes), content_type);
    // JSON is kept as the text it came as.
    assert_eq!(
        embedded(b"{\"a\":1}", json_type),
        Some(Embedded::Json(Bytes::from_static(b"{\"a\":1}")))
    );
    assert_eq!(
        embedded(b"{\"a\":1}", json_type)
            .unwrap()
            .to_value()
            .unwrap(),
        json!({"a": 1})
    );
    // A JSON type whose body is not one JSON value is text.
    assert_eq!(
        embedded(b"{\"a\":1} {}", json_type),
        Some(Embedded::Text("{\"a\":1} {}".into()))
    );
    assert_eq!(
        embedded("\u{feff}a,b\r\n".as_bytes(), "text/csv; charset=utf-8"),
        Some(Embedded::Text("\u{feff}a,b\r\n".into()))
    );
    assert_eq!(
        embedded(b"12", "text/plain"),
        Some(Embedded::Text("12".into()))
    );
    assert_eq!(
        embedded(&[0xff, 0x00], "application/octet-stream"),
        Some(Embedded::Text("/wA=".into()))
    );
    assert_eq!(embedded(b"", json_type), None);
}

#[test]
fn the_answer_is_written_with_its_bodies_as_they_came() {
    let item = |id: &str, body: Option<Embedded>| BatchResponseItem {
        id: id.into(),
        status: 200,
        headers: [("content-type".to_owned(), "application/json".to_owned())].into(),
        body,
    };
    let answer = BatchResponseBody {
        responses: vec![
            item(
                "1",
                Some(Embedded::Json(Bytes::from_static(b"{\"value\":[1,2]}"))),
            ),
            item("2", None),
            item("3\"", Some(Embedded::Text("a\"b\r\n".into()))),
            item("4", Some(Embedded::Value(json!({"error": {"code": "x"}})))),
        ],
    };
    let written: Value = serde_json::from_slice(&answer.to_json_bytes().unwrap()).unwrap();
    let headers = json!({"content-type": "application/json"});
    assert_eq!(
        written,
        json!({"responses": [
            {"id": "1", "status": 200, "headers": headers, "body": {"value": [1, 2]}},
            {"id": "2", "status": 200, "headers": headers},
            {"id": "3\"", "status": 200, "headers": headers, "body": "a\"b\r\n"},
            {"id": "4", "status": 200, "headers": headers, "body": {"error": {"code": "x"}}},
        ]})
    );
    let empty = BatchResponseBody { responses: vec![] };
    assert_eq!(empty.to_json_bytes().unwrap(), b"{\"responses\":[]}");
}
