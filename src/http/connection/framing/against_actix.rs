//! `framing.rs` pinned to actix-http's own decoder: the same bytes fed to
//! both must give the same requests, split at the same places, refused alike,
//! and closing the connection alike. An upgrade of actix-http that changes
//! how it reads a request fails here instead of drifting silently.

use actix_codec::Decoder;
use actix_http::h1::{Codec, Message, MessageType};
use actix_http::ServiceConfig;
use actix_web::web::BytesMut;

use super::{HeadLimits, RequestFraming, State, Stop};

/// What one reader made of the input: each complete request as (where it
/// ended, whether it closes the connection), and whether a request was refused.
#[derive(Debug, PartialEq, Eq)]
struct Reading {
    requests: Vec<(usize, bool)>,
    refused: bool,
}

fn actix_reading(input: &[u8]) -> Reading {
    let mut codec = Codec::new(ServiceConfig::default());
    let mut buffer = BytesMut::from(input);
    let mut requests = Vec::new();
    let mut closes = false;
    let mut open = false;
    loop {
        match codec.decode(&mut buffer) {
            Err(_) => {
                return Reading {
                    requests,
                    refused: true,
                }
            }
            Ok(None) => break,
            Ok(Some(Message::Item(_))) => {
                closes = !codec.keep_alive();
                if codec.message_type() == MessageType::None {
                    requests.push((input.len() - buffer.len(), closes));
                } else {
                    open = true;
                }
            }
            Ok(Some(Message::Chunk(Some(_)))) => {}
            Ok(Some(Message::Chunk(None))) => {
                requests.push((input.len() - buffer.len(), closes));
                open = false;
            }
        }
    }
    // A body to the connection's end (CONNECT, an upgrade) ends with the input.
    if open && codec.message_type() == MessageType::Stream {
        requests.push((input.len(), closes));
    }
    Reading {
        requests,
        refused: false,
    }
}

/// The same, by `RequestFraming`, a byte at a time so that each request's
/// end is seen where it happens. A request that closes the connection is
/// followed by whatever comes after it, as actix-http would read it.
fn framing_reading(input: &[u8]) -> Reading {
    let mut framing = RequestFraming::new(HeadLimits::default());
    let mut requests = Vec::new();
    for (at, byte) in input.iter().enumerate() {
        let heads_before = framing.heads_read;
        let body_before = framing.body_due();
        match framing.scan(std::slice::from_ref(byte)).stop {
            Some(Stop::Refuse(_) | Stop::Cut) => {
                return Reading {
                    requests,
                    refused: true,
                }
            }
            Some(Stop::Close) => requests.push((at + 1, true)),
            None => {
                let head_ended = framing.heads_read > heads_before;
                let body_ended = body_before && !framing.body_due();
                if (head_ended && !framing.body_due()) || (body_ended && !head_ended) {
                    requests.push((at + 1, framing.last));
                }
            }
        }
    }
    if matches!(framing.state, State::UntilClose) {
        requests.push((input.len(), framing.last));
    }
    Reading {
        requests,
        refused: false,
    }
}

/// Requests of every framing the service meets or refuses, each followed by
/// a plain GET so that a misplaced boundary shows.
fn corpus() -> Vec<Vec<u8>> {
    let bodies: [(&str, &str); 12] = [
        ("", ""),
        ("Content-Length: 0\r\n", ""),
        ("Content-Length: 5\r\n", "hello"),
        ("Content-Length:  3 \r\n", "abc"),
        ("Content-Length: +3\r\n", "abc"),
        ("Content-Length: 3\r\nContent-Length: 3\r\n", "abc"),
        ("Transfer-Encoding: chunked\r\n", "5\r\nhello\r\n0\r\n\r\n"),
        (
            "Transfer-Encoding: Chunked\r\n",
            "3;x=y\r\nabc\r\n0\r\nT: 1\r\n\r\n",
        ),
        ("Transfer-Encoding: chunked\r\n", "zz\r\n"),
        ("Transfer-Encoding: identity\r\n", ""),
        ("Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", "abc"),
        ("Upgrade: websocket\r\n", "anything"),
    ];
    let connections = [
        "",
        "Connection: close\r\n",
        "Connection: keep-alive\r\n",
        "Connection: keep-alive, close\r\n",
        "Connection: Upgrade\r\n",
        "Connection: te\r\n",
    ];
    let mut corpus = Vec::new();
    for method in ["GET", "POST", "HEAD", "DELETE", "CONNECT"] {
        for version in ["1.1", "1.0"] {
            for host in ["Host: a\r\n", ""] {
                for connection in connections {
                    for (fields, body) in bodies {
                        let request = format!(
                            "{method} /p HTTP/{version}\r\n{host}{connection}{fields}\r\n{body}\
                             GET /next HTTP/1.1\r\nHost: a\r\n\r\n"
                        );
                        corpus.push(request.into_bytes());
                    }
                }
            }
        }
    }
    corpus
}

// actix-http's config starts its date service on the current runtime.
#[actix_web::test]
async fn framing_reads_every_request_as_actix_http_does() {
    let corpus = corpus();
    assert!(corpus.len() > 1000);
    for input in corpus {
        assert_eq!(
            framing_reading(&input),
            actix_reading(&input),
            "{}",
            String::from_utf8_lossy(&input)
        );
    }
}
