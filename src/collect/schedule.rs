//! `serve`'s collections: once when the service is ready, then every
//! interval. Replicas on one database share a lease: whoever takes it
//! collects, the others skip the interval. The lease runs out just before the
//! next interval, so a replica that died mid-run blocks nobody.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::task::JoinHandle;

use super::run::{is_skipped, Collector};
use crate::storage::{CollectionRun, Store};

/// The lease's name in `collection_leases`.
pub const LEASE_NAME: &str = "graph-collection";

/// The collecting task; stopped when dropped.
pub struct Scheduler {
    task: JoinHandle<()>,
}

impl Scheduler {
    pub fn start(store: Arc<dyn Store>, collector: Collector, every: Duration) -> Self {
        let holder = uuid::Uuid::new_v4().to_string();
        // Short of the interval, so the next tick (on any replica) finds it free.
        let hold = every.saturating_sub(every / 20);
        let task = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let now = Utc::now();
                let until =
                    now + chrono::Duration::from_std(hold).unwrap_or(chrono::Duration::zero());
                match store.take_lease(LEASE_NAME, &holder, now, until).await {
                    Ok(true) => {
                        log_runs(&collector.run_once(store.as_ref()).await);
                    }
                    Ok(false) => tracing::debug!("another replica collects this interval"),
                    Err(e) => tracing::warn!(error = %e, "cannot take the collection lease"),
                }
            }
        });
        Self { task }
    }
}

/// Each failure once, at warn; the periods skipped because of it at debug;
/// then the totals.
fn log_runs(runs: &[CollectionRun]) {
    let (mut failed, mut skipped) = (0, 0);
    for run in runs {
        let Some(reason) = &run.error else { continue };
        let period = run.period.function_arg();
        if is_skipped(run) {
            skipped += 1;
            tracing::debug!(source = %run.source, period, %reason, "collection skipped");
        } else {
            failed += 1;
            tracing::warn!(source = %run.source, period, %reason, "collection failed");
        }
    }
    tracing::info!(runs = runs.len(), failed, skipped, "collection finished");
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        self.task.abort();
    }
}
