//! `GET {version}/$metadata`: the CSDL that every `@odata.context` points at.
//! Open like `/openapi.json`: it describes the schema, never a row.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use super::resource;
use crate::domain::ApiVersion;
use crate::metadata::csdl;

pub fn configure(config: &mut web::ServiceConfig) {
    config.service(resource("/$metadata", "GET").route(web::get().to(service_metadata)));
}

#[utoipa::path(
    get,
    path = "/$metadata",
    tag = "service",
    operation_id = "serviceMetadata",
    summary = "The CSDL (XML) of the entity type, entity set and report function",
    responses((status = 200, description = "The service's CSDL", content_type = "application/xml")),
)]
async fn service_metadata(version: ApiVersion) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/xml;charset=utf-8"))
        .body(csdl(version))
}
