//! The HTTP surface, one file per part of it.

pub mod batch;
mod dashboard;
mod health;
mod metrics;
pub mod openapi;
mod report;
mod rows;

use actix_web::{web, HttpRequest, HttpResponse};

use crate::error::ApiError;
use crate::http::BodyLimit;

/// The prefixes the Graph API is served under.
pub const API_VERSIONS: [&str; 2] = ["/v1.0", "/beta"];

/// Every route of the service. `batch_body_limit` applies to `$batch` only.
pub fn configure(config: &mut web::ServiceConfig, batch_body_limit: BodyLimit) {
    health::configure(config);
    metrics::configure(config);
    openapi::configure(config);
    dashboard::configure(config);
    for version in API_VERSIONS {
        config.service(
            web::scope(version)
                .configure(rows::configure)
                .configure(report::configure)
                .configure(dashboard::configure_chart)
                .configure(|config| batch::configure(config, batch_body_limit)),
        );
    }
    config.default_service(web::to(unknown_route));
}

/// A resource's answer to a method it does not serve.
async fn method_not_allowed(request: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed(format!(
        "{} is not allowed on {}",
        request.method(),
        request.path()
    )))
}

async fn unknown_route(request: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound(format!(
        "Resource not found for the segment '{}'.",
        request.path()
    )))
}

/// A resource whose other methods answer 405 in Graph's shape.
fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}
