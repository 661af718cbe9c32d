//! One collection: for each source, each period, the report from Graph
//! stored through the import path and recorded as a run. A failure that the
//! source's other periods would meet too ends the source for the run: they
//! are recorded as skipped because of it, not attempted.

use std::sync::Arc;

use chrono::Utc;
use uuid::Uuid;

use super::graph::GraphClient;
use super::scrub::{summarise, MAX_ERROR_CHARS};
use super::settings::CollectSettings;
use super::CollectError;
use crate::domain::{check_csv, DistributionRow, ReportPeriod};
use crate::storage::{CollectionRun, ConflictPolicy, Store};

/// Told of every recorded run (the metrics).
pub type RunObserver = Arc<dyn Fn(&CollectionRun) + Send + Sync>;

/// How the error of a run skipped because of an earlier failure begins.
const SKIPPED: &str = "skipped: ";

/// True when `run` was not attempted: an earlier period of its source failed
/// in a way this run could not change. Its error names that period and the
/// failure's kind; the failure itself is told once, with that period.
pub fn is_skipped(run: &CollectionRun) -> bool {
    run.error.as_deref().is_some_and(|e| e.starts_with(SKIPPED))
}

/// The configured sources, each with its Graph client (and token cache).
pub struct Collector {
    clients: Vec<GraphClient>,
    on_conflict: ConflictPolicy,
    observer: Option<RunObserver>,
}

/// What storing one period's report did.
struct Stored {
    created: u64,
    already_stored: u64,
    conflicting: u64,
}

impl Collector {
    pub fn new(settings: &CollectSettings) -> Result<Self, CollectError> {
        let clients = settings
            .sources
            .iter()
            .map(|source| {
                GraphClient::new(
                    source.clone(),
                    &settings.graph_url,
                    &settings.login_url,
                    settings.retry,
                )
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            clients,
            on_conflict: settings.on_conflict,
            observer: None,
        })
    }

    pub fn with_observer(mut self, observer: RunObserver) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Collects every source's periods once; one recorded run per source and
    /// period, in order. A failed period fails alone, except that a login
    /// host that cannot be reached, bad credentials or a missing permission
    /// end the source: its other periods are recorded as skipped (see
    /// `is_skipped`), and neither Entra ID nor Graph is asked again. Nothing
    /// is logged above debug: the caller tells of the runs (`collect` prints
    /// them, the schedule logs them), so each failure is told once.
    pub async fn run_once(&self, store: &dyn Store) -> Vec<CollectionRun> {
        let mut runs = Vec::new();
        for client in &self.clients {
            // The period whose failure ended the source, and what it was.
            let mut ended_by: Option<(ReportPeriod, &'static str)> = None;
            for &period in &client.source().periods {
                let started_at = Utc::now();
                let outcome = match ended_by {
                    Some((first, kind)) => Err(format!(
                        "{SKIPPED}not attempted after {} failed ({kind}), which this run \
                         could not change",
                        first.function_arg()
                    )),
                    None => match self.collect_period(client, period, store).await {
                        Ok(stored) => Ok(stored),
                        Err(e) => {
                            // What is logged, stored and shown: no secret, one bounded line.
                            let reason =
                                summarise(&client.redact(&e.to_string()).await, MAX_ERROR_CHARS);
                            ended_by = e.ends_the_source().map(|kind| (period, kind));
                            Err(reason)
                        }
                    },
                };
                let source = client.source();
                let (stored, error) = match outcome {
                    Ok(stored) => (stored, None),
                    Err(reason) => {
                        tracing::debug!(source = %source.name, period = period.function_arg(), %reason, "collection failed");
                        let none = Stored {
                            created: 0,
                            already_stored: 0,
                            conflicting: 0,
                        };
                        (none, Some(reason))
                    }
                };
                let run = CollectionRun {
                    id: Uuid::now_v7(),
                    source: source.name.clone(),
                    target_tenant: source.target_tenant.clone(),
                    period,
                    started_at,
                    finished_at: Utc::now(),
                    created: stored.created,
                    already_stored: stored.already_stored,
                    conflicting: stored.conflicting,
                    error,
                };
                if let Err(e) = store.record_collection_run(&run).await {
                    tracing::error!(source = %run.source, error = %e, "cannot record a collection run");
                }
                if let Some(observer) = &self.observer {
                    observer(&run);
                }
                runs.push(run);
            }
        }
        runs
    }

    /// Fetches one period's report and stores its rows, all or nothing.
    async fn collect_period(
        &self,
        client: &GraphClient,
        period: ReportPeriod,
        store: &dyn Store,
    ) -> Result<Stored, CollectError> {
        let bytes = client.fetch_report(period).await?;
        let now = Utc::now();
        let checked = check_csv(&bytes, now.date_naive()).map_err(|problems| {
            let first = problems
                .first()
                .map(ToString::to_string)
                .unwrap_or_default();
            CollectError::BadReport(match problems.len() {
                1 => first,
                n => format!("{first} (and {} more problems)", n - 1),
            })
        })?;
        let tenant = &client.source().target_tenant;
        let rows: Vec<DistributionRow> = checked
            .rows
            .into_iter()
            .map(|(_, row)| DistributionRow::create(tenant.clone(), row, now))
            .collect();
        // Graph may restate stored dates: the policy keeps or replaces those
        // rows in the same transaction that stores the rest.
        let report = store.import_rows_resolving(&rows, self.on_conflict).await?;
        let outcome = match self.on_conflict {
            ConflictPolicy::Keep => {
                "the stored row is kept (COLLECT_ON_CONFLICT=replace takes Graph's)"
            }
            ConflictPolicy::Replace => "Graph's counts replaced the stored row",
        };
        for (_, stored) in &report.conflicts {
            tracing::warn!(
                source = %client.source().name,
                report_refresh_date = %stored.report_refresh_date,
                report_period = %stored.report_period,
                id = %stored.id,
                "Graph restates a stored date with other counts; {outcome}"
            );
        }
        Ok(Stored {
            created: report.created as u64,
            already_stored: report.already_stored as u64,
            conflicting: report.conflicts.len() as u64,
        })
    }
}
