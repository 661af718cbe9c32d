//! `GET /openapi.json`: the OpenAPI document of the whole service, generated
//! from the handlers' `#[utoipa::path]` attributes, the types the service reads
//! and writes, and the property table rows are written from.

use std::sync::OnceLock;

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, ObjectBuilder, Ref, RefOr, ResponseBuilder, Type};
use utoipa::OpenApi;

use super::schemas::PeriodArgument;
use super::{batch, health, metrics, report, resource, rows, API_VERSIONS};
use crate::auth::Scope;

pub const OPENAPI_PATH: &str = "/openapi.json";

/// Where the document's security requirements point.
pub const BEARER: &str = "bearer";
const METRICS_TOKEN: &str = "metricsToken";

pub fn configure(config: &mut web::ServiceConfig) {
    config.service(resource(OPENAPI_PATH).route(web::get().to(openapi_document)));
}

/// The Graph surface, relative to a version root; served under each of them.
#[derive(OpenApi)]
#[openapi(
    paths(
        rows::create_row,
        rows::list_rows,
        rows::count_rows,
        rows::get_row,
        rows::update_row,
        rows::delete_row,
        report::get_report,
        batch::run_batch,
    ),
    // Parameter types are not collected from the paths.
    components(schemas(PeriodArgument))
)]
struct GraphApi;

/// The routes outside the version roots.
#[derive(OpenApi)]
#[openapi(
    info(title = "teams-usage-store"),
    paths(health::health, health::ready, metrics::scrape, openapi_document),
    tags(
        (name = "rows", description = "The stored rows of microsoft.graph.teamsDeviceUsageDistributionUserCounts"),
        (name = "report", description = "The report function, as Graph serves it"),
        (name = "batch", description = "Graph JSON batching"),
        (name = "service", description = "Health, readiness, metrics and this document"),
    )
)]
struct ServiceApi;

/// The whole document: the service routes, and the Graph surface under each
/// version root with the conventions every Graph operation shares.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut document = ServiceApi::openapi();
    for version in API_VERSIONS {
        let mut graph = GraphApi::openapi();
        for item in graph.paths.paths.values_mut() {
            for operation in operations(item) {
                graph_conventions(operation, version);
            }
        }
        document = document.nest(version, graph);
    }
    for item in document.paths.paths.values_mut() {
        for operation in operations(item) {
            request_ids(operation);
        }
    }
    let components = document.components.get_or_insert_with(Default::default);
    let mut bearer = Http::new(HttpAuthScheme::Bearer);
    bearer.description = Some(format!(
        "A token issued by `teams-usage-store token create`. Its scope decides what it may do: \
         {} reads, {} reads and writes. Its tenant decides which rows it sees.",
        Scope::ReportsRead.name(),
        Scope::ReportsReadWrite.name()
    ));
    components.add_security_scheme(BEARER, SecurityScheme::Http(bearer));
    let mut metrics_token = Http::new(HttpAuthScheme::Bearer);
    metrics_token.description = Some("The METRICS_TOKEN setting, when one is configured.".into());
    components.add_security_scheme(METRICS_TOKEN, SecurityScheme::Http(metrics_token));
    document
}

/// Every operation of a path item.
fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
        &mut item.query,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}

/// What every authenticated Graph operation may answer besides its own
/// responses, and an operation id unique across the versions.
fn graph_conventions(operation: &mut Operation, version: &str) {
    if version != API_VERSIONS[0] {
        if let Some(id) = operation.operation_id.as_mut() {
            id.push_str("Beta");
        }
    }
    let shared = [
        ("401", "Missing, malformed, unknown, expired or revoked bearer token (InvalidAuthenticationToken)"),
        ("429", "Over the per-token request rate; see Retry-After (TooManyRequests)"),
        ("500", "Unexpected failure; the request id finds the cause in the log (generalException)"),
        ("503", "The database is unreachable or overloaded; see Retry-After (serviceNotAvailable)"),
    ];
    for (status, description) in shared {
        operation
            .responses
            .responses
            .entry(status.into())
            .or_insert_with(|| error_response(description).into());
    }
}

fn error_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("GraphError")))
                .build(),
        )
        .build()
}

/// Graph's request ids: the client may name its request, and every response
/// carries the service's id for it.
fn request_ids(operation: &mut Operation) {
    let string = || ObjectBuilder::new().schema_type(Type::String).build();
    operation
        .parameters
        .get_or_insert_with(Vec::new)
        .push(RefOr::T(
            ParameterBuilder::new()
                .name("client-request-id")
                .parameter_in(ParameterIn::Header)
                .description(Some("Echoed on the response and named in error bodies"))
                .schema(Some(string()))
                .build(),
        ));
    for response in operation.responses.responses.values_mut() {
        if let RefOr::T(response) = response {
            response.headers.insert(
                "request-id".into(),
                RefOr::T(
                    HeaderBuilder::new()
                        .schema(Some(string()))
                        .description(Some("The service's id for this request (a UUID)"))
                        .build(),
                ),
            );
        }
    }
}

#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "service",
    operation_id = "openapiDocument",
    summary = "This document",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json")),
)]
async fn openapi_document() -> HttpResponse {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    let json = DOCUMENT.get_or_init(|| {
        document()
            .to_pretty_json()
            .expect("the OpenAPI document serializes")
    });
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .body(json.clone())
}
