//! `POST {base}/$batch`: Graph's JSON batching. Up to 20 requests in one call,
//! each run through the service's own router with the caller's token, in the
//! order `dependsOn` asks for and otherwise concurrently.

mod dispatch;
#[cfg(test)]
mod dispatch_tests;
mod envelope;
mod limits;
mod streamed;
#[cfg(test)]
mod tests;

use std::rc::Rc;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

pub use dispatch::BatchDispatcher;
pub use envelope::{
    BatchRequestBody, BatchRequestItem, BatchResponseBody, BatchResponseItem, Embedded,
    MAX_REQUESTS,
};
pub use limits::{BatchLimits, RESPONSE_BYTES, TOTAL_BYTES};

use super::resource;
use crate::auth::TokenHolder;
use crate::error::ApiError;
use crate::http::{response_style, BodyLimit, JsonBody};
use crate::openapi::schemas;

pub const BATCH: &str = "/$batch";

/// `batch_body_limit` replaces the usual body limit on this route only: a batch
/// carries up to 20 bodies.
pub fn configure(config: &mut web::ServiceConfig, batch_body_limit: BodyLimit) {
    config.service(
        resource(BATCH, "POST")
            .app_data(batch_body_limit)
            .route(web::post().to(run_batch)),
    );
}

/// The version root the batch was sent to (`/v1.0` or `/beta`): sub-request
/// urls are relative to it.
fn version_root(request: &HttpRequest) -> &str {
    let path = request.path();
    path.strip_suffix(BATCH).unwrap_or(path)
}

#[utoipa::path(
    post,
    path = "/$batch",
    tag = "batch",
    operation_id = "runBatch",
    summary = "Run up to 20 requests in one call (Graph JSON batching)",
    description = "Each request runs as if sent alone, authorised by the batch's own bearer token. \
        Requests without `dependsOn` may run concurrently; a request runs only after every request \
        it depends on has answered 2xx, and answers 424 without running otherwise. Responses come \
        in the order of the requests. A malformed batch is refused whole (400) before anything runs. \
        A request whose answer would be CSV or streamed answers 400 without running; an answer over \
        2 MiB, or one that would take the batch's answer over 8 MiB, is replaced by a 413 \
        `responseTooLarge` error, and once the answer is full the requests not yet started answer \
        413 without running.",
    request_body(content = BatchRequestBody, content_type = "application/json"),
    responses(
        (status = 200, description = "One response per request", body = BatchResponseBody),
        (status = 400, description = "A malformed batch; nothing ran", body = schemas::GraphError),
        (status = 401, description = "Missing or invalid bearer token", body = schemas::GraphError),
        (status = 413, description = "Body over the batch body limit", body = schemas::GraphError),
        (status = 415, description = "Body that is not JSON", body = schemas::GraphError),
    ),
    // Any valid token may batch; each request needs the scope it would need alone.
    security(("bearer" = []))
)]
#[tracing::instrument(level = "debug", skip_all)]
async fn run_batch(
    request: HttpRequest,
    // Only a valid token may batch; each sub-request checks its own scope.
    _holder: TokenHolder,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let Some(dispatcher) = request.app_data::<Rc<BatchDispatcher>>() else {
        // Only the app that serves the network has a dispatcher: this is a batch in a batch.
        return Err(ApiError::bad_request(
            "A batch cannot contain a $batch request",
        ));
    };
    let plan = envelope::parse_batch(&body.value).map_err(|details| ApiError::BadRequest {
        message: match details.len() {
            1 => format!("Invalid batch: {}", details[0].message),
            n => format!("Invalid batch: {n} problems, see details"),
        },
        details,
    })?;
    let responses = dispatcher
        .run(&request, version_root(&request), plan)
        .await?;
    let body = BatchResponseBody { responses }
        .to_json_bytes()
        .map_err(|e| ApiError::Internal(e.into()))?;
    Ok(HttpResponse::Ok()
        .insert_header((
            header::CONTENT_TYPE,
            response_style(&request).content_type(),
        ))
        .body(body))
}
