//! Responses in Graph's JSON content type, written as the client asked.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, ResponseError};

use super::media::ieee754_requested;
use crate::domain::Int64Format;
use crate::error::ApiError;

/// How the client asked responses to be written (the Accept header).
pub fn response_style(request: &HttpRequest) -> Int64Format {
    let accept = request
        .headers()
        .get_all(header::ACCEPT)
        .filter_map(|v| v.to_str().ok())
        .any(ieee754_requested);
    Int64Format {
        ieee754_compatible: accept,
    }
}

/// The header naming the OData version every answer speaks.
pub const ODATA_VERSION: &str = "OData-Version";

/// A JSON response with Graph's content type.
pub fn json_response(
    mut builder: actix_web::HttpResponseBuilder,
    style: Int64Format,
    body: &impl serde::Serialize,
) -> HttpResponse {
    // Straight into bytes: `to_string` goes through `fmt::Display`, a
    // formatter call for every token of the text.
    let bytes = match serde_json::to_vec(body) {
        Ok(bytes) => bytes,
        Err(cause) => return ApiError::Internal(cause.into()).error_response(),
    };
    builder
        .insert_header((header::CONTENT_TYPE, style.content_type()))
        .body(bytes)
}
