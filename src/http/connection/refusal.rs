//! A refused request head's answer, written straight to the socket: Graph's
//! error JSON with a `request-id`, as every other answer, and the connection closed.

use std::time::SystemTime;

use actix_web::http::header::HttpDate;
use actix_web::http::StatusCode;
use actix_web::ResponseError;
use uuid::Uuid;

use super::framing::{Refusal, MAX_HEADERS};
use crate::domain::Int64Format;
use crate::error::ApiError;
use crate::http::ODATA_VERSION;
use crate::telemetry::{self, RequestIds};

/// The whole HTTP/1.1 response to `refusal` and its status; its access line is logged here.
pub(super) fn answer(refusal: &Refusal) -> (Vec<u8>, StatusCode) {
    let error = api_error(refusal);
    let status = error.status_code();
    let ids = RequestIds {
        request_id: Uuid::new_v4(),
        client_request_id: None,
    };
    let body = error.to_json_with(&ids).to_string();
    telemetry::log_refused_head(ids.request_id, status, body.len());
    let bytes = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: {}\r\ncontent-length: {}\r\nrequest-id: {}\r\n\
         connection: close\r\n{}: 4.0\r\ndate: {}\r\n\r\n{body}",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        Int64Format::default().content_type(),
        body.len(),
        ids.request_id,
        ODATA_VERSION,
        HttpDate::from(SystemTime::now()),
    )
    .into_bytes();
    (bytes, status)
}

fn api_error(refusal: &Refusal) -> ApiError {
    match refusal {
        Refusal::Malformed(why) => {
            ApiError::bad_request(format!("The request is not valid HTTP/1.1: {why}."))
        }
        Refusal::TargetTooLong { limit } => ApiError::UriTooLong(format!(
            "The request URI is longer than the limit of {limit} bytes."
        )),
        Refusal::HeadTooLarge { limit } => ApiError::HeadersTooLarge(format!(
            "The request line and headers are larger than the limit of {limit} bytes."
        )),
        Refusal::TooManyHeaders => ApiError::HeadersTooLarge(format!(
            "The request has more than {MAX_HEADERS} header fields."
        )),
        Refusal::HeadTimeout => {
            ApiError::RequestTimeout("The request line and headers did not arrive in time.".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_is_graph_json_with_its_request_id() {
        let (answer, status) = answer(&Refusal::TooManyHeaders);
        assert_eq!(status.as_u16(), 431);
        let answer = String::from_utf8(answer).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["error"]["code"], "requestHeaderFieldsTooLarge");
        let id = json["error"]["innerError"]["request-id"].as_str().unwrap();
        assert!(head.contains(&format!("\r\nrequest-id: {id}\r\n")));
        assert!(head.contains(&format!("\r\ncontent-length: {}\r\n", body.len())));
        assert!(head.contains("\r\nconnection: close\r\n"));
        assert!(head.contains("\r\nOData-Version: 4.0\r\n"));
    }
}
