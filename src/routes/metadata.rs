//! What describes the service to a generic OData client: `GET {version}/$metadata`,
//! the CSDL that every `@odata.context` points at, and `GET {version}/`, the
//! service document listing the entity set and the singleton. Open like
//! `/openapi.json`: they describe the schema, never a row.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use super::resource;
use crate::http::service_root;
use crate::metadata::{csdl, service_document};

pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(resource("/$metadata", "GET").route(web::get().to(service_metadata)))
        // The service root, with and without its closing slash.
        .service(
            resource("", "GET")
                .name("service_document")
                .route(web::get().to(service_root_document)),
        )
        .service(resource("/", "GET").route(web::get().to(service_root_document)));
}

#[utoipa::path(
    get,
    path = "/$metadata",
    tag = "service",
    operation_id = "serviceMetadata",
    summary = "The CSDL (XML) of the entity type, entity set, singleton and report function",
    responses((status = 200, description = "The service's CSDL", content_type = "application/xml")),
)]
async fn service_metadata() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/xml;charset=utf-8"))
        .body(csdl())
}

#[utoipa::path(
    get,
    path = "/",
    tag = "service",
    operation_id = "serviceDocument",
    summary = "The OData service document: the entity set and the singleton, with their URLs",
    responses((status = 200, description = "The service document", content_type = "application/json")),
)]
async fn service_root_document(request: HttpRequest) -> HttpResponse {
    let document = service_document(&service_root(&request));
    HttpResponse::Ok()
        .insert_header((
            header::CONTENT_TYPE,
            "application/json;odata.metadata=minimal;charset=utf-8",
        ))
        .body(document.to_string())
}
