//! The load benchmark (see bench/README.md). For each backend, in one run: the
//! HTTP ceiling (`GET /health`), the raw sqlx insert limit, single-row POSTs at
//! concurrency 1, 16 and 64, reads on a 1,000,000-row history, start-up time,
//! pages and a CSV export of one tenant's 204,800-row history, and an
//! operator's reads over 1,000 tenants (the tenants list, the roll-up and its
//! comparison); then a table of medians and the ratios against the performance
//! targets.
//!
//! bench/run.sh installs wrk, builds the release binary and runs this.
// A test (and the benchmark) fails by panicking: unwrap and expect say where.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod database;
mod load;
mod report;
mod server;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{NaiveDate, Utc};
use clap::{Parser, ValueEnum};

use teams_usage_store::config::DatabaseUrl;
use teams_usage_store::domain::{Property, TenantId};
use teams_usage_store::odata::{encode_skiptoken, OrderKey};
use teams_usage_store::storage;
use uuid::Uuid;

use database::{Backend, Databases};
use load::{LoadRun, Measured, Scenario};
use report::{Measure, Report, Sample};
use server::Server;

/// Concurrency levels of the write runs.
const WRITE_CONCURRENCY: [u32; 3] = [1, 16, 64];
/// Concurrency levels of the read runs.
const READ_CONCURRENCY: [u32; 2] = [16, 1];
/// Concurrency levels of an operator's reads: a few people at once.
const OPERATOR_CONCURRENCY: [u32; 2] = [1, 4];
/// Natural keys each POST run may use; runs start this far apart.
const KEYS_PER_RUN: u64 = 2_000_000;

/// A part of the run, for `--only`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Part {
    /// Raw inserts, the `/health` ceiling and the POST runs.
    Writes,
    /// The 1,000,000-row history: start-up, filtered page, report, chart.
    Reads,
    /// One tenant's 204,800 rows: first page, a deep page, the CSV export.
    LargeTenant,
    /// 1,000 tenants' 1,000,000 rows, read by an operator: the tenants list,
    /// the roll-up (with and without `$filter`) and its comparison.
    Tenants,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Which {
    Sqlite,
    Postgres,
    Both,
}

#[derive(Debug, Parser)]
#[command(about = "Load benchmark of teams-usage-store (see bench/README.md)")]
struct Args {
    /// Which backend(s) to measure.
    #[arg(long, value_enum, default_value = "both")]
    backend: Which,
    /// Seconds each load run sends for.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Runs of each measurement; the table shows medians.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Postgres server (any database in it) where benchmark databases are made.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    postgres_url: String,
    /// Where SQLite files, tokens, service logs and the last table go.
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// The service binary (default: the release build beside this benchmark).
    #[arg(long)]
    service: Option<PathBuf>,
    /// Rebuild the 1,000,000-row history even if it is there from a previous run.
    #[arg(long)]
    reseed: bool,
    /// Measure only these parts (repeatable); all of them when absent.
    #[arg(long, value_enum)]
    only: Vec<Part>,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

struct Bench {
    args: Args,
    work_dir: PathBuf,
    service: PathBuf,
    script: PathBuf,
    duration: Duration,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("FAILED: some run stored a different number of rows than it got 201s");
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> anyhow::Result<bool> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let work_dir = args
        .work_dir
        .clone()
        .unwrap_or_else(|| root.join("target/bench"));
    std::fs::create_dir_all(&work_dir)?;
    let service = match &args.service {
        Some(path) => path.clone(),
        // cargo bench builds into target/release/deps, beside the service binary.
        None => std::env::current_exe()?
            .parent()
            .and_then(Path::parent)
            .context("locating target/release")?
            .join("teams-usage-store"),
    };
    anyhow::ensure!(
        service.exists(),
        "{} is missing: build it with `cargo build --release`",
        service.display()
    );
    let bench = Bench {
        duration: Duration::from_secs(args.seconds),
        script: root.join("bench/wrk/scenario.lua"),
        args,
        work_dir,
        service,
    };
    let backends: &[Backend] = match bench.args.backend {
        Which::Sqlite => &[Backend::Sqlite],
        Which::Postgres => &[Backend::Postgres],
        Which::Both => &[Backend::Sqlite, Backend::Postgres],
    };
    let mut report = Report::default();
    let began = Instant::now();
    for &backend in backends {
        bench.measure(backend, &mut report).await?;
    }
    let text = format!(
        "{}\n{}\nWhole run: {:.0} s.\n",
        machine_description(&bench).await,
        report.render(),
        began.elapsed().as_secs_f64()
    );
    println!("\n{text}");
    let last = bench.work_dir.join("last-run.md");
    std::fs::write(&last, &text)?;
    eprintln!("(also written to {})", last.display());
    Ok(report.rows_all_match())
}

fn midnight_utc(date: NaiveDate) -> i64 {
    date.and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc()
        .timestamp()
}

fn sample_of(measured: &Measured, what: &str) -> Sample {
    if measured.succeeded == 0 {
        // Every answer was an error (a route not there yet, say), or none came
        // within the run (wrk counts no request still in flight): no timing to show.
        eprintln!(
            "   {what}: no successful answer within the run ({:?}); not measured",
            measured.statuses
        );
        return Sample {
            errors: measured.errors(),
            ..Sample::default()
        };
    }
    Sample {
        rate: Some(measured.requests_per_second()),
        p50_ms: Some(measured.p50_ms),
        p90_ms: Some(measured.p90_ms),
        p99_ms: Some(measured.p99_ms),
        errors: measured.errors(),
        peak_rss: None,
        rows_match: None,
    }
}

impl Bench {
    /// A run of `scenario` at concurrency 1; callers set what differs.
    fn load<'a>(&'a self, base_url: &'a str, scenario: Scenario) -> LoadRun<'a> {
        LoadRun {
            script: &self.script,
            base_url,
            scenario,
            concurrency: 1,
            duration: self.duration,
            tokens: None,
            key_offset: 0,
            epoch: 0,
            target: None,
        }
    }

    fn measures(&self, part: Part) -> bool {
        self.args.only.is_empty() || self.args.only.contains(&part)
    }

    async fn measure(&self, backend: Backend, report: &mut Report) -> anyhow::Result<()> {
        let name = backend.name();
        let databases = Databases {
            backend,
            dir: self.work_dir.clone(),
            postgres_admin: self.args.postgres_url.clone(),
        };
        let log = self.work_dir.join(format!("{name}-service.log"));
        if self.measures(Part::Writes) {
            self.measure_writes(&databases, &log, report).await?;
        }
        if self.measures(Part::Reads) {
            self.measure_reads(&databases, &log, report).await?;
        }
        if self.measures(Part::LargeTenant) {
            self.measure_large_tenant(&databases, &log, report).await?;
        }
        if self.measures(Part::Tenants) {
            self.measure_tenants(&databases, &log, report).await?;
        }
        Ok(())
    }

    async fn measure_writes(
        &self,
        databases: &Databases,
        log: &Path,
        report: &mut Report,
    ) -> anyhow::Result<()> {
        let backend = databases.backend;
        let name = backend.name();
        let runs = self.args.runs;
        eprintln!("== {name}: raw sqlx inserts, one connection");
        for (measure, per_transaction) in [
            (Measure::RawOneRowPerTransaction, 1),
            (Measure::RawHundredRowsPerTransaction, 100),
        ] {
            for _ in 0..runs {
                let raw = databases.fresh("raw").await?;
                let rate = database::raw_insert_rate(&raw, per_transaction, self.duration).await?;
                eprintln!("   {per_transaction} row(s)/transaction: {rate:.0} rows/s");
                report.add(
                    backend,
                    measure,
                    1,
                    Sample {
                        rate: Some(rate),
                        ..Sample::default()
                    },
                );
            }
        }

        eprintln!("== {name}: the service, writes");
        // The service migrates the database at start-up; the tokens go in after.
        let writes = databases.empty("writes").await?;
        let server = Server::start(&self.service, &writes, log)?;
        let tokens = self.work_dir.join(format!("{name}-write-tokens.txt"));
        database::issue_tenant_tokens(&writes, &tokens).await?;
        let base_url = server.base_url();
        for concurrency in WRITE_CONCURRENCY {
            for _ in 0..runs {
                let measured = LoadRun {
                    concurrency,
                    ..self.load(&base_url, Scenario::Health)
                }
                .run()?;
                eprintln!(
                    "   GET /health c{concurrency}: {:.0} req/s",
                    measured.requests_per_second()
                );
                report.add(
                    backend,
                    Measure::Health,
                    concurrency,
                    sample_of(&measured, "GET /health"),
                );
            }
        }
        let yesterday = midnight_utc(Utc::now().date_naive() - chrono::Duration::days(1));
        let mut key_offset = 0;
        for concurrency in WRITE_CONCURRENCY {
            for _ in 0..runs {
                server.reset_peak_rss()?;
                let before = database::row_count(&writes).await?;
                let measured = LoadRun {
                    concurrency,
                    tokens: Some(&tokens),
                    key_offset,
                    epoch: yesterday,
                    ..self.load(&base_url, Scenario::NewRows)
                }
                .run()?;
                key_offset += KEYS_PER_RUN;
                anyhow::ensure!(
                    measured.sent < KEYS_PER_RUN,
                    "a run used more keys than it may"
                );
                // Every POST was answered (the script waits for its answers), and a
                // 201 means committed: the table must have grown by exactly the 201s.
                let stored = database::row_count(&writes).await? - before;
                let rows_match =
                    stored == measured.succeeded as i64 && measured.sent == measured.answered;
                eprintln!(
                    "   POST c{concurrency}: {:.0} req/s, p99 {:.2} ms, {} errors, rows stored {stored} / 201s {}{}",
                    measured.requests_per_second(),
                    measured.p99_ms,
                    measured.errors(),
                    measured.succeeded,
                    if rows_match { "" } else { "  <-- MISMATCH" }
                );
                report.add(
                    backend,
                    Measure::PostOneRow,
                    concurrency,
                    Sample {
                        peak_rss: Some(server.peak_rss()?),
                        rows_match: Some(rows_match),
                        ..sample_of(&measured, "POST")
                    },
                );
            }
        }
        server.stop()?;
        Ok(())
    }

    async fn measure_reads(
        &self,
        databases: &Databases,
        log: &Path,
        report: &mut Report,
    ) -> anyhow::Result<()> {
        let backend = databases.backend;
        let name = backend.name();
        let runs = self.args.runs;
        eprintln!(
            "== {name}: reads on {} rows",
            database::TENANTS * database::HISTORY_ROWS_PER_TENANT
        );
        let history = databases.url("history")?;
        let read_tokens = self.work_dir.join(format!("{name}-read-tokens.txt"));
        if self.args.reseed || !read_tokens.exists() || !database::history_is_seeded(&history).await
        {
            let began = Instant::now();
            let history = databases.fresh("history").await?;
            database::seed_history(&history).await?;
            database::issue_tenant_tokens(&history, &read_tokens).await?;
            eprintln!("   seeded in {:.1} s", began.elapsed().as_secs_f64());
        }
        // Start-up on an existing database: fresh processes, as a restart is.
        let mut running: Option<Server> = None;
        for _ in 0..runs {
            if let Some(previous) = running.take() {
                previous.stop()?;
            }
            let server = Server::start(&self.service, &history, log)?;
            let ms = server.startup.as_secs_f64() * 1000.0;
            eprintln!("   start-up to /ready: {ms:.1} ms");
            report.add(
                backend,
                Measure::StartupToReady,
                1,
                Sample {
                    p50_ms: Some(ms),
                    ..Sample::default()
                },
            );
            running = Some(server);
        }
        let server = running.context("no start-up run")?;
        let base_url = server.base_url();
        let history_end = midnight_utc(database::HISTORY_END.parse()?);
        for (measure, scenario) in [
            (Measure::FilteredPage, Scenario::FilteredPage),
            (Measure::ReportFunction, Scenario::ReportFunction),
            (Measure::DashboardChart, Scenario::DashboardChart),
        ] {
            for concurrency in READ_CONCURRENCY {
                for _ in 0..runs {
                    let measured = LoadRun {
                        concurrency,
                        tokens: Some(&read_tokens),
                        epoch: history_end,
                        ..self.load(&base_url, scenario)
                    }
                    .run()?;
                    eprintln!(
                        "   {scenario:?} c{concurrency}: {:.0} req/s, p50 {:.2} ms",
                        measured.requests_per_second(),
                        measured.p50_ms
                    );
                    report.add(
                        backend,
                        measure,
                        concurrency,
                        sample_of(&measured, &format!("{scenario:?}")),
                    );
                }
            }
        }
        server.stop()?;
        Ok(())
    }

    /// One tenant's long history, at concurrency 1: its first page, a page deep
    /// in the nextLink chain (in creation order, and newest first), and the whole
    /// CSV export. The database is made afresh each time and migrated by the
    /// service itself, so any build can be measured (`--service`).
    async fn measure_large_tenant(
        &self,
        databases: &Databases,
        log: &Path,
        report: &mut Report,
    ) -> anyhow::Result<()> {
        let backend = databases.backend;
        let name = backend.name();
        let rows = database::LARGE_TENANT_ROWS;
        eprintln!("== {name}: one tenant with {rows} rows");
        let began = Instant::now();
        let url = databases.empty("large").await?;
        let server = Server::start(&self.service, &url, log)?;
        database::seed_large_tenant(&url).await?;
        let tokens = self.work_dir.join(format!("{name}-large-token.txt"));
        database::issue_tokens(&url, &[database::LARGE_TENANT.to_owned()], &tokens).await?;
        let token = std::fs::read_to_string(&tokens)?.trim().to_owned();
        eprintln!("   seeded in {:.1} s", began.elapsed().as_secs_f64());

        // The links a client holds after 1,500 pages of 100: the same token the
        // service writes into the nextLink after the page's last row.
        let deep = 150_000;
        let newest_first = [OrderKey {
            property: Property::ReportRefreshDate,
            descending: true,
        }];
        // Newest first, a day's four rows in id order: the id at a position.
        let by_date = |position: usize| {
            database::large_tenant_id((rows / 4 - 1 - position / 4) * 4 + position % 4)
        };
        let first_page = format!("{COLLECTION}?$top=100");
        let deep_page = format!(
            "{COLLECTION}?$top=100&$skiptoken={}",
            skiptoken(&url, &[], database::large_tenant_id(deep - 1)).await?
        );
        let deep_by_date = format!(
            "{COLLECTION}?$orderby=reportRefreshDate%20desc&$top=100&$skiptoken={}",
            skiptoken(&url, &newest_first, by_date(deep - 1)).await?
        );
        let base_url = server.base_url();
        // A connection each: the service closes one kept idle for 5 s, and a
        // request sent on it as it closes fails.
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()?;
        for (path, next) in [
            (&deep_page, database::large_tenant_id(deep)),
            (&deep_by_date, by_date(deep)),
        ] {
            let page: serde_json::Value = client
                .get(format!("{base_url}{path}"))
                .bearer_auth(&token)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            anyhow::ensure!(
                page["value"][0]["id"] == next.to_string()
                    && page["value"].as_array().map(Vec::len) == Some(100),
                "{path} did not answer the 100 rows after its position"
            );
        }

        for (measure, target) in [
            (Measure::LargeFirstPage, &first_page),
            (Measure::LargeDeepPage, &deep_page),
            (Measure::LargeDeepPageByDate, &deep_by_date),
        ] {
            for _ in 0..self.args.runs {
                let measured = LoadRun {
                    tokens: Some(&tokens),
                    target: Some(target),
                    ..self.load(&base_url, Scenario::Get)
                }
                .run()?;
                eprintln!(
                    "   {measure:?}: {:.0} req/s, p50 {:.2} ms",
                    measured.requests_per_second(),
                    measured.p50_ms
                );
                report.add(
                    backend,
                    measure,
                    1,
                    sample_of(&measured, &format!("{measure:?}")),
                );
            }
        }
        for _ in 0..self.args.runs {
            let started = Instant::now();
            let body = client
                .get(format!("{base_url}{COLLECTION}?$format=text/csv"))
                .bearer_auth(&token)
                .send()
                .await?
                .error_for_status()?
                .bytes()
                .await?;
            let seconds = started.elapsed().as_secs_f64();
            let lines = body
                .split(|b| *b == b'\n')
                .filter(|l| !l.is_empty())
                .count();
            anyhow::ensure!(
                lines == rows + 1,
                "the CSV export had {lines} lines, not a header and {rows} rows"
            );
            eprintln!(
                "   CSV export: {seconds:.2} s, {:.1} MB",
                body.len() as f64 / 1e6
            );
            report.add(
                backend,
                Measure::LargeCsvExport,
                1,
                Sample {
                    rate: Some(rows as f64 / seconds),
                    p50_ms: Some(seconds * 1000.0),
                    ..Sample::default()
                },
            );
        }
        server.stop()?;
        Ok(())
    }

    /// An operator's reads over 1,000 tenants of 1,000 rows each (1,000,000
    /// rows, some tenants stale): the tenants list, the roll-up of the 7-day
    /// period (every tenant, and those `$filter=stale eq false` keeps) and its
    /// comparison, at concurrency 1 and 4. The database is made afresh each
    /// time, dated from today, and migrated by the service itself (`--service`).
    async fn measure_tenants(
        &self,
        databases: &Databases,
        log: &Path,
        report: &mut Report,
    ) -> anyhow::Result<()> {
        let backend = databases.backend;
        let name = backend.name();
        let tenants = database::TENANTS;
        eprintln!(
            "== {name}: an operator's reads over {tenants} tenants, {} rows",
            tenants * database::FLEET_DAYS * 4
        );
        let began = Instant::now();
        let url = databases.empty("fleet").await?;
        let server = Server::start(&self.service, &url, log)?;
        let today = Utc::now().date_naive();
        database::seed_fleet(&url, today).await?;
        eprintln!(
            "   rows, names and collector runs loaded in {:.1} s",
            began.elapsed().as_secs_f64()
        );
        // Every tenant's collector has its token; the operator reads with hers.
        let tenant_tokens = self.work_dir.join(format!("{name}-fleet-tokens.txt"));
        database::issue_tenant_tokens(&url, &tenant_tokens).await?;
        let tokens = self.work_dir.join(format!("{name}-operator-token.txt"));
        database::issue_operator_token(&url, &tokens).await?;
        let token = std::fs::read_to_string(&tokens)?.trim().to_owned();
        eprintln!("   seeded in {:.1} s", began.elapsed().as_secs_f64());

        let base_url = server.base_url();
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()?;
        let get = |path: &str| {
            client
                .get(format!("{base_url}{path}"))
                .bearer_auth(&token)
                .send()
        };
        let list = "/v1.0/tenants";
        let rollup = "/v1.0/tenants/rollup?period=7";
        let filtered = "/v1.0/tenants/rollup?period=7&$filter=stale%20eq%20false";
        let comparison = "/v1.0/tenants/rollup/comparison?period=7";
        let status = get(list).await?.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            eprintln!("   {list}: 404, not in this build; not measured");
            return server.stop();
        }

        // The answers hold what was loaded: every tenant with its rows, the
        // stale ones, the newest day's tenants. (The list also holds the tenants
        // of the bootstrap token and of the operator's, without rows.)
        let fresh: Vec<usize> = (0..tenants)
            .filter(|&t| database::fleet_lag(t) <= 3)
            .collect();
        let newest_lag = (0..tenants).map(database::fleet_lag).min().unwrap_or(0);
        let newest = (today - chrono::Duration::days(newest_lag)).to_string();
        let on_newest = (0..tenants)
            .filter(|&t| database::fleet_lag(t) == newest_lag)
            .count();
        // The refresh dates a roll-up of some tenants spans: from the oldest
        // of theirs to the newest.
        let days_of = |chosen: &[usize]| {
            let lags = || chosen.iter().map(|&t| database::fleet_lag(t));
            let spread = lags().max().unwrap_or(0) - lags().min().unwrap_or(0);
            usize::try_from(spread).unwrap_or(0) + database::FLEET_DAYS
        };
        let every: Vec<usize> = (0..tenants).collect();
        let answer = |path: &'static str| async move {
            let value: serde_json::Value = get(path).await?.error_for_status()?.json().await?;
            anyhow::Ok(value)
        };
        let all = answer(list).await?;
        let with_rows: Vec<&serde_json::Value> = all["value"]
            .as_array()
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .filter(|t| t["rowCount"] == database::FLEET_DAYS * 4)
            .collect();
        let stale = with_rows.iter().filter(|t| t["stale"] == true).count();
        anyhow::ensure!(
            with_rows.len() == tenants && stale == tenants - fresh.len(),
            "{list} answered {} tenants of {} rows, {stale} of them stale, not {tenants} and {}",
            with_rows.len(),
            database::FLEET_DAYS * 4,
            tenants - fresh.len()
        );
        eprintln!(
            "   {list}: {} tenants, {tenants} with rows, {stale} of them stale",
            all["value"].as_array().map_or(0, Vec::len)
        );
        for (path, chosen) in [(rollup, &every), (filtered, &fresh)] {
            let body = answer(path).await?;
            let value = body["value"].as_array().map_or(&[][..], Vec::as_slice);
            let last = value.last().cloned().unwrap_or_default();
            let shares = body["tenantShares"].as_array().map_or(0, Vec::len);
            anyhow::ensure!(
                body["latestReportRefreshDate"] == newest.as_str()
                    && value.len() == days_of(chosen)
                    && last["tenantCount"] == on_newest
                    && shares == on_newest,
                "{path} answered {} days, newest {} with {} tenants and {shares} shares, \
                 not {} days, newest {newest} with {on_newest}",
                value.len(),
                body["latestReportRefreshDate"],
                last["tenantCount"],
                days_of(chosen)
            );
        }
        let body = answer(comparison).await?;
        let compared = &body["comparison"];
        anyhow::ensure!(
            compared["latest"]["reportRefreshDate"] == newest.as_str()
                && compared["earlier"][0]["shares"].is_object()
                && compared["earlier"][2]["shares"].is_null(),
            "{comparison} answered {compared}"
        );

        for (measure, target) in [
            (Measure::TenantsList, list),
            (Measure::TenantsRollup, rollup),
            (Measure::TenantsRollupFiltered, filtered),
            (Measure::TenantsComparison, comparison),
        ] {
            for concurrency in OPERATOR_CONCURRENCY {
                for _ in 0..self.args.runs {
                    // A request of seconds that wrk left in flight still runs:
                    // each run begins once the last one's work is done.
                    wait_quiet(&server, &url).await?;
                    let measured = LoadRun {
                        concurrency,
                        tokens: Some(&tokens),
                        target: Some(target),
                        ..self.load(&base_url, Scenario::Get)
                    }
                    .run()?;
                    eprintln!(
                        "   {measure:?} c{concurrency}: {:.1} req/s, p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms",
                        measured.requests_per_second(),
                        measured.p50_ms,
                        measured.p90_ms,
                        measured.p99_ms
                    );
                    report.add(
                        backend,
                        measure,
                        concurrency,
                        sample_of(&measured, &format!("{measure:?}")),
                    );
                }
            }
        }
        server.stop()
    }
}

/// Waits (at most a minute) until the service has used no more than a clock
/// tick of CPU in 200 ms and no statement runs in its Postgres database.
async fn wait_quiet(server: &Server, url: &DatabaseUrl) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut ticks = server.cpu_ticks()?;
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = server.cpu_ticks()?;
        if now <= ticks + 1 && database::busy_statements(url).await? == 0 {
            return Ok(());
        }
        ticks = now;
    }
    eprintln!("   (the service was still busy after a minute)");
    Ok(())
}

/// The collection every page asks for.
const COLLECTION: &str = "/v1.0/reports/teamsDeviceUsageDistributionUserCounts";

/// The `$skiptoken` that continues after the large tenant's row `last` in `order`.
async fn skiptoken(url: &DatabaseUrl, order: &[OrderKey], last: Uuid) -> anyhow::Result<String> {
    let store = storage::connect(url, 1).await?;
    let tenant = TenantId::parse(database::LARGE_TENANT).map_err(anyhow::Error::msg)?;
    let row = store
        .get_row(&tenant, last)
        .await?
        .with_context(|| format!("no row {last}"))?;
    store.close().await;
    Ok(encode_skiptoken(None, order, &row))
}

/// The machine and versions the numbers belong to.
async fn machine_description(bench: &Bench) -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = cpuinfo
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count();
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or("?".into(), |kib| {
            format!("{:.0} GiB", kib as f64 / 1024.0 / 1024.0)
        });
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let commit = Command::new("git")
        .args(["describe", "--always", "--dirty"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let wrk = Command::new("wrk")
        .arg("-v")
        .output()
        .ok()
        .map(|o| {
            let text = String::from_utf8_lossy(&o.stdout).to_string()
                + &String::from_utf8_lossy(&o.stderr);
            text.lines().next().unwrap_or("").to_owned()
        })
        .unwrap_or_default();
    let sqlite: Option<String> = async {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect("sqlite::memory:")
            .await
            .ok()?;
        sqlx::query_scalar("SELECT sqlite_version()")
            .fetch_one(&mut conn)
            .await
            .ok()
    }
    .await;
    let postgres: Option<String> = async {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&bench.args.postgres_url)
            .await
            .ok()?;
        sqlx::query_scalar("SHOW server_version")
            .fetch_one(&mut conn)
            .await
            .ok()
    }
    .await;
    format!(
        "Machine: {model}, {cores} cores, {memory}, Linux {}; load generator {wrk} on the same cores.\n\
         Commit {commit}; SQLite {} (bundled with sqlx); PostgreSQL {}.\n\
         Each figure is the median of {} runs of {} s.\n",
        kernel.trim(),
        sqlite.as_deref().unwrap_or("?"),
        postgres.as_deref().unwrap_or("?"),
        bench.args.runs,
        bench.args.seconds,
    )
}
