//! The HTTP surface, one file per part of it.

mod health;
pub mod metrics;
mod rows;

use actix_web::{web, HttpRequest, HttpResponse};

use crate::error::ApiError;

/// The prefixes the Graph API is served under.
pub const API_VERSIONS: [&str; 2] = ["/v1.0", "/beta"];

pub fn configure(config: &mut web::ServiceConfig) {
    health::configure(config);
    metrics::configure(config);
    for version in API_VERSIONS {
        config.service(web::scope(version).configure(rows::configure));
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
