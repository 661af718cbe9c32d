//! The benchmark's results: medians of the runs, the table, and the ratios
//! against the performance targets.

use std::fmt::Write;

use crate::database::Backend;

/// What a figure measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    Health,
    RawOneRowPerTransaction,
    RawHundredRowsPerTransaction,
    PostOneRow,
    FilteredPage,
    ReportFunction,
    DashboardChart,
    StartupToReady,
    LargeFirstPage,
    LargeDeepPage,
    LargeDeepPageByDate,
    LargeCsvExport,
    TenantsList,
    TenantsRollup,
    TenantsRollupFiltered,
    TenantsComparison,
}

impl Measure {
    fn label(self) -> &'static str {
        match self {
            Self::Health => "GET /health (ceiling)",
            Self::RawOneRowPerTransaction => "raw sqlx, 1 row/transaction",
            Self::RawHundredRowsPerTransaction => "raw sqlx, 100 rows/transaction",
            Self::PostOneRow => "POST one row",
            Self::FilteredPage => "filtered page, $top=100",
            Self::ReportFunction => "report function (D7)",
            Self::DashboardChart => "dashboard chart (250 dates)",
            Self::StartupToReady => "start-up to /ready",
            Self::LargeFirstPage => "204,800-row tenant: first page, $top=100",
            Self::LargeDeepPage => "204,800-row tenant: page at row 150,000",
            Self::LargeDeepPageByDate => {
                "204,800-row tenant: page at row 150,000, $orderby=reportRefreshDate desc"
            }
            Self::LargeCsvExport => "204,800-row tenant: CSV export, every row",
            Self::TenantsList => "operator: GET /tenants, 1,000 tenants",
            Self::TenantsRollup => "operator: roll-up, period=7",
            Self::TenantsRollupFiltered => "operator: roll-up, period=7, $filter=stale eq false",
            Self::TenantsComparison => "operator: roll-up comparison, period=7",
        }
    }
}

/// One run's numbers.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    /// Requests (or rows, for raw inserts) per second.
    pub rate: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub errors: u64,
    pub peak_rss: Option<u64>,
    /// After a write run: rows in the table equal the 201s counted.
    pub rows_match: Option<bool>,
}

/// One line of the table: the runs of one measure at one concurrency.
pub struct Figure {
    pub backend: Backend,
    pub measure: Measure,
    pub concurrency: u32,
    pub samples: Vec<Sample>,
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    })
}

impl Figure {
    fn median_of(&self, field: impl Fn(&Sample) -> Option<f64>) -> Option<f64> {
        median(self.samples.iter().filter_map(field).collect())
    }

    pub fn rate(&self) -> Option<f64> {
        self.median_of(|s| s.rate)
    }
    pub fn p50_ms(&self) -> Option<f64> {
        self.median_of(|s| s.p50_ms)
    }
    pub fn p90_ms(&self) -> Option<f64> {
        self.median_of(|s| s.p90_ms)
    }
    pub fn p99_ms(&self) -> Option<f64> {
        self.median_of(|s| s.p99_ms)
    }
    pub fn peak_rss_mib(&self) -> Option<f64> {
        self.median_of(|s| s.peak_rss.map(|b| b as f64 / (1024.0 * 1024.0)))
    }
    pub fn errors(&self) -> u64 {
        self.samples.iter().map(|s| s.errors).sum()
    }
    /// None when no run checked rows; false when any run failed the check.
    pub fn rows_match(&self) -> Option<bool> {
        let checks: Vec<bool> = self.samples.iter().filter_map(|s| s.rows_match).collect();
        (!checks.is_empty()).then(|| checks.iter().all(|ok| *ok))
    }
}

#[derive(Default)]
pub struct Report {
    pub figures: Vec<Figure>,
}

fn cell(value: Option<f64>, decimals: usize) -> String {
    value.map_or("-".into(), |v| format!("{v:.decimals$}"))
}

impl Report {
    pub fn add(&mut self, backend: Backend, measure: Measure, concurrency: u32, sample: Sample) {
        match self
            .figures
            .iter_mut()
            .find(|f| f.backend == backend && f.measure == measure && f.concurrency == concurrency)
        {
            Some(figure) => figure.samples.push(sample),
            None => self.figures.push(Figure {
                backend,
                measure,
                concurrency,
                samples: vec![sample],
            }),
        }
    }

    fn find(&self, backend: Backend, measure: Measure, concurrency: u32) -> Option<&Figure> {
        self.figures
            .iter()
            .find(|f| f.backend == backend && f.measure == measure && f.concurrency == concurrency)
    }

    /// True when every write run's row count matched its 201s.
    pub fn rows_all_match(&self) -> bool {
        self.figures.iter().all(|f| f.rows_match() != Some(false))
    }

    /// The table (Markdown) and the ratios against the performance targets.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "| backend | measurement | conc. | req/s | p50 ms | p90 ms | p99 ms | errors | peak RSS MiB | rows = 201s |\n\
             |---|---|---:|---:|---:|---:|---:|---:|---:|---|\n",
        );
        for f in &self.figures {
            let (rate, p50) = match f.measure {
                // A time, not a rate: shown in the p50 column.
                Measure::StartupToReady => ("-".into(), cell(f.p50_ms(), 1)),
                // One request's whole time; the rate is rows written per second.
                Measure::LargeCsvExport => {
                    (format!("{} rows/s", cell(f.rate(), 0)), cell(f.p50_ms(), 0))
                }
                Measure::RawOneRowPerTransaction | Measure::RawHundredRowsPerTransaction => {
                    (format!("{} rows/s", cell(f.rate(), 0)), "-".into())
                }
                // A slow route's few requests a second, to a tenth.
                _ => {
                    let rate = f.rate();
                    let decimals = if rate.is_some_and(|r| r < 100.0) {
                        1
                    } else {
                        0
                    };
                    (cell(rate, decimals), cell(f.p50_ms(), 2))
                }
            };
            let rows = match f.rows_match() {
                Some(true) => "yes",
                Some(false) => "NO",
                None => "",
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                f.backend.name(),
                f.measure.label(),
                f.concurrency,
                rate,
                p50,
                cell(f.p90_ms(), 2),
                cell(f.p99_ms(), 2),
                f.errors(),
                cell(f.peak_rss_mib(), 1),
                rows
            );
        }
        out.push('\n');
        for backend in [Backend::Sqlite, Backend::Postgres] {
            if self.figures.iter().any(|f| f.backend == backend) {
                self.render_targets(backend, &mut out);
            }
        }
        out
    }

    fn render_targets(&self, backend: Backend, out: &mut String) {
        let post = self.find(backend, Measure::PostOneRow, 64);
        let post_rate = post.and_then(Figure::rate);
        let health = self
            .find(backend, Measure::Health, 64)
            .and_then(Figure::rate);
        let raw = self
            .find(backend, Measure::RawOneRowPerTransaction, 1)
            .and_then(Figure::rate);
        let ceiling_share = match backend {
            Backend::Sqlite => 0.3,
            Backend::Postgres => 0.2,
        };
        let mut check = |what: String,
                         value: Option<f64>,
                         pass: fn(f64, f64) -> bool,
                         target: f64,
                         goal: &str| {
            let verdict = match value {
                Some(v) if pass(v, target) => "ok",
                Some(_) => "MISSED",
                None => "not measured",
            };
            let _ = writeln!(
                out,
                "- {}: {what} = {} (target {goal}) {verdict}",
                backend.name(),
                cell(value, 3)
            );
        };
        let at_least = |v: f64, t: f64| v >= t;
        let under = |v: f64, t: f64| v < t;
        check(
            "POST c64 req/s / GET /health c64 req/s".into(),
            post_rate.zip(health).map(|(p, h)| p / h),
            at_least,
            ceiling_share,
            &format!(">= {ceiling_share}"),
        );
        check(
            "POST c64 req/s / raw 1-row-per-transaction rows/s".into(),
            post_rate.zip(raw).map(|(p, r)| p / r),
            at_least,
            5.0,
            ">= 5",
        );
        if backend == Backend::Sqlite {
            check(
                "POST c64 p99 ms".into(),
                post.and_then(Figure::p99_ms),
                under,
                25.0,
                "< 25",
            );
            check(
                "POST c64 peak RSS MiB".into(),
                post.and_then(Figure::peak_rss_mib),
                under,
                64.0,
                "< 64",
            );
        }
        for measure in [Measure::FilteredPage, Measure::ReportFunction] {
            check(
                format!("{} p50 ms at c1", measure.label()),
                self.find(backend, measure, 1).and_then(Figure::p50_ms),
                under,
                2.0,
                "< 2",
            );
        }
        check(
            format!("{} p50 ms at c1", Measure::DashboardChart.label()),
            self.find(backend, Measure::DashboardChart, 1)
                .and_then(Figure::p50_ms),
            under,
            20.0,
            "< 20",
        );
        for measure in [
            Measure::TenantsList,
            Measure::TenantsRollup,
            Measure::TenantsRollupFiltered,
            Measure::TenantsComparison,
        ] {
            check(
                format!("{} p50 ms at c1", measure.label()),
                self.find(backend, measure, 1).and_then(Figure::p50_ms),
                under,
                50.0,
                "< 50",
            );
        }
        check(
            "start-up to /ready ms".into(),
            self.find(backend, Measure::StartupToReady, 1)
                .and_then(Figure::p50_ms),
            under,
            200.0,
            "< 200",
        );
    }
}
