//! The collection `reports/teamsDeviceUsageDistributionUserCounts` (and the
//! same rows as the entity set at the version root): create, read, update and
//! delete rows, each named by its key as a segment or in parentheses.

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use chrono::Utc;
use uuid::Uuid;

use super::resource;
use crate::auth::{Caller, Scope};
use crate::domain::{
    parse_new_row, parse_row_patch, ApiVersion, DistributionRow, Int64, Int64Format, RowJson,
    RowsJson,
};
use crate::error::ApiError;
use crate::http::{
    json_response, next_link, prefers_representation, response_style, service_root, BodyScope,
    JsonBody,
};
use crate::odata::{encode_skiptoken, parse_count_options, parse_key_predicate, RowQuery};
use crate::openapi::schemas;
use crate::state::AppState;
use crate::storage::{InsertOutcome, UpdateOutcome};
use crate::telemetry::metrics::RowOutcome;

pub mod csv;

/// Where the collection is served, below a version root: Graph's URL, under
/// the `reports` singleton, and the entity set's at the root, where a generic
/// OData client looks for the entity set `$metadata` declares. The same rows
/// and the same handlers behind both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Collection {
    pub path: &'static str,
}

pub const COLLECTION: Collection = Collection {
    path: "/reports/teamsDeviceUsageDistributionUserCounts",
};
pub const ENTITY_SET: Collection = Collection {
    path: "/teamsDeviceUsageDistributionUserCounts",
};

impl Collection {
    /// What `@odata.context` names it by: its path from the version root.
    fn context_path(self) -> &'static str {
        self.path.trim_start_matches('/')
    }
}

pub fn configure(config: &mut web::ServiceConfig) {
    for collection in [COLLECTION, ENTITY_SET] {
        let path = collection.path;
        config
            .service(
                resource(path, "GET, POST")
                    .app_data(collection)
                    .app_data(BodyScope(Scope::ReportsReadWrite))
                    .route(web::post().to(create_row))
                    .route(web::get().to(list_rows)),
            )
            // Before `{id}`, which would otherwise take `$count` as an id.
            .service(resource(&format!("{path}/$count"), "GET").route(web::get().to(count_rows)))
            // The key as a segment (Graph's form) and in parentheses (OData's canonical form).
            .service(row_resource(collection, &format!("{path}/{{id}}")))
            .service(row_resource(collection, &format!("{path}({{key}})")));
    }
}

/// One row's resource at `pattern`, which names it by `{id}` or `({key})`.
fn row_resource(collection: Collection, pattern: &str) -> actix_web::Resource {
    resource(pattern, "GET, PATCH, DELETE")
        .app_data(collection)
        .app_data(BodyScope(Scope::ReportsReadWrite))
        .route(web::get().to(get_row))
        .route(web::patch().to(update_row))
        .route(web::delete().to(delete_row))
}

impl FromRequest for Collection {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(request.app_data::<Collection>().copied().ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!(
                "the route {} is not registered for a collection",
                request.path()
            ))
        }))
    }
}

/// The row a URL names: the `{id}` segment, or the key predicate's `'...'`.
struct RowKey {
    /// As the client wrote it (unquoted), for the 404 that names it.
    text: String,
    id: Option<Uuid>,
}

impl RowKey {
    /// Row ids are UUIDs; anything else names no row.
    fn id(&self) -> Result<Uuid, ApiError> {
        self.id.ok_or_else(|| not_found(&self.text))
    }
}

impl FromRequest for RowKey {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let info = request.match_info();
        let key = match (info.get("id"), info.get("key")) {
            (Some(id), _) => Some(id.to_owned()),
            (None, Some(predicate)) => parse_key_predicate(predicate, "id"),
            (None, None) => None,
        };
        let key = match key {
            Some(text) => Self {
                id: Uuid::parse_str(&text).ok(),
                text,
            },
            // A predicate that is not one quoted string names no row either.
            None => Self {
                text: info.get("key").unwrap_or_default().to_owned(),
                id: None,
            },
        };
        ready(Ok(key))
    }
}

fn entity_context(request: &HttpRequest, collection: Collection) -> String {
    format!(
        "{}/$metadata#{}/$entity",
        service_root(request),
        collection.context_path()
    )
}

/// `row` answered on its own.
fn entity_response(
    builder: actix_web::HttpResponseBuilder,
    request: &HttpRequest,
    collection: Collection,
    row: &DistributionRow,
    style: Int64Format,
) -> HttpResponse {
    let context = entity_context(request, collection);
    json_response(builder, style, &RowJson::entity(row, style, &context))
}

fn row_location(request: &HttpRequest, collection: Collection, id: Uuid) -> String {
    format!("{}{}/{id}", service_root(request), collection.path)
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!(
        "No teamsDeviceUsageDistributionUserCounts with id '{id}'."
    ))
}

#[utoipa::path(
    post,
    path = "/reports/teamsDeviceUsageDistributionUserCounts",
    tag = "rows",
    operation_id = "createRow",
    summary = "Store a row",
    request_body(content = schemas::NewRow, content_type = "application/json"),
    responses(
        (status = 201, description = "Stored and durable", body = schemas::RowEntity,
            headers(("Location" = String, description = "The new row's URL"))),
        (status = 200, description = "The same row was already stored: nothing written", body = schemas::RowEntity),
        (status = 400, description = "Invalid body, one details entry per problem (badRequest)", body = schemas::GraphError),
        (status = 403, description = "The token lacks Reports.ReadWrite.All (accessDenied)", body = schemas::GraphError),
        (status = 409, description = "Other counts are stored for this date and period (conflict)", body = schemas::GraphError),
        (status = 413, description = "Body over the body limit (requestEntityTooLarge)", body = schemas::GraphError),
        (status = 415, description = "Body that is not application/json (unsupportedMediaType)", body = schemas::GraphError),
    ),
    security(("bearer" = ["Reports.ReadWrite.All"]))
)]
#[tracing::instrument(level = "debug", skip_all)]
async fn create_row(
    request: HttpRequest,
    collection: Collection,
    caller: Caller,
    // Taken as a Result so that a caller without the scope hears 403 whatever the body.
    body: Result<JsonBody, ApiError>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::ReportsReadWrite)?;
    let body = body?;
    let now = Utc::now();
    let new = parse_new_row(&body.value, body.format, now.date_naive())
        .map_err(ApiError::invalid_body)?;
    let row = DistributionRow::create(caller.tenant_id, new, now);
    let style = response_style(&request);
    match state.writer.insert(row).await? {
        InsertOutcome::Created(row) => {
            state.metrics.count_row(RowOutcome::Created);
            let mut created = HttpResponse::Created();
            created.insert_header((header::LOCATION, row_location(&request, collection, row.id)));
            Ok(entity_response(created, &request, collection, &row, style))
        }
        InsertOutcome::Replayed(row) => {
            state.metrics.count_row(RowOutcome::Replayed);
            Ok(entity_response(
                HttpResponse::Ok(),
                &request,
                collection,
                &row,
                style,
            ))
        }
        InsertOutcome::Conflict(existing) => {
            state.metrics.count_row(RowOutcome::Conflict);
            Err(ApiError::Conflict(format!(
                "A row for reportRefreshDate {} and reportPeriod '{}' is already stored with other counts: id '{}'.",
                existing.report_refresh_date, existing.report_period, existing.id
            )))
        }
    }
}

#[utoipa::path(
    get,
    path = "/reports/teamsDeviceUsageDistributionUserCounts/{id}",
    tag = "rows",
    operation_id = "getRow",
    summary = "Read a row",
    params(("id" = String, Path, description = "The row's id", format = Uuid)),
    responses(
        (status = 200, description = "The row", body = schemas::RowEntity),
        (status = 403, description = "The token lacks Reports.Read.All (accessDenied)", body = schemas::GraphError),
        (status = 404, description = "No such row in the caller's tenant (itemNotFound)", body = schemas::GraphError),
    ),
    security(("bearer" = ["Reports.Read.All"]), ("bearer" = ["Reports.ReadWrite.All"]))
)]
#[tracing::instrument(level = "debug", skip_all)]
async fn get_row(
    request: HttpRequest,
    collection: Collection,
    caller: Caller,
    key: RowKey,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::ReportsRead)?;
    let row = state
        .store
        .get_row(&caller.tenant_id, key.id()?)
        .await?
        .ok_or_else(|| not_found(&key.text))?;
    let style = response_style(&request);
    Ok(entity_response(
        HttpResponse::Ok(),
        &request,
        collection,
        &row,
        style,
    ))
}

/// `PATCH {collection}/{id}`: sets the properties the body names, each checked
/// as on create.
#[utoipa::path(
    patch,
    path = "/reports/teamsDeviceUsageDistributionUserCounts/{id}",
    tag = "rows",
    operation_id = "updateRow",
    summary = "Change a row",
    params(
        ("id" = String, Path, description = "The row's id", format = Uuid),
        ("Prefer" = Option<String>, Header, description = "return=representation answers 200 with the row"),
    ),
    request_body(content = schemas::RowPatch, content_type = "application/json"),
    responses(
        (status = 204, description = "Changed"),
        (status = 200, description = "Changed, with Prefer: return=representation", body = schemas::RowEntity),
        (status = 400, description = "Invalid body, one details entry per problem (badRequest)", body = schemas::GraphError),
        (status = 403, description = "The token lacks Reports.ReadWrite.All (accessDenied)", body = schemas::GraphError),
        (status = 404, description = "No such row in the caller's tenant (itemNotFound)", body = schemas::GraphError),
        (status = 409, description = "Another row has this date and period (conflict)", body = schemas::GraphError),
        (status = 413, description = "Body over the body limit (requestEntityTooLarge)", body = schemas::GraphError),
        (status = 415, description = "Body that is not application/json (unsupportedMediaType)", body = schemas::GraphError),
    ),
    security(("bearer" = ["Reports.ReadWrite.All"]))
)]
#[tracing::instrument(level = "debug", skip_all)]
async fn update_row(
    request: HttpRequest,
    collection: Collection,
    caller: Caller,
    key: RowKey,
    // Taken as a Result so that a caller without the scope hears 403 whatever the body.
    body: Result<JsonBody, ApiError>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::ReportsReadWrite)?;
    let row_id = key.id()?;
    let body = body?;
    let now = Utc::now();
    let patch = parse_row_patch(&body.value, body.format, now.date_naive())
        .map_err(ApiError::invalid_body)?;
    match state
        .store
        .update_row(&caller.tenant_id, row_id, &patch, now)
        .await?
    {
        UpdateOutcome::Updated(row) if prefers_representation(&request) => {
            let style = response_style(&request);
            let mut ok = HttpResponse::Ok();
            ok.insert_header(("Preference-Applied", "return=representation"));
            Ok(entity_response(ok, &request, collection, &row, style))
        }
        UpdateOutcome::Updated(_) => Ok(HttpResponse::NoContent().finish()),
        UpdateOutcome::NotFound => Err(not_found(&key.text)),
        UpdateOutcome::Conflict { existing_id } => Err(ApiError::Conflict(format!(
            "The change would give this row the reportRefreshDate and reportPeriod of another row: id '{existing_id}'."
        ))),
    }
}

/// `DELETE {collection}/{id}`.
#[utoipa::path(
    delete,
    path = "/reports/teamsDeviceUsageDistributionUserCounts/{id}",
    tag = "rows",
    operation_id = "deleteRow",
    summary = "Delete a row",
    params(("id" = String, Path, description = "The row's id", format = Uuid)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "The token lacks Reports.ReadWrite.All (accessDenied)", body = schemas::GraphError),
        (status = 404, description = "No such row in the caller's tenant (itemNotFound)", body = schemas::GraphError),
    ),
    security(("bearer" = ["Reports.ReadWrite.All"]))
)]
#[tracing::instrument(level = "debug", skip_all)]
async fn delete_row(
    caller: Caller,
    key: RowKey,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::ReportsReadWrite)?;
    if state.store.delete_row(&caller.tenant_id, key.id()?).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(not_found(&key.text))
    }
}

#[utoipa::path(
    get,
    path = "/reports/teamsDeviceUsageDistributionUserCounts",
    tag = "rows",
    operation_id = "listRows",
    summary = "Query the rows",
    params(schemas::CollectionQuery),
    responses(
        (status = 200, description = "A page of rows; with $format=text/csv (or Accept: text/csv first) every matching row as Graph's CSV, streamed", content(
            (schemas::RowCollection = "application/json"),
            (String = "text/csv"),
        )),
        (status = 400, description = "An unsupported or malformed query option (badRequest)", body = schemas::GraphError),
        (status = 403, description = "The token lacks Reports.Read.All (accessDenied)", body = schemas::GraphError),
    ),
    security(("bearer" = ["Reports.Read.All"]), ("bearer" = ["Reports.ReadWrite.All"]))
)]
#[tracing::instrument(level = "debug", skip_all)]
async fn list_rows(
    request: HttpRequest,
    collection: Collection,
    version: ApiVersion,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::ReportsRead)?;
    let options = match csv::csv_request(&request, version)? {
        csv::CollectionForm::Csv(file) => {
            return Ok(csv::csv_response(
                state.store.clone(),
                caller.tenant_id,
                file,
            ))
        }
        csv::CollectionForm::Json(options) => options,
    };
    let query = &options.query;
    // One row past the page tells whether another page follows, so the last
    // page carries no link to an empty one.
    let probe = RowQuery {
        limit: query.limit + 1,
        ..query.clone()
    };
    let mut rows = state.store.list_rows(&caller.tenant_id, &probe).await?;
    let more = rows.len() > query.limit as usize;
    rows.truncate(query.limit as usize);
    let style = response_style(&request);
    let selected = options.select.as_deref();
    let projection = selected.map_or(String::new(), |properties| {
        let names: Vec<&str> = properties.iter().map(|p| p.json_name()).collect();
        format!("({})", names.join(","))
    });
    let count = if options.count {
        // The rows matching the filter, not the page; an Int64 like any other.
        let total = state
            .store
            .count_rows(&caller.tenant_id, query.filter.as_ref())
            .await?;
        Some(Int64::new(total, style))
    } else {
        None
    };
    let next_link = rows.last().filter(|_| more).map(|last| {
        let token = encode_skiptoken(query.filter.as_ref(), &query.order_by, last);
        next_link(&request, &token)
    });
    let body = RowsJson {
        context: format!(
            "{}/$metadata#{}{projection}",
            service_root(&request),
            collection.context_path()
        ),
        count,
        value: rows
            .iter()
            .map(|r| RowJson::member(r, style, selected))
            .collect(),
        next_link,
    };
    Ok(json_response(HttpResponse::Ok(), style, &body))
}

#[utoipa::path(
    get,
    path = "/reports/teamsDeviceUsageDistributionUserCounts/$count",
    tag = "rows",
    operation_id = "countRows",
    summary = "Count the rows, as text/plain",
    params(
        ("$filter" = Option<String>, Query, min_length = 1, description = "The same filter as on the collection; the only option this route takes"),
    ),
    responses(
        (status = 200, description = "The number of rows matching $filter", body = String, content_type = "text/plain"),
        (status = 400, description = "An unsupported or malformed query option (badRequest)", body = schemas::GraphError),
        (status = 403, description = "The token lacks Reports.Read.All (accessDenied)", body = schemas::GraphError),
    ),
    security(("bearer" = ["Reports.Read.All"]), ("bearer" = ["Reports.ReadWrite.All"]))
)]
#[tracing::instrument(level = "debug", skip_all)]
async fn count_rows(
    request: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::ReportsRead)?;
    let filter = parse_count_options(request.query_string())?;
    let total = state
        .store
        .count_rows(&caller.tenant_id, filter.as_ref())
        .await?;
    Ok(HttpResponse::Ok()
        .content_type(mime::TEXT_PLAIN_UTF_8)
        .body(total.to_string()))
}
