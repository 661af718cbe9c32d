//! The real binary as a user runs it: a working directory of its own, the
//! database named by DATABASE_URL, secrets on stdout only when asked for.

#[allow(dead_code)]
mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use common::{Backend, TestDatabase};

const BIN: &str = env!("CARGO_BIN_EXE_teams-usage-store");
const COLLECTION: &str = "/v1.0/reports/teamsDeviceUsageDistributionUserCounts";

/// Generates one test per backend for each `async fn name(backend: Backend)`.
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::Backend::Sqlite).await }
            )*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::Backend::Postgres).await }
            )*
        }
    };
}

backend_tests!(
    token_create_prints_the_token_alone,
    token_list_never_prints_a_secret,
    token_revoke_stops_a_token,
    the_first_serve_prints_a_bootstrap_token_and_no_later_one,
    migrate_applies_the_schema,
    a_201_survives_the_process_being_killed
);

/// A working directory and a database for the binary.
struct Sandbox {
    dir: tempfile::TempDir,
    database: TestDatabase,
}

impl Sandbox {
    async fn new(backend: Backend) -> Option<Self> {
        Some(Self {
            dir: tempfile::tempdir().unwrap(),
            database: TestDatabase::create(backend).await?,
        })
    }

    fn command(&self, args: &[&str]) -> Command {
        command_in(self.dir.path(), args, self.database.url.expose())
    }

    /// Runs a command that must succeed; its stdout and stderr.
    fn run(&self, args: &[&str]) -> (String, String) {
        let output = finish(self.command(args));
        let (stdout, stderr) = text(&output);
        assert!(output.status.success(), "{args:?} failed: {stderr}");
        (stdout, stderr)
    }

    fn create_token(&self, tenant: &str, name: &str, scope: &str) -> String {
        let (stdout, stderr) = self.run(&[
            "token", "create", "--tenant", tenant, "--name", name, "--scope", scope,
        ]);
        assert!(!stderr.contains(stdout.trim()), "the secret went to stderr");
        stdout.trim().to_owned()
    }

    fn serve(&self) -> Server {
        Server::start(self.command(&["serve"]))
    }
}

/// The binary with a clean environment of the variables it reads.
fn command_in(dir: &Path, args: &[&str], database_url: &str) -> Command {
    let mut command = Command::new(BIN);
    command.current_dir(dir).args(args);
    for name in [
        "HOST",
        "PORT",
        "BODY_LIMIT_BYTES",
        "BATCH_BODY_LIMIT_BYTES",
        "RATE_LIMIT_PER_SECOND",
        "RATE_LIMIT_BURST",
        "METRICS_TOKEN",
    ] {
        command.env_remove(name);
    }
    command
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    command
}

/// Runs `command` to its end, failing the test if it takes more than 20 s.
fn finish(mut command: Command) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("{command:?} did not finish within 20 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8(output.stdout.clone()).unwrap(),
        String::from_utf8(output.stderr.clone()).unwrap(),
    )
}

/// `serve` running on a free port, its stderr collected as it comes.
struct Server {
    child: Child,
    base: String,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    fn start(mut command: Command) -> Self {
        // Ask the OS for a free port, then hand it to the server.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = command
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        let pipe = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut all = sink.lock().unwrap();
                all.push_str(&line);
                all.push('\n');
            }
        });
        let server = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            stderr,
        };
        // `listening` is logged once the bootstrap decision is made and printed.
        server.wait_for(|log| log.contains("listening"));
        server
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    fn wait_for(&self, ready: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !ready(&self.stderr()) {
            assert!(Instant::now() < deadline, "serve: {}", self.stderr());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The bootstrap secret printed on stderr, if any.
    fn bootstrap_token(&self) -> Option<String> {
        find_secret(&self.stderr())
    }

    /// SIGKILL: no shutdown, no flush, nothing the process can do.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_secret(text: &str) -> Option<String> {
    text.split_whitespace()
        .find(|word| word.starts_with("tus_"))
        .map(str::to_owned)
}

fn valid_row() -> Value {
    json!({
        "reportRefreshDate": "2026-11-01",
        "web": 3, "windowsPhone": 12, "androidPhone": 12,
        "ios": 3, "mac": 3, "windows": 7,
        "reportPeriod": "7"
    })
}

async fn get(server: &Server, token: &str, path: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn post_row(server: &Server, token: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(server.url(COLLECTION))
        .bearer_auth(token)
        .json(&valid_row())
        .send()
        .await
        .unwrap()
}

async fn token_create_prints_the_token_alone(backend: Backend) {
    let Some(sandbox) = Sandbox::new(backend).await else {
        return;
    };
    let output = finish(sandbox.command(&[
        "token",
        "create",
        "--tenant",
        "contoso",
        "--name",
        "nightly collector",
        "--scope",
        "Reports.ReadWrite.All",
        "--expires-in",
        "90d",
    ]));
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    // Exactly one line, the secret, so `TOKEN=$(... token create ...)` works.
    assert_eq!(stdout.lines().count(), 1, "{stdout:?}");
    let secret = stdout.trim_end_matches('\n');
    assert!(
        secret.starts_with("tus_") && !secret.contains(' '),
        "{secret:?}"
    );
    assert!(!stderr.contains(secret));
    assert!(stderr.contains("contoso"), "{stderr}");

    let server = sandbox.serve();
    let created = post_row(&server, secret).await;
    assert_eq!(created.status().as_u16(), 201);
    // The row is the token's tenant's, not the bootstrap token's.
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let bootstrap = server.bootstrap_token().expect("a bootstrap token");
    let path = format!("{COLLECTION}/{id}");
    assert_eq!(get(&server, &bootstrap, &path).await.status().as_u16(), 404);
    assert_eq!(get(&server, secret, &path).await.status().as_u16(), 200);

    // Bad arguments: non-zero, nothing on stdout.
    for args in [
        &[
            "token",
            "create",
            "--tenant",
            "a b",
            "--name",
            "n",
            "--scope",
            "Reports.Read.All",
        ][..],
        &[
            "token",
            "create",
            "--tenant",
            "t",
            "--name",
            "n",
            "--scope",
            "User.Read",
        ],
        &["token", "create", "--tenant", "t", "--name", "n"],
        &[
            "token",
            "create",
            "--tenant",
            "t",
            "--name",
            "n",
            "--scope",
            "Reports.Read.All",
            "--expires-in",
            "soon",
        ],
    ] {
        let output = finish(sandbox.command(args));
        assert!(!output.status.success(), "{args:?}");
        assert!(output.stdout.is_empty(), "{args:?}");
    }
}

async fn token_list_never_prints_a_secret(backend: Backend) {
    let Some(sandbox) = Sandbox::new(backend).await else {
        return;
    };
    let server = sandbox.serve();
    let bootstrap = server.bootstrap_token().expect("a bootstrap token");
    let reader = sandbox.create_token("contoso", "dashboard", "Reports.Read.All");
    let writer = sandbox.create_token("fabrikam", "collector", "Reports.ReadWrite.All");
    let (stdout, stderr) = sandbox.run(&["token", "list"]);
    let listing = format!("{stdout}{stderr}");
    for secret in [&bootstrap, &reader, &writer] {
        assert!(!listing.contains(secret.as_str()), "{listing}");
        assert!(!listing.contains(&secret[4..]), "{listing}");
    }
    assert!(!listing.contains("tus_"), "{listing}");
    for name in ["bootstrap", "dashboard", "collector", "contoso", "fabrikam"] {
        assert!(stdout.contains(name), "{name} in {stdout}");
    }
    // One header and a line per token.
    assert_eq!(stdout.lines().count(), 4, "{stdout}");
    let (stdout, _) = sandbox.run(&["token", "list", "--tenant", "contoso"]);
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    assert!(stdout.contains("dashboard") && !stdout.contains("collector"));
}

/// The id `token list` shows for the token named `name`.
fn token_id(sandbox: &Sandbox, name: &str) -> String {
    let (stdout, _) = sandbox.run(&["token", "list"]);
    let line = stdout
        .lines()
        .find(|line| line.split('\t').nth(2) == Some(name))
        .unwrap_or_else(|| panic!("{name} in {stdout}"));
    line.split('\t').next().unwrap().to_owned()
}

async fn token_revoke_stops_a_token(backend: Backend) {
    let Some(sandbox) = Sandbox::new(backend).await else {
        return;
    };
    let server = sandbox.serve();
    let token = sandbox.create_token("contoso", "laptop", "Reports.ReadWrite.All");
    assert_eq!(
        get(&server, &token, COLLECTION).await.status().as_u16(),
        200
    );
    let id = token_id(&sandbox, "laptop");
    let (stdout, _) = sandbox.run(&["token", "revoke", &id]);
    assert!(stdout.is_empty(), "{stdout}");
    // A running server honours it (within its token cache's lifetime).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status = get(&server, &token, COLLECTION).await.status().as_u16();
        if status == 401 {
            break;
        }
        assert_eq!(status, 200);
        assert!(Instant::now() < deadline, "still accepted after revocation");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (stdout, _) = sandbox.run(&["token", "list"]);
    assert!(stdout.contains("revoked"), "{stdout}");
    // Revoking again, or an id that names nothing, is an error.
    for args in [
        vec!["token", "revoke", id.as_str()],
        vec!["token", "revoke", "0192f4a6-3f6e-7cc1-b3a5-3d6b0c1e2f40"],
        vec!["token", "revoke", "not-an-id"],
    ] {
        let output = finish(sandbox.command(&args));
        assert!(!output.status.success(), "{args:?}");
    }
}

async fn the_first_serve_prints_a_bootstrap_token_and_no_later_one(backend: Backend) {
    let Some(sandbox) = Sandbox::new(backend).await else {
        return;
    };
    let first = sandbox.serve();
    let token = first.bootstrap_token().expect("a bootstrap token");
    assert_eq!(post_row(&first, &token).await.status().as_u16(), 201);
    first.kill();

    let second = sandbox.serve();
    assert_eq!(second.bootstrap_token(), None, "{}", second.stderr());
    // The first one still works, and the row is there.
    let list: Value = get(&second, &token, COLLECTION).await.json().await.unwrap();
    assert_eq!(list["value"].as_array().unwrap().len(), 1);
    let (stdout, _) = sandbox.run(&["token", "list"]);
    assert_eq!(stdout.lines().count(), 2, "one token: {stdout}");
}

async fn migrate_applies_the_schema(backend: Backend) {
    let Some(sandbox) = Sandbox::new(backend).await else {
        return;
    };
    for _ in 0..2 {
        let (stdout, stderr) = sandbox.run(&["migrate"]);
        assert!(stdout.is_empty(), "{stdout}");
        assert!(stderr.contains("migrations applied"), "{stderr}");
    }
    assert_eq!(sandbox.database.row_count().await, 0);
    // Migrating issues no token.
    let (stdout, _) = sandbox.run(&["token", "list"]);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
}

/// A 201 means durable: SIGKILL right after it loses nothing.
async fn a_201_survives_the_process_being_killed(backend: Backend) {
    let Some(sandbox) = Sandbox::new(backend).await else {
        return;
    };
    let server = sandbox.serve();
    let token = server.bootstrap_token().expect("a bootstrap token");
    let response = post_row(&server, &token).await;
    assert_eq!(response.status().as_u16(), 201);
    server.kill();
    let created: Value = response.json().await.unwrap();

    let server = sandbox.serve();
    let path = format!("{COLLECTION}/{}", created["id"].as_str().unwrap());
    let response = get(&server, &token, &path).await;
    assert_eq!(response.status().as_u16(), 200);
    let mut fetched: Value = response.json().await.unwrap();
    // The new process listens on another port; the row is the same.
    fetched["@odata.context"] = created["@odata.context"].clone();
    assert_eq!(fetched, created);
}

/// Runs the binary in `dir` with `env` set on top of a working SQLite configuration.
fn run_configured(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (Output, Duration) {
    let url = format!("sqlite://{}", dir.join("ok.db").display());
    let mut command = command_in(dir, args, &url);
    for (name, value) in env {
        command.env(name, value);
    }
    let started = Instant::now();
    let output = finish(command);
    (output, started.elapsed())
}

#[test]
fn bad_configuration_is_one_line_and_a_failure_exit() {
    let unreachable = "postgres://postgres@127.0.0.1:1/x";
    let cases: [(&[(&str, &str)], &str); 5] = [
        (&[("DATABASE_URL", "mysql://x")], "DATABASE_URL"),
        (&[("DATABASE_URL", unreachable)], "database"),
        (&[("PORT", "http")], "PORT"),
        (&[("PORT", "70000")], "PORT"),
        (&[("HOST", "no.such.host.invalid")], "listen"),
    ];
    for (env, names) in cases {
        for args in [&[][..], &["serve"], &["migrate"], &["token", "list"]] {
            // HOST matters only to serve.
            if env[0].0 == "HOST" && !(args.is_empty() || args == ["serve"]) {
                continue;
            }
            let dir = tempfile::tempdir().unwrap();
            let (output, took) = run_configured(dir.path(), args, env);
            let (stdout, stderr) = text(&output);
            let what = format!("{env:?} {args:?}");
            assert!(!output.status.success(), "{what}");
            assert!(took < Duration::from_secs(15), "{what} took {took:?}");
            assert_eq!(stderr.lines().count(), 1, "{what}: {stderr}");
            assert!(stderr.starts_with("error: "), "{what}: {stderr}");
            assert!(stderr.contains(names), "{what}: {stderr}");
            assert!(!stderr.contains("panicked"), "{what}: {stderr}");
            assert!(stdout.is_empty(), "{what}: {stdout}");
        }
    }
}

#[test]
fn a_port_in_use_fails_the_start_without_using_up_the_bootstrap_token() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let env = [("HOST", "127.0.0.1"), ("PORT", port.as_str())];
    let (output, _) = run_configured(dir.path(), &["serve"], &env);
    let (_, stderr) = text(&output);
    assert!(!output.status.success());
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains(&port), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(find_secret(&stderr), None);
    // The start that failed printed no token, so the next one still must.
    let url = format!("sqlite://{}", dir.path().join("ok.db").display());
    let server = Server::start(command_in(dir.path(), &["serve"], &url));
    assert!(server.bootstrap_token().is_some(), "{}", server.stderr());
}

#[test]
fn configuration_comes_from_dot_env_and_the_environment_wins() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        "DATABASE_URL=mysql://from-dot-env\n",
    )
    .unwrap();
    let mut command = command_in(dir.path(), &["migrate"], "unused");
    command.env_remove("DATABASE_URL");
    let output = finish(command);
    let (_, stderr) = text(&output);
    assert!(!output.status.success());
    assert!(stderr.contains("from-dot-env"), "{stderr}");
    // A variable set in the environment is not overridden by .env.
    let url = format!("sqlite://{}", dir.path().join("env.db").display());
    let output = finish(command_in(dir.path(), &["migrate"], &url));
    assert!(output.status.success(), "{}", text(&output).1);
    assert!(dir.path().join("env.db").exists());
}

#[test]
fn the_default_database_is_a_sqlite_file_under_data() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = command_in(dir.path(), &["migrate"], "unused");
    command.env_remove("DATABASE_URL");
    let output = finish(command);
    assert!(output.status.success(), "{}", text(&output).1);
    assert!(dir.path().join("data/teams-usage-store.db").exists());
}
