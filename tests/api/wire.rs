//! Requests and answers over raw TCP, for the tests of what the connection
//! itself does (heads, bodies, closing, sending).

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::TestApp;

/// One answer read off the wire.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Asserts Graph's error shape with `status` and `code`, and the same
    /// request id in the header and the body.
    pub fn assert_graph_error(&self, status: u16, code: &str, context: &str) {
        assert_eq!(self.status, status, "{context}: {self:?}");
        let json: Value = serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{context}: not JSON ({e}): {self:?}"));
        assert_eq!(json["error"]["code"], code, "{context}: {json}");
        assert!(json["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
        let id = json["error"]["innerError"]["request-id"].as_str();
        assert!(id.is_some(), "{context}: {json}");
        assert_eq!(self.header("request-id"), id, "{context}");
        assert!(
            self.header("content-type")
                .is_some_and(|t| t.starts_with("application/json")),
            "{context}"
        );
    }

    /// A 2xx, or any other status in Graph's error shape.
    pub fn assert_in_contract(&self, context: &str) {
        if (200..300).contains(&self.status) {
            return;
        }
        let json: Value = serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{context}: {} not JSON ({e}): {self:?}", self.status));
        let code = json["error"]["code"].as_str().unwrap_or_default();
        assert!(!code.is_empty(), "{context}: {json}");
        assert_eq!(
            self.header("request-id"),
            json["error"]["innerError"]["request-id"].as_str(),
            "{context}: {json}"
        );
    }
}

/// Every answer in `bytes`, each delimited by its Content-Length.
pub fn parse_answers(mut bytes: &[u8]) -> Vec<Answer> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut response = httparse::Response::new(&mut headers);
        let head_len = match response.parse(bytes) {
            Ok(httparse::Status::Complete(len)) => len,
            other => panic!(
                "not an HTTP response ({other:?}): {:?}",
                String::from_utf8_lossy(bytes)
            ),
        };
        let headers: Vec<(String, String)> = response
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_owned(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect();
        let status = response.code.unwrap();
        let length = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map_or(0, |(_, v)| v.parse::<usize>().unwrap());
        let end = head_len + length;
        assert!(
            end <= bytes.len(),
            "a cut answer: {:?}",
            String::from_utf8_lossy(bytes)
        );
        out.push(Answer {
            status,
            headers,
            body: bytes[head_len..end].to_vec(),
        });
        bytes = &bytes[end..];
    }
    out
}

pub async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Sends `request` and reads everything until the server closes the connection.
pub async fn exchange(app: &TestApp, request: &[u8]) -> Vec<u8> {
    let mut stream = connect(app).await;
    // The server may close before taking all of a refused request: that is its answer.
    let _ = stream.write_all(request).await;
    read_to_close(&mut stream).await
}

pub async fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut answer = Vec::new();
    let mut buffer = [0; 8192];
    let read = async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buffer[..n]),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("the server closes the connection");
    answer
}
