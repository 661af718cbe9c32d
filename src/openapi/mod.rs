//! The OpenAPI document of the whole service, built from the operations the
//! routes describe, the types the service reads and writes, and the property
//! table rows are written from.

pub mod schemas;

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, ObjectBuilder, OpenApi, Ref, RefOr, Response, ResponseBuilder, Type,
};

use crate::auth::Scope;
use crate::domain::ApiVersion;

/// Where the document's security requirements point.
pub const BEARER: &str = "bearer";
const METRICS_TOKEN: &str = "metricsToken";

/// The whole document: the `service` operations, and the `graph` operations
/// under each of `versions` with the conventions every Graph operation shares.
pub fn document(service: OpenApi, graph: OpenApi, versions: &[ApiVersion]) -> OpenApi {
    let mut document = service;
    for (position, version) in versions.iter().enumerate() {
        let mut graph = graph.clone();
        for item in graph.paths.paths.values_mut() {
            for operation in operations(item) {
                graph_conventions(operation, position == 0);
            }
        }
        document = document.nest(format!("/{}", version.segment()), graph);
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

/// Documents the operations of every path under `prefix` a second time, at
/// the path `also` gives it (with a suffix for the copies' operation ids):
/// the same handlers serve a resource under more than one URL.
pub fn serve_also_at(
    api: &mut OpenApi,
    prefix: &str,
    also: impl Fn(&str) -> Option<(String, &'static str)>,
) {
    let copies: Vec<(String, PathItem)> = api
        .paths
        .paths
        .iter()
        .filter(|(path, _)| path.starts_with(prefix))
        .filter_map(|(path, item)| {
            let (other, suffix) = also(path)?;
            let mut item = item.clone();
            for operation in operations(&mut item) {
                if let Some(id) = operation.operation_id.as_mut() {
                    id.push_str(suffix);
                }
            }
            Some((other, item))
        })
        .collect();
    api.paths.paths.extend(copies);
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
/// responses, and an operation id unique across the versions (the first
/// version's ids are kept as they are).
fn graph_conventions(operation: &mut Operation, first_version: bool) {
    if !first_version {
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

fn error_response(description: &str) -> Response {
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
