//! `collect` and `serve` with COLLECT_EVERY against a fake Graph on
//! 127.0.0.1, on a fresh database of each backend.
// A test fails by panicking: unwrap and expect say where.
#![allow(clippy::unwrap_used, clippy::expect_used)]

// Each target uses a part of the shared helpers.
#[allow(dead_code)]
#[macro_use]
#[path = "../common/mod.rs"]
mod common;
mod bounds;
mod configured;
mod fake_graph;
mod schedule;

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use teams_usage_store::domain::{DistributionRow, ReportPeriod};
use teams_usage_store::storage::{self, Store};

use common::fixtures::{date, tenant};
use common::{Backend, TestDatabase};
use fake_graph::{
    FakeGraph, Reply, ACCESS_TOKEN, BETA_HEADER, CERTIFICATE, CLIENT_ID, CLIENT_SECRET,
    GRAPH_TENANT, PRIVATE_KEY, V1_HEADER,
};

backend_tests!(
    a_run_stores_every_period_with_one_token,
    a_rerun_stores_nothing_new,
    graph_may_answer_with_the_csv_or_the_url,
    v1_reports_have_eight_columns,
    a_header_only_report_stores_nothing,
    throttling_waits_for_retry_after,
    throttling_past_the_budget_fails_the_period,
    a_server_error_is_retried,
    bad_credentials_say_so_without_the_secret,
    a_login_refused_with_400_ends_the_source,
    an_unreachable_login_host_ends_the_source_at_once,
    a_source_that_cannot_log_in_leaves_the_others_be,
    a_missing_permission_names_it_and_admin_consent,
    a_conflict_keeps_the_stored_row,
    replace_takes_graphs_counts,
    a_bad_line_stores_nothing_of_its_period,
    status_shows_the_newest_run_and_last_success,
    certificate_credentials_sign_a_client_assertion,
    several_sources_from_a_file,
    an_unreachable_graph_says_so,
);

/// One beta line for `date`, with `web` users.
fn beta_line(date: &str, web: i64, period: &str) -> String {
    format!("{date},{web},0,2,3,4,5,6,7,{period}\r\n")
}

fn beta_csv(lines: &[String]) -> String {
    format!("{BETA_HEADER}\r\n{}", lines.concat())
}

struct Run {
    success: bool,
    stdout: String,
    stderr: String,
    /// The process's peak resident memory (`VmHWM`), where /proc tells.
    peak_rss_kib: Option<u64>,
}

/// Texts no output, stored run or status may contain: the secret (as is and
/// as a form sends it), the access token, the download URL's signature, a key.
fn assert_no_secret_in(text: &str) {
    for secret in [
        CLIENT_SECRET,
        "very-secret-client-value",
        ACCESS_TOKEN,
        "fake-graph-access-token",
        "sig=pre-authenticated",
        "BEGIN PRIVATE KEY",
    ] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
}

impl Run {
    /// No output mentions a secret or the download URL's signature.
    fn assert_discreet(&self) {
        assert_no_secret_in(&self.stdout);
        assert_no_secret_in(&self.stderr);
    }
}

/// The environment of a source `graph` serves, with a fast retry backoff.
fn graph_env(graph: &FakeGraph) -> Vec<(String, String)> {
    [
        ("GRAPH_TENANT_ID", GRAPH_TENANT),
        ("GRAPH_CLIENT_ID", CLIENT_ID),
        ("GRAPH_CLIENT_SECRET", CLIENT_SECRET),
        ("GRAPH_BASE_URL", graph.url.as_str()),
        ("GRAPH_LOGIN_URL", graph.url.as_str()),
        ("COLLECT_RETRY_BASE_MS", "20"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// Runs the binary with `args`, the database, and `env` (later pairs win).
async fn run(database: &TestDatabase, args: &[&str], env: Vec<(String, String)>) -> Run {
    let url = database.url.expose().to_owned();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let (output, peak_rss_kib) = tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_teams-usage-store"))
            .args(&args)
            .current_dir(dir.path())
            .env("DATABASE_URL", url)
            .env("RUST_LOG", "warn")
            .envs(env)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary runs");
        let watch = PeakWatch::start(child.id());
        let output = child.wait_with_output().unwrap();
        (output, watch.stop())
    })
    .await
    .unwrap();
    Run {
        success: output.status.success(),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
        peak_rss_kib,
    }
}

/// Reads a process's `VmHWM` (the peak of its resident memory so far) every
/// few milliseconds while it runs; the last reading is its peak near the end.
struct PeakWatch {
    done: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Option<u64>>,
}

impl PeakWatch {
    fn start(pid: u32) -> Self {
        let done = Arc::new(AtomicBool::new(false));
        let stop = done.clone();
        let thread = std::thread::spawn(move || {
            let mut peak = None;
            while !stop.load(Ordering::SeqCst) {
                let status = std::fs::read_to_string(format!("/proc/{pid}/status"));
                let hwm = status.ok().and_then(|s| {
                    s.lines()
                        .find_map(|l| l.strip_prefix("VmHWM:"))
                        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                });
                if hwm.is_some() {
                    peak = peak.max(hwm);
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            peak
        });
        Self { done, thread }
    }

    fn stop(self) -> Option<u64> {
        self.done.store(true, Ordering::SeqCst);
        self.thread.join().unwrap()
    }
}

async fn collect(database: &TestDatabase, graph: &FakeGraph, extra: &[(&str, &str)]) -> Run {
    let mut env = graph_env(graph);
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let run = run(database, &["collect"], env).await;
    run.assert_discreet();
    run
}

async fn open(database: &TestDatabase) -> std::sync::Arc<dyn Store> {
    storage::connect(&database.url, 1).await.unwrap()
}

async fn stored(database: &TestDatabase, period: ReportPeriod) -> Option<DistributionRow> {
    let store = open(database).await;
    let row = store.latest_row(&tenant("default"), period).await.unwrap();
    store.close().await;
    row
}

/// The one `error:` line, last.
fn assert_failed(run: &Run, reason: &str) {
    assert!(!run.success, "{}", run.stderr);
    let last = run.stderr.lines().last().unwrap_or_default();
    assert!(last.starts_with("error: "), "{}", run.stderr);
    assert!(last.contains(reason), "{}", run.stderr);
    assert_eq!(
        run.stderr
            .lines()
            .filter(|l| l.starts_with("error: "))
            .count(),
        1,
        "{}",
        run.stderr
    );
}

async fn a_run_stores_every_period_with_one_token(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let graph = FakeGraph::start().await;
    for (period, days) in [("D7", "7"), ("D30", "30"), ("D90", "90"), ("D180", "180")] {
        graph.set_csv(period, &beta_csv(&[beta_line("2026-11-27", 10, days)]));
    }
    let run = collect(&database, &graph, &[]).await;
    assert!(run.success, "{}", run.stderr);
    for period in ["D7", "D30", "D90", "D180"] {
        assert!(
            run.stderr.contains(&format!(
                "{GRAPH_TENANT}->default {period} -> tenant 'default': 1 new, 0 already stored, 0 conflicting"
            )),
            "{}",
            run.stderr
        );
        assert_eq!(graph.report_calls(&format!("beta/{period}")), 1);
    }
    // One token for the four calls; four downloads, none with the token.
    graph.with(|s| {
        assert_eq!(s.token_requests, 1);
        assert_eq!((s.downloads, s.downloads_with_authorization), (4, 0));
    });
    let row = stored(&database, ReportPeriod::D90).await.unwrap();
    assert_eq!(row.report_refresh_date, date("2026-11-27"));
    // Beta's columns, the BOM stripped before the header.
    assert_eq!(row.counts.chrome_os.map(|c| c.get()), Some(6));
    assert_eq!(row.counts.linux.map(|c| c.get()), Some(7));
    assert_eq!(database.row_count().await, 4);
}

async fn a_rerun_stores_nothing_new(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let graph = FakeGraph::start().await;
    graph.set_csv("D7", &beta_csv(&[beta_line("2026-11-27", 10, "7")]));
    let periods = [("COLLECT_PERIODS", "D7")];
    assert!(collect(&database, &graph, &periods).await.success);
    let again = collect(&database, &graph, &periods).await;
    assert!(again.success, "{}", again.stderr);
    assert!(
        again
            .stderr
            .contains("D7 -> tenant 'default': 0 new, 1 already stored, 0 conflicting"),
        "{}",
        again.stderr
    );
    assert_eq!(database.row_count().await, 1);
}

async fn graph_may_answer_with_the_csv_or_the_url(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let graph = FakeGraph::start().await;
    graph.set_csv("D7", &beta_csv(&[beta_line("2026-11-27", 1, "7")]));
    graph.set_csv("D30", &beta_csv(&[beta_line("2026-11-27", 2, "30")]));
    graph.script("D7", vec![Reply::Csv]);
    graph.script("D30", vec![Reply::Url]);
    let run = collect(&database, &graph, &[("COLLECT_PERIODS", "D7,D30")]).await;
    assert!(run.success, "{}", run.stderr);
    assert_eq!(database.row_count().await, 2);
    // Only the URL answer needed the download host.
    graph.with(|s| assert_eq!((s.downloads, s.downloads_with_authorization), (1, 0)));
    let row = stored(&database, ReportPeriod::D30).await.unwrap();
    assert_eq!(row.counts.web.get(), 2);
}

async fn v1_reports_have_eight_columns(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let graph = FakeGraph::start().await;
    graph.set_csv(
        "D7",
        &format!("{V1_HEADER}\r\n2026-11-27,1,0,2,3,4,5,7\r\n"),
    );
    let run = collect(
        &database,
        &graph,
        &[("COLLECT_PERIODS", "D7"), ("GRAPH_API_VERSION", "v1.0")],
    )
    .await;
    assert!(run.success, "{}", run.stderr);
    assert_eq!(graph.report_calls("v1.0/D7"), 1);
    let row = stored(&database, ReportPeriod::D7).await.unwrap();
    assert_eq!((row.counts.chrome_os, row.counts.linux), (None, None));
    assert_eq!(row.counts.windows.get(), 5);
}

async fn a_header_only_report_stores_nothing(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let graph = FakeGraph::start().await;
    let run = collect(&database, &graph, &[("COLLECT_PERIODS", "D7")]).await;
    assert!(run.success, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("D7 -> tenant 'default': 0 new, 0 already stored"),
        "{}",
        run.stderr
    );
    assert_eq!(database.row_count().await, 0);
}

async fn throttling_waits_for_retry_after(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let graph = FakeGraph::start().await;
    graph.set_csv("D7", &beta_csv(&[beta_line("2026-11-27", 1, "7")]));
    graph.script("D7", vec![Reply::Status(429, Some(1))]);
    let started = Instant::now();
    let run = collect(&database, &graph, &[("COLLECT_PERIODS", "D7")]).await;
    assert!(run.success, "{}", run.stderr);
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(graph.report_calls("beta/D7"), 2);
    assert_eq!(database.row_count().await, 1);
}

async fn throttling_past_the_budget_fails_the_period(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let graph = FakeGraph::start().await;
    graph.set_csv("D30", &beta_csv(&[beta_line("2026-11-27", 1, "30")]));
    graph.script("D7", vec![Reply::Status(429, Some(0)); 10]);
    let run = collect(&database, &graph, &[("COLLECT_PERIODS", "D7,D30")]).await;
    assert_failed(&run, "throttled by Graph past the retry budget");
    // Bounded: four attempts, then the next period goes on.
    assert_eq!(graph.report_calls("beta/D7"), 4);
    assert!(
        run.stderr.contains("D30 -> tenant 'default': 1 new"),
        "{}",
        run.stderr
    );
    assert_eq!(database.row_count().await, 1);
}

async fn a_server_error_is_retried(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let graph = FakeGraph::start().await;
    graph.set_csv("D7", &beta_csv(&[beta_line("2026-11-27", 1, "7")]));
    graph.script(
        "D7",
        vec![Reply::Status(503, None), Reply::Status(500, None)],
    );
    let run = collect(&database, &graph, &[("COLLECT_PERIODS", "D7")]).await;
    assert!(run.success, "{}", run.stderr);
    assert_eq!(graph.report_calls("beta/D7"), 3);
    assert_eq!(database.row_count().await, 1);
}

async fn bad_credentials_say_so_without_the_secret(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let graph = FakeGraph::start().await;
    let wrong = "Wrong~secret-value-that-must-not-print";
    let run = collect(&database, &graph, &[("GRAPH_CLIENT_SECRET", wrong)]).await;
    assert_failed(&run, "bad credentials");
    assert!(run.stderr.contains("AADSTS7000215"), "{}", run.stderr);
    assert!(!run.stderr.contains(wrong) && !run.stdout.contains(wrong));
    // The source's other periods are not tried again, and the failure is told once.
    graph.with(|s| assert_eq!(s.token_requests, 1));
    assert_told_once(&run, "AADSTS7000215", "D7", "bad credentials", 3);
}

/// `detail` of one failure stands on one period's line (`period`'s) and on
/// the closing `error:` line, no more; the `skipped` periods after it say they
/// were skipped because of it (`kind`), and the closing line counts them.
fn assert_told_once(run: &Run, detail: &str, period: &str, kind: &str, skipped: usize) {
    let (lines, closing) = run.stderr.trim_end().rsplit_once('\n').unwrap();
    assert!(closing.contains(detail), "{}", run.stderr);
    assert!(
        closing.contains(&format!(
            "1 of {} collections failed ({skipped} more skipped because of it)",
            skipped + 1
        )),
        "{}",
        run.stderr
    );
    let telling: Vec<&str> = lines.lines().filter(|l| l.contains(detail)).collect();
    assert_eq!(telling.len(), 1, "{}", run.stderr);
    assert!(
        telling[0].contains(&format!(" {period} -> tenant 'default': failed: ")),
        "{}",
        run.stderr
    );
    let skip = format!(": skipped: not attempted after {period} failed ({kind})");
    assert_eq!(
        lines.lines().filter(|l| l.contains(&skip)).count(),
        skipped,
        "{}",
        run.stderr
    );
    // No log line repeats it either.
    assert!(!run.stderr.contains("collection failed"), "{}", run.stderr);
}

async fn a_login_refused_with_400_ends_the_source(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let graph = FakeGraph::start().await;
    // A tenant Entra ID does not know: 400 with AADSTS90002.
    let run = collect(
        &database,
        &graph,
        &[("GRAPH_TENANT_ID", "no-such-tenant.onmicrosoft.com")],
    )
    .await;
    assert_failed(&run, "bad credentials");
    assert!(run.stderr.contains("400 Bad Request"), "{}", run.stderr);
    graph.with(|s| assert_eq!(s.token_requests, 1));
    assert_eq!(graph.with(|s| s.report_calls.len()), 0);
    assert_told_once(&run, "AADSTS90002", "D7", "bad credentials", 3);
}

/// A login host that takes no connection: the source's first period fails at
/// once, without the retries a 429 or 5xx gets (2 + 4 + 8 seconds per period
/// with the default backoff), and its other periods are skipped.
async fn an_unreachable_login_host_ends_the_source_at_once(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let graph = FakeGraph::start().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let nowhere = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let started = Instant::now();
    let run = collect(
        &database,
        &graph,
        &[
            ("GRAPH_LOGIN_URL", &nowhere),
            // The default backoff, which used to make this run last 56 seconds.
            ("COLLECT_RETRY_BASE_MS", "2000"),
        ],
    )
    .await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert_failed(&run, "Entra ID unreachable");
    assert!(run.stderr.contains(&nowhere), "{}", run.stderr);
    assert!(run.stderr.contains("GRAPH_LOGIN_URL"), "{}", run.stderr);
    assert_told_once(&run, "Connection refused", "D7", "Entra ID unreachable", 3);
    assert_eq!(graph.with(|s| s.report_calls.len()), 0);
    assert_eq!(database.row_count().await, 0);

    // Every period is recorded: the first with the failure, the others as skipped.
    let status = run_status(&database).await;
    let lines: Vec<&str> = status.lines().collect();
    assert_eq!(lines.len(), 4, "{status}");
    assert!(
        lines[0].contains("D7 -> tenant 'default': failed: Entra ID unreachable"),
        "{status}"
    );
    for line in &lines[1..] {
        assert!(
            line.contains("skipped: not attempted after D7 failed (Entra ID unreachable)"),
            "{status}"
        );
        assert!(line.ends_with("failures since 1"), "{status}");
    }
}

/// `collect --status` with nothing configured: every recorded run.
async fn run_status(database: &TestDatabase) -> String {
    let status = run(database, &["collect", "--status"], vec![]).await;
    assert!(status.success, "{}", status.stderr);
    status.stdout
}

async fn a_source_that_cannot_log_in_leaves_the_others_be(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let graph = FakeGraph::start().await;
    graph.set_csv("D7", &beta_csv(&[beta_line("2026-11-27", 1, "7")]));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sources.json");
    let entry = |name: &str, secret: &str| {
        serde_json::json!({"name": name, "graph_tenant_id": GRAPH_TENANT, "client_id": CLIENT_ID,
            "client_secret": secret, "tenant": name, "periods": "D7,D30"})
    };
    let sources = serde_json::json!({"sources": [
        entry("expired", "an-expired-secret-value"),
        entry("contoso", "env:CONTOSO_SECRET"),
    ]});
    std::fs::write(&file, sources.to_string()).unwrap();
    let env = vec![
        ("COLLECT_SOURCES".to_owned(), file.display().to_string()),
        ("CONTOSO_SECRET".to_owned(), CLIENT_SECRET.to_owned()),
        ("GRAPH_BASE_URL".to_owned(), graph.url.clone()),
        ("GRAPH_LOGIN_URL".to_owned(), graph.url.clone()),
    ];
    let run = run(&database, &["collect"], env).await;
    run.assert_discreet();
    assert_failed(&run, "expired D7: bad credentials");
    for line in [
        "expired D7 -> tenant 'expired': failed: bad credentials",
        "expired D30 -> tenant 'expired': skipped: not attempted after D7 failed (bad credentials)",
        "contoso D7 -> tenant 'contoso': 1 new",
        "contoso D30 -> tenant 'contoso': 0 new",
        "error: 1 of 4 collections failed (1 more skipped because of it)",
    ] {
        assert!(run.stderr.contains(line), "{line} in {}", run.stderr);
    }
    // One refused login, one for the other source, which then reads both periods.
    graph.with(|s| assert_eq!(s.token_requests, 2));
    assert_eq!(
        graph.report_calls("beta/D7") + graph.report_calls("beta/D30"),
        2
    );
}

async fn a_missing_permission_names_it_and_admin_consent(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    for status in [403, 401] {
        let graph = FakeGraph::start().await;
        graph.state.lock().unwrap().report_status = Some(status);
        let run = collect(&database, &graph, &[]).await;
        assert_failed(&run, "Reports.Read.All");
        assert!(run.stderr.contains("admin consent"), "{}", run.stderr);
        assert!(run.stderr.contains(&status.to_string()), "{}", run.stderr);
        // One call tells: the other periods are not asked.
        let calls: usize = graph.with(|s| s.report_calls.values().sum());
        assert_eq!(calls, 1);
    }
}

async fn a_conflict_keeps_the_stored_row(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let graph = FakeGraph::start().await;
    let periods = [("COLLECT_PERIODS", "D7")];
    graph.set_csv("D7", &beta_csv(&[beta_line("2026-11-26", 10, "7")]));
    assert!(collect(&database, &graph, &periods).await.success);
    // Graph restates the stored date and adds a new one.
    graph.set_csv(
        "D7",
        &beta_csv(&[
            beta_line("2026-11-26", 99, "7"),
            beta_line("2026-11-27", 11, "7"),
        ]),
    );
    let run = collect(&database, &graph, &periods).await;
    assert!(run.success, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("D7 -> tenant 'default': 1 new, 0 already stored, 1 conflicting"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("the stored row is kept"),
        "{}",
        run.stderr
    );
    let store = open(&database).await;
    let rows = store
        .list_rows(
            &tenant("default"),
            &teams_usage_store::odata::RowQuery::first(10),
        )
        .await
        .unwrap();
    store.close().await;
    let webs: Vec<i64> = rows.iter().map(|r| r.counts.web.get()).collect();
    assert_eq!(rows.len(), 2);
    assert!(webs.contains(&10) && webs.contains(&11), "{webs:?}");
}

async fn replace_takes_graphs_counts(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let graph = FakeGraph::start().await;
    let options = [
        ("COLLECT_PERIODS", "D7"),
        ("COLLECT_ON_CONFLICT", "replace"),
    ];
    graph.set_csv("D7", &beta_csv(&[beta_line("2026-11-27", 10, "7")]));
    assert!(collect(&database, &graph, &options).await.success);
    graph.set_csv("D7", &beta_csv(&[beta_line("2026-11-27", 99, "7")]));
    let run = collect(&database, &graph, &options).await;
    assert!(run.success, "{}", run.stderr);
    assert!(run.stderr.contains("1 conflicting"), "{}", run.stderr);
    let row = stored(&database, ReportPeriod::D7).await.unwrap();
    assert_eq!(row.counts.web.get(), 99);
    assert_eq!(database.row_count().await, 1);
}

async fn a_bad_line_stores_nothing_of_its_period(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let graph = FakeGraph::start().await;
    graph.set_csv("D30", &beta_csv(&[beta_line("2026-11-27", 1, "30")]));
    // The report breaks off after two good lines.
    graph.set_csv(
        "D7",
        &format!(
            "{}2026-11-25,3,0,2\r\n",
            beta_csv(&[
                beta_line("2026-11-27", 1, "7"),
                beta_line("2026-11-26", 2, "7")
            ])
        ),
    );
    let run = collect(&database, &graph, &[("COLLECT_PERIODS", "D7,D30")]).await;
    assert_failed(&run, "the report is not Graph's CSV");
    assert!(run.stderr.contains("line 4"), "{}", run.stderr);
    assert_eq!(stored(&database, ReportPeriod::D7).await, None);
    assert!(stored(&database, ReportPeriod::D30).await.is_some());
    assert_eq!(database.row_count().await, 1);
}

async fn status_shows_the_newest_run_and_last_success(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let graph = FakeGraph::start().await;
    let empty = run(&database, &["collect", "--status"], vec![]).await;
    assert!(empty.success, "{}", empty.stderr);
    assert!(
        empty.stderr.contains("no collection has run"),
        "{}",
        empty.stderr
    );

    graph.set_csv("D7", &beta_csv(&[beta_line("2026-11-27", 1, "7")]));
    assert!(
        collect(&database, &graph, &[("COLLECT_PERIODS", "D7,D30")])
            .await
            .success
    );
    graph.script("D30", vec![Reply::Status(403, None)]);
    assert!(
        !collect(&database, &graph, &[("COLLECT_PERIODS", "D7,D30")])
            .await
            .success
    );

    let status = run(&database, &["collect", "--status"], vec![]).await;
    assert!(status.success, "{}", status.stderr);
    let lines: Vec<&str> = status.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", status.stdout);
    assert!(
        lines[0].contains("D7 -> tenant 'default': 0 new, 1 already stored"),
        "{}",
        lines[0]
    );
    assert!(!lines[0].contains("last success never"), "{}", lines[0]);
    assert!(
        lines[1].contains("D30 -> tenant 'default': failed: missing permission"),
        "{}",
        lines[1]
    );
    // D30 succeeded the first time (header-only), failed the second.
    assert!(!lines[1].contains("last success never"), "{}", lines[1]);
    assert!(lines[1].ends_with("failures since 1"), "{}", lines[1]);
    assert!(lines[0].ends_with("failures since 0"), "{}", lines[0]);
}

async fn certificate_credentials_sign_a_client_assertion(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let graph = FakeGraph::start().await;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key.pem");
    std::fs::write(&key, PRIVATE_KEY).unwrap();
    let mut env: Vec<(String, String)> = graph_env(&graph)
        .into_iter()
        .filter(|(k, _)| k != "GRAPH_CLIENT_SECRET")
        .collect();
    env.push(("GRAPH_CLIENT_CERTIFICATE".into(), CERTIFICATE.into()));
    env.push((
        "GRAPH_CLIENT_PRIVATE_KEY".into(),
        format!("file:{}", key.display()),
    ));
    env.push(("COLLECT_PERIODS".into(), "D7".into()));
    let run = run(&database, &["collect"], env).await;
    run.assert_discreet();
    assert!(run.success, "{}", run.stderr);
    graph.with(|s| assert_eq!((s.token_requests, s.assertion_logins), (1, 1)));
}

async fn several_sources_from_a_file(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let graph = FakeGraph::start().await;
    graph.set_csv("D7", &beta_csv(&[beta_line("2026-11-27", 1, "7")]));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sources.json");
    let sources = serde_json::json!({"sources": [
        {"name": "contoso", "graph_tenant_id": GRAPH_TENANT, "client_id": CLIENT_ID,
         "client_secret": "env:CONTOSO_SECRET", "tenant": "contoso", "periods": "D7"},
        {"name": "fabrikam", "graph_tenant_id": GRAPH_TENANT, "client_id": CLIENT_ID,
         "client_secret": "env:CONTOSO_SECRET", "tenant": "fabrikam", "periods": "D7",
         "api_version": "beta"},
    ]});
    std::fs::write(&file, sources.to_string()).unwrap();
    let env = vec![
        ("COLLECT_SOURCES".to_owned(), file.display().to_string()),
        ("CONTOSO_SECRET".to_owned(), CLIENT_SECRET.to_owned()),
        ("GRAPH_BASE_URL".to_owned(), graph.url.clone()),
        ("GRAPH_LOGIN_URL".to_owned(), graph.url.clone()),
    ];
    let run = run(&database, &["collect"], env).await;
    run.assert_discreet();
    assert!(run.success, "{}", run.stderr);
    assert!(
        run.stderr.contains("contoso D7 -> tenant 'contoso': 1 new"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("fabrikam D7 -> tenant 'fabrikam': 1 new"),
        "{}",
        run.stderr
    );
    let store = open(&database).await;
    for name in ["contoso", "fabrikam"] {
        assert!(store
            .latest_row(&tenant(name), ReportPeriod::D7)
            .await
            .unwrap()
            .is_some());
    }
    store.close().await;
}

async fn an_unreachable_graph_says_so(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let graph = FakeGraph::start().await;
    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let nowhere = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let run = collect(
        &database,
        &graph,
        &[("COLLECT_PERIODS", "D7"), ("GRAPH_BASE_URL", &nowhere)],
    )
    .await;
    assert_failed(&run, "Graph unreachable");
    assert_eq!(database.row_count().await, 0);
}
