//! `GET {base}/collection/status`: the Graph collector's recorded runs for
//! the caller's tenant, for dashboards and alerting; of the sources configured
//! on this replica (every recorded one when it has none configured).

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::resource;
use crate::auth::{Caller, Scope};
use crate::collect;
use crate::error::ApiError;
use crate::openapi::schemas;
use crate::state::AppState;

pub fn configure(config: &mut web::ServiceConfig) {
    config.service(resource("/collection/status", "GET").route(web::get().to(collection_status)));
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StatusJson {
    /// `COLLECT_EVERY` in seconds on the replica that answers; null when it does not collect by itself.
    collect_every_seconds: Option<u64>,
    value: Vec<RunJson>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RunJson {
    source: String,
    report_period: String,
    last_run_started_at: DateTime<Utc>,
    last_run_finished_at: DateTime<Utc>,
    last_success_at: Option<DateTime<Utc>>,
    /// Failed runs since the last success.
    failures_since_success: u64,
    created: u64,
    already_stored: u64,
    conflicting: u64,
    /// Why the newest run failed; null when it succeeded.
    error: Option<String>,
}

#[utoipa::path(
    get,
    path = "/collection/status",
    tag = "collection",
    operation_id = "collectionStatus",
    summary = "The Graph collector's newest run per source and period, for the caller's tenant",
    description = "One entry per configured source and report period whose rows go to the caller's tenant: \
        the newest run (its counts and error), when the source last succeeded and how many runs failed since. \
        A source no longer configured is left out (its runs stay recorded); a replica with no source \
        configured lists every recorded one. \
        `collectEverySeconds` is COLLECT_EVERY on the answering replica (docs/collect.md).",
    responses(
        (status = 200, description = "The collector's status", body = Object, example = json!({
            "collectEverySeconds": 21600,
            "value": [{"source": "contoso", "reportPeriod": "7",
                "lastRunStartedAt": "2026-11-30T06:00:00Z", "lastRunFinishedAt": "2026-11-30T06:00:02Z",
                "lastSuccessAt": "2026-11-30T06:00:02Z", "failuresSinceSuccess": 0, "created": 1, "alreadyStored": 0,
                "conflicting": 0, "error": null}]
        })),
        (status = 403, description = "The token lacks Reports.Read.All (accessDenied)", body = schemas::GraphError),
    ),
    security(("bearer" = ["Reports.Read.All"]), ("bearer" = ["Reports.ReadWrite.All"]))
)]
async fn collection_status(
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::ReportsRead)?;
    let statuses = state.collect_sources.current(
        state
            .store
            .latest_collection_runs(Some(&caller.tenant_id))
            .await?,
    );
    let value = statuses
        .into_iter()
        .map(|status| {
            let run = status.last_run;
            RunJson {
                source: run.source,
                report_period: run.period.to_string(),
                last_run_started_at: run.started_at,
                last_run_finished_at: run.finished_at,
                last_success_at: status.last_success,
                failures_since_success: status.failures_since_success,
                created: run.created,
                already_stored: run.already_stored,
                conflicting: run.conflicting,
                // Runs recorded before errors were bounded may hold any length.
                error: run
                    .error
                    .map(|e| collect::summarise(&e, collect::MAX_ERROR_CHARS)),
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(StatusJson {
        collect_every_seconds: state.collect_every.map(|every| every.as_secs()),
        value,
    }))
}
