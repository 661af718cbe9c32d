//! `GET /openapi.json`, and the operations the document describes: the
//! handlers' `#[utoipa::path]` attributes, collected here where the handlers are.

use std::sync::{Mutex, PoisonError};

use chrono::{NaiveDate, Utc};

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use utoipa::OpenApi;

use super::{
    batch, collector, dashboard, health, metadata, metrics, report, resource, rows, tenants,
};
use crate::domain::ApiVersion;
use crate::error::ApiError;
use crate::openapi::{
    self,
    schemas::{ChartPeriod, DateParameter, PeriodArgument},
};

pub const OPENAPI_PATH: &str = "/openapi.json";

pub fn configure(config: &mut web::ServiceConfig) {
    config.service(resource(OPENAPI_PATH, "GET").route(web::get().to(openapi_document)));
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
        report::get_reports,
        report::get_report,
        batch::run_batch,
        collector::collection_status,
        tenants::list_tenants,
        tenants::tenants_rollup,
        tenants::tenants_rollup_comparison,
        tenants::tenants_rollup_chart,
        metadata::service_metadata,
        metadata::service_root_document,
        dashboard::chart,
        dashboard::comparison,
        dashboard::session,
    ),
    // Parameter types are not collected from the paths.
    components(schemas(PeriodArgument, ChartPeriod, DateParameter))
)]
struct GraphApi;

/// The routes outside the version roots.
#[derive(OpenApi)]
#[openapi(
    info(title = "teams-usage-store"),
    paths(
        health::health,
        health::ready,
        metrics::scrape,
        openapi_document,
        dashboard::page,
        dashboard::script,
        dashboard::style,
    ),
    tags(
        (name = "rows", description = "The stored rows of microsoft.graph.teamsDeviceUsageDistributionUserCounts"),
        (name = "report", description = "The report function, as Graph serves it"),
        (name = "batch", description = "Graph JSON batching"),
        (name = "collection", description = "The Graph collector's recorded runs (docs/collect.md)"),
        (name = "tenants", description = "Every tenant at once, for an operator's token (docs/tenants.md)"),
        (name = "service", description = "Health, readiness, metrics and this document"),
        (name = "dashboard", description = "The dashboard page, its files and its chart"),
    )
)]
struct ServiceApi;

/// The whole document: the service routes, and the Graph surface under each
/// version root.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut graph = GraphApi::openapi();
    openapi::serve_also_at(&mut graph, rows::COLLECTION.path, |path| {
        // The key in parentheses, OData's canonical form, beside the segment.
        let by_key = path.strip_suffix("/{id}").map(|p| format!("{p}('{{id}}')"));
        by_key.map(|p| (p, "ByKey"))
    });
    openapi::serve_also_at(&mut graph, rows::COLLECTION.path, |path| {
        let rest = path.strip_prefix(rows::COLLECTION.path)?;
        Some((format!("{}{rest}", rows::ENTITY_SET.path), "InEntitySet"))
    });
    // The service root answers without its closing slash too.
    openapi::serve_also_at(&mut graph, "/", |path| {
        (path == "/").then(|| (String::new(), "WithoutSlash"))
    });
    openapi::document(ServiceApi::openapi(), graph, &ApiVersion::ALL)
}

#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "service",
    operation_id = "openapiDocument",
    summary = "This document",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json")),
)]
async fn openapi_document() -> Result<HttpResponse, ApiError> {
    // Built once a day: the latest refresh date a row may have moves with the date.
    static DOCUMENT: Mutex<Option<(NaiveDate, String)>> = Mutex::new(None);
    let today = Utc::now().date_naive();
    let mut cached = DOCUMENT.lock().unwrap_or_else(PoisonError::into_inner);
    let json = match cached.as_ref() {
        Some((built, json)) if *built == today => json.clone(),
        _ => {
            let json = document().to_pretty_json().map_err(anyhow::Error::from)?;
            *cached = Some((today, json.clone()));
            json
        }
    };
    drop(cached);
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .body(json))
}
