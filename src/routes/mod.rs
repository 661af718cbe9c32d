//! The HTTP surface, one file per part of it.

pub mod batch;
mod collector;
mod dashboard;
mod health;
mod metadata;
mod metrics;
pub mod openapi;
mod report;
mod rows;
mod tenants;

/// The collection as a streamed CSV file (its page-at-a-time stream is tested on its own).
pub use rows::csv as rows_csv;

use actix_web::{web, HttpRequest, HttpResponse};

use crate::domain::ApiVersion;
use crate::error::ApiError;
use crate::http::BodyLimit;

/// Every route of the service. `batch_body_limit` applies to `$batch` only.
pub fn configure(config: &mut web::ServiceConfig, batch_body_limit: BodyLimit) {
    health::configure(config);
    metrics::configure(config);
    openapi::configure(config);
    dashboard::configure(config);
    for version in ApiVersion::ALL {
        config.service(
            web::scope(&format!("/{}", version.segment()))
                // What handlers take as their `ApiVersion`.
                .app_data(version)
                .configure(metadata::configure)
                .configure(rows::configure)
                .configure(report::configure)
                .configure(collector::configure)
                .configure(tenants::configure)
                .configure(dashboard::configure_chart)
                .configure(|config| batch::configure(config, batch_body_limit)),
        );
    }
    config.default_service(web::to(unknown_route));
}

/// The methods a resource serves, for the `Allow` header of its 405.
#[derive(Debug, Clone, Copy)]
struct Allow(&'static str);

/// A resource's answer to a method it does not serve: 405 naming the ones it does.
async fn method_not_allowed(request: HttpRequest) -> HttpResponse {
    let error = ApiError::MethodNotAllowed(format!(
        "{} is not allowed on {}",
        request.method(),
        request.path()
    ));
    let mut response = actix_web::ResponseError::error_response(&error);
    if let Some(Allow(methods)) = request.app_data::<Allow>() {
        if let Ok(value) = actix_web::http::header::HeaderValue::from_str(methods) {
            response
                .headers_mut()
                .insert(actix_web::http::header::ALLOW, value);
        }
    }
    response
}

async fn unknown_route(request: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound(format!(
        "Resource not found for the segment '{}'.",
        request.path()
    )))
}

/// A resource serving `allow` (as the `Allow` header spells them, `GET, POST`)
/// whose other methods answer 405 in Graph's shape with that header.
fn resource(path: &str, allow: &'static str) -> actix_web::Resource {
    web::resource(path)
        .app_data(Allow(allow))
        .default_service(web::to(method_not_allowed))
}
