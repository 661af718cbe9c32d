//! What a hostile or broken upstream cannot do to the collector: make it read
//! a body past its limit, store or print an error of any length, or put a
//! secret it echoes into output, the stored runs or the status.

use teams_usage_store::collect::{ANSWER_LIMIT, MAX_ERROR_CHARS, REPORT_LIMIT};
use teams_usage_store::config::Settings;
use teams_usage_store::startup::Application;

use crate::common::{Backend, TestDatabase};
use crate::fake_graph::{FakeGraph, Lazy, Login, Reply, BETA_HEADER, CERTIFICATE, PRIVATE_KEY};
use crate::{assert_failed, assert_no_secret_in, collect, graph_env, open, run, Run};

backend_tests!(
    an_oversized_report_is_refused_without_reading_it,
    huge_error_bodies_and_login_answers_are_not_read_whole,
    a_huge_header_line_is_named_in_a_bounded_error,
    a_secret_echoed_by_the_login_endpoint_is_never_kept_or_shown,
    a_client_assertion_echoed_by_the_login_endpoint_is_never_kept_or_shown,
    a_token_echoed_by_graph_is_never_kept_or_shown,
);

/// What the hostile fake serves: 200 MB, far past every limit.
const HUGE: u64 = 200_000_000;

/// Beyond the limit, what the client may have let the fake hand out before
/// it stopped: socket buffers on both sides and a block or two in flight.
fn read_at_most(limit: usize) -> u64 {
    limit as u64 + (24 << 20)
}

/// The newest run's error of every source and period, from the store.
async fn stored_errors(database: &TestDatabase) -> Vec<String> {
    let store = open(database).await;
    let statuses = store.latest_collection_runs(None).await.unwrap();
    store.close().await;
    statuses
        .into_iter()
        .filter_map(|s| s.last_run.error)
        .collect()
}

/// `{base}/collection/status` as the tenant's first token reads it.
async fn status_route(database: &TestDatabase) -> String {
    let url = database.url.expose().to_owned();
    let settings = Settings::from_lookup(|name| match name {
        "DATABASE_URL" => Some(url.clone()),
        "PORT" => Some("0".into()),
        _ => None,
    })
    .unwrap();
    let app = Application::build(settings).await.unwrap();
    let address = format!("http://127.0.0.1:{}", app.port());
    let token = app.bootstrap_token().unwrap().to_owned();
    let handle = app.server_handle();
    tokio::spawn(app.run_until_stopped());
    let answer = reqwest::Client::new()
        .get(format!("{address}/v1.0/collection/status"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let body = answer.text().await.unwrap();
    handle.stop(true).await;
    body
}

/// Every place a run's error is kept or shown: the stored runs, `collect
/// --status` and the status route. Each error is bounded and none holds a
/// secret; returns the stored errors, then everything shown.
async fn assert_kept_and_shown_safely(
    database: &TestDatabase,
    failed: &Run,
) -> (Vec<String>, Vec<String>) {
    failed.assert_discreet();
    // Each error is logged once and printed twice at most (summary, `error:`).
    assert!(
        failed.stderr.len() < 8 * MAX_ERROR_CHARS * 3,
        "{} bytes of output",
        failed.stderr.len()
    );
    let errors = stored_errors(database).await;
    assert!(!errors.is_empty());
    for error in &errors {
        assert!(error.chars().count() <= MAX_ERROR_CHARS, "{error}");
        assert!(!error.contains(['\r', '\n']), "{error}");
        assert_no_secret_in(error);
    }
    let status = run(database, &["collect", "--status"], vec![]).await;
    assert!(status.success, "{}", status.stderr);
    status.assert_discreet();
    for line in status.stdout.lines() {
        assert!(line.chars().count() < MAX_ERROR_CHARS + 300, "{line}");
    }
    let route = status_route(database).await;
    assert_no_secret_in(&route);
    assert!(
        route.len() < 4 * MAX_ERROR_CHARS * errors.len() + 1000,
        "{route}"
    );
    let shown = vec![
        failed.stdout.clone(),
        failed.stderr.clone(),
        status.stdout,
        status.stderr,
        route,
    ];
    (errors, shown)
}

async fn an_oversized_report_is_refused_without_reading_it(backend: Backend) {
    for (sized, lazy) in [
        (true, Lazy::csv_lines(HUGE, true)),
        (false, Lazy::one_line(HUGE, false)),
    ] {
        let Some(database) = TestDatabase::create(backend).await else {
            return;
        };
        let graph = FakeGraph::start().await;
        // D7 through the download host, D30 as the report function's own answer.
        graph.state.lock().unwrap().download_body = Some(lazy.clone());
        graph.script("D30", vec![Reply::Lazy(200, lazy)]);
        let run = collect(&database, &graph, &[("COLLECT_PERIODS", "D7,D30")]).await;
        assert_failed(&run, "the report's download is larger than 4 MiB");
        assert!(
            run.stderr.contains(
                "D30 -> tenant 'default': failed: Graph's report answer is larger than 4 MiB"
            ),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr.contains("2 of 2 collections failed"),
            "{}",
            run.stderr
        );
        let served = graph.with(|s| s.served.clone());
        assert!(!served.finished(), "the client read a body to its end");
        assert!(
            served.bytes() <= 2 * read_at_most(REPORT_LIMIT),
            "the fake handed out {} bytes (sized: {sized})",
            served.bytes()
        );
        // Before the limit a 200 MB download took the process to 644 MB.
        if let Some(peak) = run.peak_rss_kib {
            assert!(peak < 100 * 1024, "peak RSS {peak} KiB (sized: {sized})");
        }
        assert_eq!(database.row_count().await, 0);
        let (errors, _) = assert_kept_and_shown_safely(&database, &run).await;
        assert_eq!(errors.len(), 2);
    }
}

async fn huge_error_bodies_and_login_answers_are_not_read_whole(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let graph = FakeGraph::start().await;
    graph.script("D7", vec![Reply::Lazy(400, Lazy::one_line(HUGE, false))]);
    let run = collect(&database, &graph, &[("COLLECT_PERIODS", "D7")]).await;
    assert_failed(
        &run,
        "Graph answered 400 Bad Request (an error body of more than 64 KiB, not read)",
    );
    let served = graph.with(|s| s.served.clone());
    assert!(!served.finished());
    assert!(
        served.bytes() <= read_at_most(ANSWER_LIMIT),
        "{}",
        served.bytes()
    );

    let graph = FakeGraph::start().await;
    graph.state.lock().unwrap().login = Login::Lazy(Lazy::one_line(HUGE, true));
    let run = collect(&database, &graph, &[]).await;
    assert_failed(
        &run,
        "bad credentials: Entra ID answered 200 OK with more than 64 KiB, the limit for a login answer",
    );
    // The source's other periods are not tried again.
    graph.with(|s| assert_eq!(s.token_requests, 1));
    let served = graph.with(|s| s.served.clone());
    assert!(!served.finished());
    assert!(
        served.bytes() <= read_at_most(ANSWER_LIMIT),
        "{}",
        served.bytes()
    );
    assert_kept_and_shown_safely(&database, &run).await;
}

async fn a_huge_header_line_is_named_in_a_bounded_error(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let graph = FakeGraph::start().await;
    // 3 MB of header (two 1.5 MB columns), under the report's limit: the CSV check reads it.
    let junk = format!("\u{1b}[2J{}", "Z".repeat(1_500_000));
    graph.set_csv(
        "D7",
        &format!("{junk},{BETA_HEADER},{junk}2\r\n2026-11-27,1\r\n"),
    );
    let run = collect(&database, &graph, &[("COLLECT_PERIODS", "D7")]).await;
    assert_failed(
        &run,
        "the report is not Graph's CSV: line 1: unknown column",
    );
    assert!(
        run.stderr.contains("(1500004 characters)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("(and 1 more problems)"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains('\u{1b}'));
    assert!(!run.stderr.contains(&"Z".repeat(100)));
    let (errors, _) = assert_kept_and_shown_safely(&database, &run).await;
    assert!(errors[0].contains("nothing was stored"), "{}", errors[0]);
    assert_eq!(database.row_count().await, 0);
}

async fn a_secret_echoed_by_the_login_endpoint_is_never_kept_or_shown(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let graph = FakeGraph::start().await;
    graph.state.lock().unwrap().login = Login::EchoForm;
    let run = collect(&database, &graph, &[("COLLECT_PERIODS", "D7")]).await;
    assert_failed(&run, "bad credentials: Entra ID answered 401 Unauthorized");
    // The reason is still there, the secret not.
    assert!(run.stderr.contains("AADSTS7000215"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("Invalid client secret provided: '[redacted]'. Form: client_id="),
        "{}",
        run.stderr
    );
    assert_kept_and_shown_safely(&database, &run).await;
}

async fn a_client_assertion_echoed_by_the_login_endpoint_is_never_kept_or_shown(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let graph = FakeGraph::start().await;
    graph.state.lock().unwrap().login = Login::EchoForm;
    let mut env: Vec<(String, String)> = graph_env(&graph)
        .into_iter()
        .filter(|(k, _)| k != "GRAPH_CLIENT_SECRET")
        .collect();
    env.extend([
        (
            "GRAPH_CLIENT_CERTIFICATE".to_owned(),
            CERTIFICATE.to_owned(),
        ),
        (
            "GRAPH_CLIENT_PRIVATE_KEY".to_owned(),
            PRIVATE_KEY.to_owned(),
        ),
        ("COLLECT_PERIODS".to_owned(), "D7".to_owned()),
    ]);
    let run = run(&database, &["collect"], env).await;
    assert_failed(&run, "AADSTS7000215");
    let assertion = graph.with(|s| s.assertions.clone()).pop().unwrap();
    // Its signature alone would do: no part of it may show.
    let signature = assertion.rsplit('.').next().unwrap().to_owned();
    let (errors, shown) = assert_kept_and_shown_safely(&database, &run).await;
    for text in errors.iter().chain(&shown) {
        assert!(!text.contains(&signature), "{text}");
    }
    assert!(
        run.stderr.contains("provided: '[redacted]'"),
        "{}",
        run.stderr
    );
}

async fn a_token_echoed_by_graph_is_never_kept_or_shown(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let graph = FakeGraph::start().await;
    // Not retried (400), and retried until the budget is spent (503).
    graph.script("D7", vec![Reply::EchoToken(400)]);
    graph.script("D30", vec![Reply::EchoToken(503); 4]);
    let run = collect(&database, &graph, &[("COLLECT_PERIODS", "D7,D30")]).await;
    assert_failed(
        &run,
        "Graph answered 400 Bad Request: InvalidAuthenticationToken",
    );
    assert!(
        run.stderr
            .contains("Header 'Bearer [redacted]' refused: the token [redacted]"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("D30 -> tenant 'default': failed: Graph answered 503"),
        "{}",
        run.stderr
    );
    let (errors, _) = assert_kept_and_shown_safely(&database, &run).await;
    assert_eq!(errors.len(), 2);
}
