//! What the connection itself holds a client to, over raw TCP: a body no
//! handler reads has a deadline, nothing sent after a request that closes the
//! connection runs, every request gets one answer, and a response the client
//! leaves unread is abandoned.

use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate};
use teams_usage_store::domain::ReportPeriod;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;

use crate::common::fixtures::row;
use crate::helpers::{valid_row, Backend, TestApp, COLLECTION};
use crate::wire::{connect, exchange, parse_answers, read_to_close};

backend_tests!(
    a_body_no_handler_reads_ends_at_its_deadline,
    an_endless_body_is_cut_at_its_deadline,
    nothing_sent_after_a_closing_request_runs,
    connect_gets_one_answer,
    a_response_the_client_leaves_unread_is_abandoned
);

const BODY_TIMEOUT: Duration = Duration::from_secs(1);
/// The connection's own body deadline: `BODY_TIMEOUT` and its grace second.
const CONNECTION_BODY_TIMEOUT: Duration = Duration::from_secs(2);

async fn spawn(backend: Backend) -> Option<TestApp> {
    TestApp::spawn_with(backend, |s| {
        s.body_read_timeout = BODY_TIMEOUT;
        s.send_timeout = Duration::from_secs(1);
    })
    .await
}

fn post(token: &str, connection: &str, body: &str) -> String {
    format!(
        "POST {COLLECTION} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n{connection}\r\n{body}",
        body.len()
    )
}

async fn a_body_no_handler_reads_ends_at_its_deadline(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    // `/health` never reads a body: it answers at once, and then the
    // framework waits for the rest of the chunk it was promised.
    for (what, request) in [
        (
            "a chunk that stops",
            "GET /health HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n",
        ),
        (
            "a length that never comes",
            "GET /health HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n",
        ),
    ] {
        let started = Instant::now();
        let answer = exchange(&app, request.as_bytes()).await;
        let elapsed = started.elapsed();
        let answers = parse_answers(&answer);
        assert_eq!(answers.len(), 1, "{what}: {answers:?}");
        assert_eq!(answers[0].status, 200, "{what}");
        // The framework closes at once after an unread length; it would wait
        // for the rest of a chunk, which the connection's deadline ends.
        assert!(
            elapsed < CONNECTION_BODY_TIMEOUT + Duration::from_secs(2),
            "{what}: closed after {elapsed:?}"
        );
    }
}

async fn an_endless_body_is_cut_at_its_deadline(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let stream = connect(&app).await;
    let (mut reader, mut writer) = stream.into_split();
    let started = Instant::now();
    let sink = tokio::spawn(async move {
        let head = "GET /health HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n";
        let mut sent = 0usize;
        if writer.write_all(head.as_bytes()).await.is_err() {
            return sent;
        }
        let block = [b'x'; 16 * 1024];
        // Bounded: at most 30 s of sending whatever happens.
        while started.elapsed() < Duration::from_secs(30) {
            match writer.write_all(&block).await {
                Ok(()) => sent += block.len(),
                Err(_) => break,
            }
        }
        sent
    });
    let mut answer = Vec::new();
    let mut buffer = [0; 4096];
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match reader.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the connection outlived its body deadline");
    let elapsed = started.elapsed();
    assert!(
        elapsed < CONNECTION_BODY_TIMEOUT + Duration::from_secs(2),
        "{elapsed:?}"
    );
    let answers = parse_answers(&answer);
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert_eq!(answers[0].status, 200);
    // The upload ends too: the server stopped taking it.
    let sent = tokio::time::timeout(Duration::from_secs(25), sink)
        .await
        .expect("the upload is refused once the connection is cut")
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "sent {sent} bytes"
    );
}

async fn nothing_sent_after_a_closing_request_runs(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let row = valid_row().to_string();
    let second = valid_row()
        .as_object()
        .cloned()
        .map(|mut body| {
            body.insert("reportRefreshDate".into(), "2026-01-02".into());
            serde_json::Value::Object(body).to_string()
        })
        .unwrap();
    let cases = [
        (
            "GET with Connection: close",
            "GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".to_owned(),
            vec![200],
        ),
        (
            "Connection: close among other options",
            "GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive, close\r\n\r\n"
                .to_owned(),
            vec![200],
        ),
        (
            "HTTP/1.0 without keep-alive",
            "GET /health HTTP/1.0\r\n\r\n".to_owned(),
            vec![200],
        ),
        (
            "a POST with Connection: close",
            post(&app.token, "Connection: close\r\n", &row),
            vec![201],
        ),
    ];
    let mut stored = 0;
    for (what, first, statuses) in cases {
        let mut pipelined = first.into_bytes();
        pipelined.extend_from_slice(post(&app.token, "", &second).as_bytes());
        let answers = parse_answers(&exchange(&app, &pipelined).await);
        let got: Vec<u16> = answers.iter().map(|a| a.status).collect();
        assert_eq!(got, statuses, "{what}: {answers:?}");
        stored += statuses.iter().filter(|&&s| s == 201).count() as i64;
        // The pipelined POST never ran.
        assert_eq!(app.row_count().await, stored, "{what}");
    }
    // An HTTP/1.0 request that asks to be kept alive is: the next one runs.
    let mut pipelined = b"GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n".to_vec();
    pipelined.extend_from_slice(post(&app.token, "Connection: close\r\n", &second).as_bytes());
    let answers = parse_answers(&exchange(&app, &pipelined).await);
    let got: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert_eq!(got, [200, 201], "{answers:?}");
    assert_eq!(app.row_count().await, stored + 1);
}

async fn connect_gets_one_answer(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    for request in [
        "CONNECT localhost:443 HTTP/1.1\r\nHost: localhost:443\r\n\r\n",
        "CONNECT localhost:443 HTTP/1.1\r\nHost: localhost:443\r\nContent-Length: 0\r\n\r\n",
        "CONNECT localhost:443 HTTP/1.1\r\nHost: localhost:443\r\nContent-Length: 0\r\n\r\nGET /health HTTP/1.1\r\nHost: localhost\r\n\r\n",
    ] {
        let answers = parse_answers(&exchange(&app, request.as_bytes()).await);
        assert_eq!(answers.len(), 1, "{request:?}: {answers:?}");
        answers[0].assert_in_contract(request);
        assert!(answers[0].status >= 400, "{request:?}: {answers:?}");
    }
}

async fn a_response_the_client_leaves_unread_is_abandoned(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    // About 6 MB of CSV: more than the socket buffers of both ends hold (4 MiB at most here).
    let first = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap();
    let periods = [
        ReportPeriod::D7,
        ReportPeriod::D30,
        ReportPeriod::D90,
        ReportPeriod::D180,
    ];
    let rows: Vec<_> = (0..40_000u64)
        .flat_map(|i| {
            let day = first.checked_add_days(Days::new(i)).unwrap().to_string();
            periods.map(|period| row("default", &day, period, 1_000_000_000_000 + i as i64))
        })
        .collect();
    app.store.import_rows(&rows, &|_| {}).await.unwrap();

    let socket = TcpSocket::new_v4().unwrap();
    // A small window, so the server's writes stall as soon as possible.
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket
        .connect(app.address.trim_start_matches("http://").parse().unwrap())
        .await
        .unwrap();
    let request = format!(
        "GET {COLLECTION}?$format=text/csv HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\n\r\n",
        app.token
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    // The client reads nothing for long past the send deadline (and past the
    // time the service takes to produce more than the buffers hold)...
    tokio::time::sleep(Duration::from_secs(12)).await;
    // ...and then finds the response cut short and the connection closed.
    let started = Instant::now();
    let answer = read_to_close(&mut stream).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    let text = String::from_utf8_lossy(&answer);
    assert!(
        text.starts_with("HTTP/1.1 200"),
        "{}",
        &text[..text.len().min(300)]
    );
    assert!(
        text.lines().count() < rows.len(),
        "the whole export ({} bytes) arrived though the client read nothing for 12 s",
        answer.len()
    );
    // The service goes on serving.
    assert_eq!(app.get("/health").await.status(), 200);
}
