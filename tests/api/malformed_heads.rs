//! Request heads the framework would answer with an empty body (a target or
//! head too long, too many header fields, a head too slow, a malformed line or
//! header), over raw TCP: each gets Graph's error JSON with a `request-id`, the
//! connection is closed, and nothing is written.

use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{valid_row, Backend, TestApp, COLLECTION};
use crate::wire::{connect, exchange, parse_answers, read_to_close};

backend_tests!(
    heads_the_framework_would_refuse_get_graph_errors,
    a_head_too_slow_gets_408,
    a_refused_head_is_answered_after_the_requests_before_it,
    chunked_bodies_are_followed_and_a_broken_one_is_answered_once,
    mangled_requests_never_get_an_answer_outside_graphs_shape
);

async fn spawn(backend: Backend) -> Option<TestApp> {
    TestApp::spawn_with(backend, |s| s.header_read_timeout = Duration::from_secs(1)).await
}

fn post(token: &str, extra_headers: &str, body: &str) -> String {
    format!(
        "POST {COLLECTION} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\n{extra_headers}\r\n{body}"
    )
}

async fn heads_the_framework_would_refuse_get_graph_errors(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let row = valid_row().to_string();
    let len = row.len();
    let token = app.token.clone();
    let many_headers: String = (0..100).map(|i| format!("X-Header-{i}: {i}\r\n")).collect();
    let cases: Vec<(String, Vec<u8>, u16, &str)> = vec![
        (
            "a target of 20,000 bytes".into(),
            format!(
                "GET /health?x={} HTTP/1.1\r\nHost: localhost\r\n\r\n",
                "a".repeat(20_000)
            )
            .into_bytes(),
            414,
            "requestUriTooLong",
        ),
        (
            "a target of 70,000 bytes, past the framework's own URI limit".into(),
            format!(
                "GET /v1.0/{} HTTP/1.1\r\nHost: localhost\r\n\r\n",
                "a".repeat(70_000)
            )
            .into_bytes(),
            414,
            "requestUriTooLong",
        ),
        (
            "100 header fields, past the framework's own limit of 96".into(),
            post(
                &token,
                &format!("{many_headers}Content-Length: {len}\r\n"),
                &row,
            )
            .into_bytes(),
            431,
            "requestHeaderFieldsTooLarge",
        ),
        (
            "a 40 KiB header field".into(),
            post(
                &token,
                &format!(
                    "X-Big: {}\r\nContent-Length: {len}\r\n",
                    "b".repeat(40 * 1024)
                ),
                &row,
            )
            .into_bytes(),
            431,
            "requestHeaderFieldsTooLarge",
        ),
        (
            "a 140 KiB header field, past the framework's own limit".into(),
            post(
                &token,
                &format!(
                    "X-Big: {}\r\nContent-Length: {len}\r\n",
                    "b".repeat(140 * 1024)
                ),
                &row,
            )
            .into_bytes(),
            431,
            "requestHeaderFieldsTooLarge",
        ),
        (
            "HTTP/2.0 on an HTTP/1 connection".into(),
            b"GET /health HTTP/2.0\r\nHost: localhost\r\n\r\n".to_vec(),
            400,
            "badRequest",
        ),
        (
            "HTTP/1.1 without Host".into(),
            b"GET /health HTTP/1.1\r\n\r\n".to_vec(),
            400,
            "badRequest",
        ),
        (
            "two Content-Length fields".into(),
            post(
                &token,
                &format!("Content-Length: {len}\r\nContent-Length: {len}\r\n"),
                &row,
            )
            .into_bytes(),
            400,
            "badRequest",
        ),
        (
            "a signed Content-Length".into(),
            post(&token, &format!("Content-Length: +{len}\r\n"), &row).into_bytes(),
            400,
            "badRequest",
        ),
        (
            "Content-Length with Transfer-Encoding".into(),
            post(
                &token,
                &format!("Content-Length: {len}\r\nTransfer-Encoding: chunked\r\n"),
                &row,
            )
            .into_bytes(),
            400,
            "badRequest",
        ),
        (
            "a Transfer-Encoding other than chunked".into(),
            post(&token, "Transfer-Encoding: gzip\r\n", &row).into_bytes(),
            400,
            "badRequest",
        ),
        (
            "a space in a header name".into(),
            post(
                &token,
                &format!("Bad Name: x\r\nContent-Length: {len}\r\n"),
                &row,
            )
            .into_bytes(),
            400,
            "badRequest",
        ),
        (
            "a control character in the method".into(),
            b"G\x01T /health HTTP/1.1\r\nHost: localhost\r\n\r\n".to_vec(),
            400,
            "badRequest",
        ),
        (
            "a TLS handshake on the plain port".into(),
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03".to_vec(),
            400,
            "badRequest",
        ),
    ];
    for (what, request, status, code) in cases {
        let bytes = exchange(&app, &request).await;
        let answers = parse_answers(&bytes);
        assert_eq!(answers.len(), 1, "{what}: {answers:?}");
        answers[0].assert_graph_error(status, code, &what);
        assert_eq!(answers[0].header("connection"), Some("close"), "{what}");
    }
    assert_eq!(app.row_count().await, 0);
    assert_refusals_counted(&app, &[("400", 9), ("414", 2), ("431", 3)]).await;
}

/// The metrics count each refused head by its status.
async fn assert_refusals_counted(app: &TestApp, expected: &[(&str, u32)]) {
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for (status, count) in expected {
        let line = format!("teams_usage_store_refused_heads_total{{status=\"{status}\"}} {count}");
        assert!(metrics.lines().any(|l| l == line), "{line} in:\n{metrics}");
    }
}

async fn a_head_too_slow_gets_408(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    // A connection that says nothing, one whose head stops half-way, and one
    // that sends its head a byte every 300 ms: each is answered in about a second.
    let head = b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n";
    for (what, sent) in [("nothing", &b""[..]), ("half a head", &head[..20])] {
        let started = Instant::now();
        let mut stream = connect(&app).await;
        stream.write_all(sent).await.unwrap();
        let answers = parse_answers(&read_to_close(&mut stream).await);
        assert_eq!(answers.len(), 1, "{what}");
        answers[0].assert_graph_error(408, "requestTimeout", what);
        assert!(started.elapsed() < Duration::from_secs(4), "{what}");
    }

    let mut stream = connect(&app).await;
    let (mut reader, mut writer) = stream.split();
    let trickle = async {
        for byte in head {
            if writer.write_all(&[*byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    };
    let mut bytes = Vec::new();
    tokio::select! {
        _ = trickle => panic!("the whole head was taken, 12 s after the deadline"),
        _ = reader.read_to_end(&mut bytes) => {}
    }
    let answers = parse_answers(&bytes);
    assert_eq!(answers.len(), 1);
    answers[0].assert_graph_error(408, "requestTimeout", "a head a byte at a time");

    // On a kept-alive connection, the next head is held to the same deadline
    // from its first byte; the answer before it stands.
    let mut stream = connect(&app).await;
    stream.write_all(head).await.unwrap();
    let mut first = vec![0; 4096];
    let n = stream.read(&mut first).await.unwrap();
    assert!(first[..n].starts_with(b"HTTP/1.1 200"));
    stream.write_all(b"GET /hea").await.unwrap();
    let answers = parse_answers(&read_to_close(&mut stream).await);
    assert_eq!(answers.len(), 1);
    answers[0].assert_graph_error(408, "requestTimeout", "a second head that stops");
    assert_refusals_counted(&app, &[("408", 4)]).await;
}

async fn a_refused_head_is_answered_after_the_requests_before_it(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let row = valid_row().to_string();
    let mut pipelined = post(
        &app.token,
        &format!("Content-Length: {}\r\n", row.len()),
        &row,
    );
    pipelined.push_str("GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n");
    pipelined.push_str("GET /health HTTP/1.1\r\n\r\n");
    pipelined.push_str("GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n");
    let answers = parse_answers(&exchange(&app, pipelined.as_bytes()).await);
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    // The request after the refused head is never read.
    assert_eq!(statuses, [201, 200, 400], "{answers:?}");
    answers[2].assert_graph_error(400, "badRequest", "the third request");
    assert_eq!(app.row_count().await, 1);
}

async fn chunked_bodies_are_followed_and_a_broken_one_is_answered_once(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let row = valid_row().to_string();
    let (first, rest) = row.split_at(10);
    let chunked = format!(
        "{:x};note=1\r\n{first}\r\n{:X}\r\n{rest}\r\n0\r\nX-Trailer: 1\r\n\r\n",
        first.len(),
        rest.len()
    );
    // A chunked POST, then a GET on the same connection: both are answered.
    let mut request = post(&app.token, "Transfer-Encoding: chunked\r\n", &chunked);
    request.push_str("GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    let answers = parse_answers(&exchange(&app, request.as_bytes()).await);
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [201, 200], "{answers:?}");
    assert_eq!(app.row_count().await, 1);

    // A chunk size that is not hex: the body ends there, the service answers
    // the request it has once, in Graph's shape, and nothing is stored.
    let broken = "5\r\n{\"a\":\r\nzz\r\n";
    let request = post(&app.token, "Transfer-Encoding: chunked\r\n", broken);
    let answers = parse_answers(&exchange(&app, request.as_bytes()).await);
    assert_eq!(answers.len(), 1, "{answers:?}");
    answers[0].assert_in_contract("a broken chunk");
    assert_eq!(answers[0].status, 400, "{answers:?}");
    assert_eq!(app.row_count().await, 1);
}

async fn mangled_requests_never_get_an_answer_outside_graphs_shape(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let row = valid_row().to_string();
    let original = format!(
        "POST {COLLECTION}?$select=id HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{row}\
         GET {COLLECTION}?$top=1 HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\n\r\n",
        app.token,
        row.len(),
        app.token
    );
    let mut rng = StdRng::seed_from_u64(14);
    let specials: &[u8] = b"\r\n :;\t\x00\x7f\xff0-+,\"%";
    let mut refused = 0;
    for round in 0..150 {
        let mut request = original.clone().into_bytes();
        for _ in 0..rng.gen_range(1..4) {
            let at = rng.gen_range(0..request.len());
            match rng.gen_range(0..4) {
                0 => request[at] = specials[rng.gen_range(0..specials.len())],
                1 => {
                    request.remove(at);
                }
                2 => request.insert(at, specials[rng.gen_range(0..specials.len())]),
                _ => {
                    let end = (at + rng.gen_range(1..40)).min(request.len());
                    let copy = request[at..end].to_vec();
                    request.splice(at..at, copy);
                }
            }
        }
        let context = format!("round {round}: {:?}", String::from_utf8_lossy(&request));
        let mut stream = connect(&app).await;
        let _ = stream.write_all(&request).await;
        // Whatever the server has not closed on by then is a body it waits for.
        let _ = stream.shutdown().await;
        for answer in parse_answers(&read_to_close(&mut stream).await) {
            answer.assert_in_contract(&context);
            refused += usize::from(answer.status >= 400);
        }
    }
    assert!(
        refused > 50,
        "only {refused} refusals: the mangling is too gentle"
    );
}
