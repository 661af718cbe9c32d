//! Slow and silent clients, over raw TCP: a body that never comes or trickles in
//! gets 408 requestTimeout and a closed connection; a caller who may not write
//! hears 403 without sending its body at all.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{Backend, TestApp, COLLECTION, READ};

backend_tests!(
    a_body_that_never_comes_gets_408_and_a_closed_connection,
    a_body_sent_a_byte_at_a_time_gets_408,
    a_reader_hears_403_without_sending_its_body
);

async fn spawn(backend: Backend) -> Option<TestApp> {
    TestApp::spawn_with(backend, |s| s.body_read_timeout = Duration::from_secs(1)).await
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .unwrap()
}

fn post_head(token: &str, length: usize) -> String {
    format!(
        "POST {COLLECTION} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    )
}

/// Everything the server sends until it closes the connection, within `limit`.
async fn read_to_close(stream: &mut TcpStream, limit: Duration) -> String {
    let mut answer = Vec::new();
    tokio::time::timeout(limit, stream.read_to_end(&mut answer))
        .await
        .expect("the server closes the connection")
        .unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

fn assert_graph_408(answer: &str) {
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"requestTimeout\""), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("request-id:"),
        "{answer}"
    );
}

async fn a_body_that_never_comes_gets_408_and_a_closed_connection(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let started = Instant::now();
    let mut stream = connect(&app).await;
    stream
        .write_all(post_head(&app.token, 60_000).as_bytes())
        .await
        .unwrap();
    let answer = read_to_close(&mut stream, Duration::from_secs(10)).await;
    assert_graph_408(&answer);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(app.row_count().await, 0);
}

async fn a_body_sent_a_byte_at_a_time_gets_408(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut stream = connect(&app).await;
    stream
        .write_all(post_head(&app.token, 60_000).as_bytes())
        .await
        .unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let trickle = tokio::spawn(async move {
        // Each byte well within any per-read timeout; the whole body never arrives in time.
        for _ in 0..40 {
            if writer.write_all(b" ").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(6), reader.read_to_end(&mut answer))
        .await
        .expect("the server closes the connection")
        .unwrap();
    trickle.abort();
    assert_graph_408(&String::from_utf8_lossy(&answer));
    assert_eq!(app.row_count().await, 0);
}

async fn a_reader_hears_403_without_sending_its_body(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let reader = app.token_for("default", READ).await;
    for path in [
        COLLECTION.to_owned(),
        format!("{COLLECTION}/00000000-0000-7000-8000-000000000000"),
    ] {
        let mut stream = connect(&app).await;
        let method = if path == COLLECTION { "POST" } else { "PATCH" };
        let head = post_head(&reader, 60_000)
            .replacen("POST", method, 1)
            .replacen(COLLECTION, &path, 1);
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut buffer = vec![0; 4096];
        let n = tokio::time::timeout(Duration::from_millis(900), stream.read(&mut buffer))
            .await
            .expect("403 before the body deadline")
            .unwrap();
        let answer = String::from_utf8_lossy(&buffer[..n]);
        assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
        assert!(answer.contains("\"accessDenied\""), "{answer}");
    }
}
