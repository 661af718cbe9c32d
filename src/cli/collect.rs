//! `collect`: one collection from Graph, a summary line per source and
//! period, non-zero when any failed; `collect --status`: the recorded runs.

use chrono::{DateTime, SecondsFormat, Utc};

use super::open_store;
use crate::collect::{is_skipped, summarise, Collector, ConfiguredSources, MAX_ERROR_CHARS};
use crate::config::Settings;
use crate::storage::{CollectionRun, Store};

pub async fn run(status: bool, settings: Settings) -> anyhow::Result<()> {
    if status {
        let store = open_store(&settings).await?;
        let configured = ConfiguredSources::of(settings.collect.as_ref());
        let result = print_status(store.as_ref(), &configured).await;
        store.close().await;
        return result;
    }
    let Some(collect) = settings.collect.as_ref() else {
        anyhow::bail!(
            "no Graph source is configured: set GRAPH_TENANT_ID, GRAPH_CLIENT_ID and \
             GRAPH_CLIENT_SECRET (or COLLECT_SOURCES); see docs/collect.md"
        );
    };
    let collector = Collector::new(collect)?;
    let store = open_store(&settings).await?;
    let runs = collector.run_once(store.as_ref()).await;
    store.close().await;
    for run in &runs {
        eprintln!("{}", summary(run));
    }
    let skipped = runs.iter().filter(|r| is_skipped(r)).count();
    let failed: Vec<&CollectionRun> = runs
        .iter()
        .filter(|r| r.error.is_some() && !is_skipped(r))
        .collect();
    match failed.first() {
        None => Ok(()),
        Some(first) => anyhow::bail!(
            "{} of {} collections failed{}; {} {}: {}",
            failed.len(),
            runs.len(),
            match (skipped, failed.len()) {
                (0, _) => String::new(),
                (n, 1) => format!(" ({n} more skipped because of it)"),
                (n, _) => format!(" ({n} more skipped because of them)"),
            },
            first.source,
            first.period.function_arg(),
            first.error.as_deref().unwrap_or_default()
        ),
    }
}

/// `SOURCE PERIOD -> TENANT: N new, N already stored, N conflicting`, why it
/// failed, or which failure it was skipped after.
fn summary(run: &CollectionRun) -> String {
    let what = format!(
        "{} {} -> tenant '{}'",
        run.source,
        run.period.function_arg(),
        run.target_tenant
    );
    match &run.error {
        None => format!(
            "{what}: {} new, {} already stored, {} conflicting",
            run.created, run.already_stored, run.conflicting
        ),
        Some(reason) if is_skipped(run) => format!("{what}: {reason}"),
        // Bounded when stored; bounded again for runs stored before that was so.
        Some(reason) => format!("{what}: failed: {}", summarise(reason, MAX_ERROR_CHARS)),
    }
}

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The newest run of each configured source and period and its last success, on stdout.
async fn print_status(store: &dyn Store, configured: &ConfiguredSources) -> anyhow::Result<()> {
    let statuses = configured.current(store.latest_collection_runs(None).await?);
    if statuses.is_empty() {
        eprintln!("no collection has run on this database yet");
        return Ok(());
    }
    for status in &statuses {
        let run = &status.last_run;
        println!(
            "{}; last run {}; last success {}; failures since {}",
            summary(run),
            time(run.finished_at),
            status.last_success.map_or("never".to_owned(), time),
            status.failures_since_success
        );
    }
    Ok(())
}
