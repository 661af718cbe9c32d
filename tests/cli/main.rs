//! The real binary as a user runs it: a working directory of its own, the
//! database named by DATABASE_URL, secrets on stdout only when asked for.
// A test fails by panicking: unwrap and expect say where.
#![allow(clippy::unwrap_used, clippy::expect_used)]

// Each target uses a part of the shared helpers.
#[allow(dead_code)]
#[macro_use]
#[path = "../common/mod.rs"]
mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::fixtures::valid_row;
use common::{Backend, TestDatabase};

const BIN: &str = env!("CARGO_BIN_EXE_teams-usage-store");
const COLLECTION: &str = "/v1.0/reports/teamsDeviceUsageDistributionUserCounts";

mod backup;
mod bootstrap;
mod configuration;
mod database;
mod log_secrets;
mod logs;
mod readme;
mod serve;
mod tenants;
mod tokens;

/// A working directory and a database for the binary.
pub struct Sandbox {
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
        "LOG_FORMAT",
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
    /// Its working directory.
    dir: PathBuf,
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
            dir: command.get_current_dir().unwrap().to_owned(),
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

    /// The bootstrap secret, if this start issued one, as an operator gets
    /// it when stderr is not a terminal: from the file the log names. The
    /// secret is never in the log itself.
    fn bootstrap_token(&self) -> Option<String> {
        let log = self.stderr();
        let file = bootstrap_file(&log)?;
        let secret = std::fs::read_to_string(self.dir.join(&file)).unwrap();
        let secret = secret.trim_end().to_owned();
        assert!(secret.starts_with("tus_"), "{}: {secret:?}", file.display());
        assert!(!log.contains(&secret), "the secret is in the log:\n{log}");
        Some(secret)
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

/// The file the log says holds the bootstrap secret (`path` of its line,
/// as text or as JSON).
fn bootstrap_file(log: &str) -> Option<PathBuf> {
    let line = log
        .lines()
        .find(|line| line.contains("first start on an empty database"))?;
    let path = if line.starts_with('{') {
        let line: serde_json::Value = serde_json::from_str(line).unwrap();
        line["path"].as_str().unwrap().to_owned()
    } else {
        let (_, after) = line.split_once(" path=").unwrap();
        after.split_whitespace().next().unwrap().to_owned()
    };
    Some(PathBuf::from(path))
}

fn find_secret(text: &str) -> Option<String> {
    text.split_whitespace()
        .find(|word| word.starts_with("tus_"))
        .map(str::to_owned)
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
