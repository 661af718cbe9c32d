//! Running a batch through a small app of its own: what a batch refuses to
//! carry, and its caps, with caps small enough to reach.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use actix_web::test::TestRequest;
use actix_web::web::{self, Bytes};
use actix_web::{App, HttpResponse};
use futures_util::stream;
use serde_json::{json, Value};

use super::dispatch::BatchDispatcher;
use super::envelope::{parse_batch, BatchResponseItem};
use super::limits::BatchLimits;

const COLLECTION: &str = "/v1.0/reports/teamsDeviceUsageDistributionUserCounts";

/// How often each kind of route was reached, and whether a stream was read.
#[derive(Default)]
struct Calls {
    collection: Cell<u32>,
    report: Cell<u32>,
    late: Cell<u32>,
    polled: Cell<u32>,
}

/// JSON of exactly `n` bytes (`n >= 2`): a string of `x`.
fn json_of(n: usize) -> String {
    format!("\"{}\"", "x".repeat(n - 2))
}

/// Stand-ins for the real routes, at their paths, counting their calls.
fn app(
    calls: &Rc<Calls>,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let (c1, c2, c3, c4) = (calls.clone(), calls.clone(), calls.clone(), calls.clone());
    App::new()
        .route(
            COLLECTION,
            web::get().to(move || {
                let calls = c1.clone();
                async move {
                    calls.collection.set(calls.collection.get() + 1);
                    HttpResponse::Ok().json(json!({"value": []}))
                }
            }),
        )
        .route(
            "/v1.0/reports/{call}",
            web::get().to(move || {
                let calls = c2.clone();
                async move {
                    calls.report.set(calls.report.get() + 1);
                    HttpResponse::Ok().json(json!({"value": []}))
                }
            }),
        )
        .route(
            "/v1.0/sized/{n}",
            web::get().to(|n: web::Path<usize>| async move {
                HttpResponse::Ok()
                    .content_type("application/json")
                    .body(json_of(*n))
            }),
        )
        .route(
            "/v1.0/slow",
            web::get().to(|| async {
                actix_web::rt::time::sleep(Duration::from_millis(100)).await;
                HttpResponse::Ok().json(json!({"slow": true}))
            }),
        )
        .route(
            "/v1.0/late",
            web::get().to(move || {
                let calls = c3.clone();
                async move {
                    calls.late.set(calls.late.get() + 1);
                    HttpResponse::Ok().json(json!({"late": true}))
                }
            }),
        )
        .route(
            "/v1.0/csv",
            web::get().to(|| async {
                HttpResponse::Ok()
                    .content_type("Text/CSV; charset=utf-8")
                    .body("a,b\r\n")
            }),
        )
        .route(
            "/v1.0/stream",
            web::get().to(move || {
                let calls = c4.clone();
                let chunks = stream::poll_fn(move |_| {
                    calls.polled.set(calls.polled.get() + 1);
                    std::task::Poll::Ready(None::<Result<Bytes, actix_web::Error>>)
                });
                async move {
                    HttpResponse::Ok()
                        .content_type("application/json")
                        .streaming(chunks)
                }
            }),
        )
}

async fn run(calls: &Rc<Calls>, limits: BatchLimits, requests: Value) -> Vec<BatchResponseItem> {
    let dispatcher = BatchDispatcher::with_limits(app(calls), limits);
    let plan = parse_batch(&json!({ "requests": requests })).expect("a well-formed batch");
    let batch = TestRequest::post().uri("/v1.0/$batch").to_http_request();
    dispatcher
        .run(&batch, "/v1.0", plan)
        .await
        .expect("the batch runs")
}

fn get(id: &str, url: &str) -> Value {
    json!({"id": id, "method": "GET", "url": url})
}

fn body(item: &BatchResponseItem) -> Value {
    item.body
        .as_ref()
        .expect("a body")
        .to_value()
        .expect("JSON")
}

fn code(item: &BatchResponseItem) -> String {
    body(item)["error"]["code"]
        .as_str()
        .expect("a Graph error")
        .to_owned()
}

fn message(item: &BatchResponseItem) -> String {
    body(item)["error"]["message"]
        .as_str()
        .expect("a Graph error")
        .to_owned()
}

#[actix_web::test]
async fn csv_is_refused_before_its_route_runs() {
    let calls = Rc::new(Calls::default());
    let accept = |id: &str, url: &str, accept: &str| json!({"id": id, "method": "GET", "url": url, "headers": {"Accept": accept}});
    let rows = "/reports/teamsDeviceUsageDistributionUserCounts";
    let report = "/reports/getTeamsDeviceUsageDistributionUserCounts(period='D7')";
    let answers = run(
        &calls,
        BatchLimits::DEFAULT,
        json!([
            get("format", &format!("{rows}?$format=text/csv")),
            get(
                "format-params",
                &format!("{rows}?$FORMAT=text%2Fcsv;charset=utf-8&$top=5")
            ),
            accept("accept", rows, "text/csv, application/json"),
            get("report", report),
            get(
                "namespaced",
                "/reports/microsoft.graph.getTeamsDeviceUsageDistributionUserCounts(period='D30')"
            ),
            get("report-format", &format!("{report}?$format=text/csv")),
            accept("report-any", report, "*/*"),
            accept("report-octets", report, "application/octet-stream"),
            get(
                "encoded",
                "/reports/%74eamsDeviceUsageDistributionUserCounts?$format=text/csv"
            ),
        ]),
    )
    .await;
    for answer in &answers {
        assert_eq!(answer.status, 400, "{answer:?}");
        assert_eq!(code(answer), "badRequest");
        let text = message(answer);
        assert!(text.contains("application/json"), "{text}");
    }
    assert_eq!((calls.collection.get(), calls.report.get()), (0, 0));
}

#[actix_web::test]
async fn json_forms_of_the_same_routes_run() {
    let calls = Rc::new(Calls::default());
    let rows = "/reports/teamsDeviceUsageDistributionUserCounts";
    let report = "/reports/getTeamsDeviceUsageDistributionUserCounts(period='D7')";
    let answers = run(
        &calls,
        BatchLimits::DEFAULT,
        json!([
            get("plain", rows),
            get("json", &format!("{rows}?$format=application/json")),
            // CSV is only the collection's answer when it is Accept's first choice.
            {"id": "second", "method": "GET", "url": rows, "headers": {"Accept": "application/json, text/csv"}},
            get("report", &format!("{report}?$format=application/json")),
            {"id": "report-accept", "method": "GET", "url": report, "headers": {"Accept": "application/json"}},
            // The route answers a bad $format itself (406), saying why.
            get("bad-format", &format!("{rows}?$format=text/html")),
            // Only a GET is answered with CSV.
            {"id": "post", "method": "POST", "url": format!("{rows}?$format=text/csv"),
             "headers": {"Content-Type": "application/json"}, "body": {}},
        ]),
    )
    .await;
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    // The stand-in routes answer every GET 200 and have no POST route (404).
    assert_eq!(statuses, [200, 200, 200, 200, 200, 200, 404]);
    assert_eq!((calls.collection.get(), calls.report.get()), (4, 2));
}

#[actix_web::test]
async fn an_answer_found_to_be_csv_or_streamed_is_refused_unread() {
    let calls = Rc::new(Calls::default());
    let answers = run(
        &calls,
        BatchLimits::DEFAULT,
        json!([
            get("csv", "/csv"),
            get("stream", "/stream"),
            get("fine", "/sized/10")
        ]),
    )
    .await;
    assert_eq!(answers[0].status, 400);
    assert_eq!(code(&answers[0]), "badRequest");
    assert_eq!(answers[1].status, 400);
    assert_eq!(calls.polled.get(), 0, "the stream was never read");
    assert_eq!(answers[2].status, 200);
    assert_eq!(body(&answers[2]), json!("x".repeat(8)));
}

#[actix_web::test]
async fn an_answer_over_its_cap_is_replaced_by_an_error() {
    let calls = Rc::new(Calls::default());
    let limits = BatchLimits {
        response_bytes: 1000,
        total_bytes: 10_000,
    };
    let answers = run(
        &calls,
        limits,
        json!([
            get("small", "/sized/500"),
            get("big", "/sized/1001"),
            get("edge", "/sized/900")
        ]),
    )
    .await;
    assert_eq!(answers[0].status, 200);
    assert_eq!(answers[1].status, 413);
    assert_eq!(code(&answers[1]), "responseTooLarge");
    let text = message(&answers[1]);
    assert!(
        text.contains("'big'") && text.contains("1000 bytes"),
        "{text}"
    );
    assert_eq!(
        answers[1].headers["content-type"].split(';').next(),
        Some("application/json")
    );
    // Headers count too: 900 bytes of body and its headers still fit 1000.
    assert_eq!(answers[2].status, 200, "{:?}", answers[2]);
    let over = run(&calls, limits, json!([get("edge", "/sized/990")])).await;
    assert_eq!(
        over[0].status, 413,
        "990 bytes of body and the headers do not"
    );
}

#[actix_web::test]
async fn the_whole_answer_has_a_cap_and_what_would_pass_it_does_not_run() {
    let calls = Rc::new(Calls::default());
    let limits = BatchLimits {
        response_bytes: 4000,
        total_bytes: 2500,
    };
    // A chain: one at a time, so the third is the one that does not fit.
    let chained = |id: &str, after: Option<&str>| {
        let mut request = get(id, "/sized/1000");
        if let Some(after) = after {
            request["dependsOn"] = json!([after]);
        }
        request
    };
    let answers = run(
        &calls,
        limits,
        json!([
            chained("1", None),
            chained("2", Some("1")),
            chained("3", Some("2")),
            chained("4", Some("3")),
        ]),
    )
    .await;
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [200, 200, 413, 424]);
    let text = message(&answers[2]);
    assert!(text.contains("2500 bytes"), "{text}");

    // Once full, a request that has not started does not run, even though
    // what it depends on succeeded.
    let answers = run(
        &calls,
        limits,
        json!([
            get("big", "/sized/3000"),
            get("slow", "/slow"),
            {"id": "late", "method": "GET", "url": "/late", "dependsOn": ["slow"]},
        ]),
    )
    .await;
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [413, 200, 413]);
    assert_eq!(code(&answers[2]), "responseTooLarge");
    let text = message(&answers[2]);
    assert!(text.contains("'late' was not run"), "{text}");
    assert_eq!(calls.late.get(), 0);
}

#[actix_web::test]
async fn concurrent_answers_share_the_cap() {
    let calls = Rc::new(Calls::default());
    let limits = BatchLimits {
        response_bytes: 1000,
        total_bytes: 3000,
    };
    let requests: Vec<Value> = (0..8).map(|i| get(&i.to_string(), "/sized/800")).collect();
    let answers = run(&calls, limits, json!(requests)).await;
    let held: usize = answers
        .iter()
        .filter(|a| a.status == 200)
        .map(|a| body(a).as_str().unwrap().len() + 2)
        .sum();
    let refused = answers.iter().filter(|a| a.status == 413).count();
    assert!(held <= 3000, "{held} bytes embedded");
    assert!(held >= 2 * 800, "what fits is kept: {held}");
    assert_eq!(refused + held / 800, 8, "every answer is kept or refused");
}
