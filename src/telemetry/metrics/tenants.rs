//! How fresh each tenant's newest report is, as `/metrics` exports it: the
//! figures `GET {base}/tenants` shows (`fleet::TenantOverview`), read from the
//! store when a scrape asks for them, at most once per `READING_LIFETIME`
//! whatever the number of scrapers, and at most `max_series` tenant series.

use std::fmt::Display;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{Gauge, IntGauge, IntGaugeVec};

use super::opts;
use crate::fleet::TenantOverview;

/// How long one reading of the tenants answers scrapes. Ages are whole days,
/// so a reading half a minute old says what a new one would; and an open
/// `/metrics` cannot make the database summarise every tenant's rows at the
/// rate it is asked.
pub const READING_LIFETIME: Duration = Duration::from_secs(30);

/// The longest a reading may take; a slower one is abandoned and the scrape
/// answers with the figures of the last one (the rest of `/metrics` must not
/// wait on a struggling database).
const READING_DEADLINE: Duration = Duration::from_secs(5);

/// The series of one reading, made afresh each time, so a tenant that left
/// (or fell past the cut) leaves no series behind.
struct Gauges {
    age: IntGaugeVec,
    omitted: IntGauge,
    tenants: IntGauge,
    stale: IntGauge,
    stale_after: IntGauge,
    read_at: Gauge,
}

impl Gauges {
    fn new() -> prometheus::Result<Self> {
        Ok(Self {
            age: IntGaugeVec::new(
                opts(
                    "tenant_report_age_days",
                    "Days from the tenant's newest reportRefreshDate to today (UTC), as ageDays of GET {base}/tenants; tenants with a report only, the stalest first, at most METRICS_TENANT_SERIES",
                ),
                &["tenant"],
            )?,
            omitted: IntGauge::with_opts(opts(
                "tenant_report_age_omitted",
                "Tenants with a report left out of tenant_report_age_days by METRICS_TENANT_SERIES (the freshest)",
            ))?,
            tenants: IntGauge::with_opts(opts(
                "tenants",
                "Tenants the store knows by a token, a display name or rows",
            ))?,
            stale: IntGauge::with_opts(opts(
                "stale_tenants",
                "Of those, the stale: no report, or the newest older than STALE_AFTER_DAYS",
            ))?,
            stale_after: IntGauge::with_opts(opts(
                "stale_after_days",
                "STALE_AFTER_DAYS: a tenant whose newest report is older than this many days is stale",
            ))?,
            read_at: Gauge::with_opts(opts(
                "tenant_summary_timestamp_seconds",
                "When the tenant figures were read from the store (unix seconds)",
            ))?,
        })
    }

    fn collectors(&self) -> [&dyn Collector; 6] {
        [
            &self.age,
            &self.omitted,
            &self.tenants,
            &self.stale,
            &self.stale_after,
            &self.read_at,
        ]
    }
}

/// The tenant series: the last reading's, swapped in whole, so a scrape
/// never sees half of one. Registered once; clones share the figures.
#[derive(Clone)]
pub(super) struct TenantFigures(Arc<Inner>);

struct Inner {
    max_series: usize,
    descs: Vec<Desc>,
    families: Mutex<Vec<MetricFamily>>,
    /// When the figures were last read. Held across a reading, so scrapes
    /// arriving meanwhile wait for it and use it instead of reading too.
    read_at: tokio::sync::Mutex<Option<Instant>>,
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl TenantFigures {
    /// No figures until the first reading; at most `max_series` tenant series.
    pub(super) fn new(max_series: usize) -> prometheus::Result<Self> {
        let gauges = Gauges::new()?;
        let descs = gauges
            .collectors()
            .iter()
            .flat_map(|c| c.desc())
            .cloned()
            .collect();
        Ok(Self(Arc::new(Inner {
            max_series,
            descs,
            families: Mutex::new(Vec::new()),
            read_at: tokio::sync::Mutex::new(None),
        })))
    }

    /// Reads the tenants through `read` unless the last reading is younger
    /// than `READING_LIFETIME`. A reading that fails or takes longer than
    /// `READING_DEADLINE` is logged and leaves the last figures in place; the
    /// next scrape reads again.
    pub(super) async fn refresh<E: Display>(
        &self,
        stale_after_days: u32,
        read: impl Future<Output = Result<Vec<TenantOverview>, E>>,
    ) {
        let mut read_at = self.0.read_at.lock().await;
        if read_at.is_some_and(|at| at.elapsed() < READING_LIFETIME) {
            return;
        }
        let tenants = match tokio::time::timeout(READING_DEADLINE, read).await {
            Ok(Ok(tenants)) => tenants,
            Ok(Err(error)) => {
                tracing::warn!(%error, "/metrics could not read the tenants; their figures are the last ones read");
                return;
            }
            Err(_) => {
                tracing::warn!(
                    "/metrics gave up reading the tenants after {READING_DEADLINE:?}; their figures are the last ones read"
                );
                return;
            }
        };
        match self.families(&tenants, stale_after_days) {
            Ok(families) => {
                *self
                    .0
                    .families
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = families;
                *read_at = Some(Instant::now());
            }
            Err(error) => tracing::warn!(%error, "/metrics could not set the tenant figures"),
        }
    }

    /// The series of `tenants`: an age for each with a report, the stalest
    /// first (then by id) up to the cut, and the counts.
    fn families(
        &self,
        tenants: &[TenantOverview],
        stale_after_days: u32,
    ) -> prometheus::Result<Vec<MetricFamily>> {
        let gauges = Gauges::new()?;
        let mut aged: Vec<(&TenantOverview, i64)> = tenants
            .iter()
            .filter_map(|tenant| Some((tenant, tenant.age_days?)))
            .collect();
        aged.sort_by(|(a, a_age), (b, b_age)| b_age.cmp(a_age).then_with(|| a.id.cmp(&b.id)));
        for (tenant, age) in aged.iter().take(self.0.max_series) {
            gauges
                .age
                .with_label_values(&[tenant.id.as_str()])
                .set(*age);
        }
        gauges
            .omitted
            .set(count(aged.len().saturating_sub(self.0.max_series)));
        gauges.tenants.set(count(tenants.len()));
        gauges
            .stale
            .set(count(tenants.iter().filter(|tenant| tenant.stale).count()));
        gauges.stale_after.set(i64::from(stale_after_days));
        gauges.read_at.set(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |since| since.as_secs_f64()),
        );
        Ok(gauges
            .collectors()
            .iter()
            .flat_map(|collector| collector.collect())
            // No tenant with a report, or a cap of 0: no age family at all.
            .filter(|family| !family.get_metric().is_empty())
            .collect())
    }
}

impl Collector for TenantFigures {
    fn desc(&self) -> Vec<&Desc> {
        self.0.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        self.0
            .families
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use chrono::NaiveDate;

    use super::*;
    use crate::domain::TenantId;

    fn tenant(id: &str, age_days: Option<i64>) -> TenantOverview {
        let today = NaiveDate::from_ymd_opt(2026, 12, 8).unwrap();
        TenantOverview {
            id: TenantId::parse(id).unwrap(),
            display_name: None,
            row_count: u64::from(age_days.is_some()),
            latest_by_period: Vec::new(),
            latest: age_days.map(|age| today - chrono::Days::new(age.unsigned_abs())),
            age_days,
            stale: age_days.is_none_or(|age| age > 3),
            last_collection_success: None,
            last_collection_error: None,
        }
    }

    fn text(figures: &TenantFigures) -> String {
        prometheus::TextEncoder::new()
            .encode_to_string(&figures.collect())
            .unwrap()
    }

    fn fleet() -> Vec<TenantOverview> {
        vec![
            tenant("adatum", Some(1)),
            tenant("contoso", Some(9)),
            tenant("fabrikam", Some(4)),
            tenant("msp", None),
            tenant("northwind", Some(9)),
        ]
    }

    #[tokio::test]
    async fn the_stalest_tenants_are_exported_and_the_cut_is_counted() {
        let figures = TenantFigures::new(3).unwrap();
        assert_eq!(text(&figures), "", "nothing before the first reading");
        figures.refresh(3, async { Ok::<_, String>(fleet()) }).await;
        let text = text(&figures);
        for line in [
            r#"teams_usage_store_tenant_report_age_days{tenant="contoso"} 9"#,
            r#"teams_usage_store_tenant_report_age_days{tenant="northwind"} 9"#,
            r#"teams_usage_store_tenant_report_age_days{tenant="fabrikam"} 4"#,
            "teams_usage_store_tenant_report_age_omitted 1",
            "teams_usage_store_tenants 5",
            "teams_usage_store_stale_tenants 4",
            "teams_usage_store_stale_after_days 3",
            "teams_usage_store_tenant_summary_timestamp_seconds ",
        ] {
            assert!(text.contains(line), "{line}: {text}");
        }
        // The freshest is cut; a tenant without a report has no age.
        assert!(!text.contains("adatum"), "{text}");
        assert!(!text.contains("msp"), "{text}");
    }

    #[tokio::test]
    async fn a_cap_of_zero_exports_only_the_counts() {
        let figures = TenantFigures::new(0).unwrap();
        figures.refresh(3, async { Ok::<_, String>(fleet()) }).await;
        let text = text(&figures);
        assert!(
            !text.contains("teams_usage_store_tenant_report_age_days"),
            "{text}"
        );
        assert!(
            text.contains("teams_usage_store_tenant_report_age_omitted 4"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn one_reading_serves_the_scrapes_of_its_lifetime() {
        let figures = TenantFigures::new(10).unwrap();
        let reads = AtomicUsize::new(0);
        let read = |list: Vec<TenantOverview>| {
            let reads = &reads;
            async move {
                reads.fetch_add(1, Ordering::SeqCst);
                Ok::<_, String>(list)
            }
        };
        // Scrapes at once: one reads, the others wait and use its figures.
        tokio::join!(
            figures.refresh(3, read(fleet())),
            figures.refresh(3, read(fleet())),
            figures.refresh(3, read(Vec::new())),
        );
        figures.refresh(3, read(Vec::new())).await;
        assert_eq!(reads.load(Ordering::SeqCst), 1);
        assert!(text(&figures).contains("teams_usage_store_tenants 5"));
    }

    #[tokio::test]
    async fn a_failed_reading_keeps_the_last_figures_and_is_tried_again() {
        let figures = TenantFigures::new(10).unwrap();
        figures
            .refresh(3, async { Err::<Vec<TenantOverview>, _>("database down") })
            .await;
        assert_eq!(text(&figures), "");
        figures.refresh(3, async { Ok::<_, String>(fleet()) }).await;
        assert!(text(&figures).contains("teams_usage_store_tenants 5"));
        // Expired, then failing: the figures stay.
        *figures.0.read_at.lock().await = Some(Instant::now() - READING_LIFETIME);
        figures
            .refresh(3, async { Err::<Vec<TenantOverview>, _>("database down") })
            .await;
        assert!(text(&figures).contains("teams_usage_store_tenants 5"));
        assert!(figures.0.read_at.lock().await.is_some());
    }
}
