//! The bootstrap token never goes through the log: on a terminal it is shown
//! to the person watching, as the README's tour shows it; anywhere else (a
//! log shipper, journald, `docker logs`) the log names a file that only the
//! service's user can read, and the secret is in no log line.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::Backend;
use crate::{bootstrap_file, find_secret, get, Sandbox, Server, BIN, COLLECTION};

backend_tests!(
    with_json_logs_the_secret_is_in_a_file_and_in_no_log_line,
    on_a_terminal_the_secret_is_shown_and_no_file_is_written
);

async fn with_json_logs_the_secret_is_in_a_file_and_in_no_log_line(backend: Backend) {
    let Some(sandbox) = Sandbox::new(backend).await else {
        return;
    };
    let mut command = sandbox.command(&["serve"]);
    command.env("LOG_FORMAT", "json");
    let server = Server::start(command);
    let secret = server.bootstrap_token().expect("a bootstrap token");
    let answer = get(&server, &secret, COLLECTION).await;
    assert_eq!(answer.status().as_u16(), 200);
    // The access line of that request is written as its response ends.
    server.wait_for(|log| log.contains("latency_ms"));
    let log = server.stderr();
    let lines: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    assert!(!log.contains(&secret), "{log}");
    assert_eq!(find_secret(&log), None, "{log}");
    // The line that tells where the secret is: beside a SQLite database,
    // under ./data otherwise.
    let told: Vec<&Value> = lines
        .iter()
        .filter(|line| line["path"].as_str().is_some())
        .collect();
    assert_eq!(told.len(), 1, "{log}");
    assert_eq!(told[0]["level"], "WARN", "{log}");
    let file = bootstrap_file(&log).unwrap();
    let folder = match backend {
        Backend::Sqlite => sandbox
            .database
            .url
            .sqlite_file()
            .unwrap()
            .parent()
            .unwrap()
            .to_owned(),
        Backend::Postgres => std::path::absolute(sandbox.dir.path().join("data")).unwrap(),
    };
    assert_eq!(file, folder.join("bootstrap-token"), "{log}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{}", file.display());
    }
    // The database the service opened, as a log line too.
    assert!(
        lines
            .iter()
            .any(|line| line["message"] == "created a new database"
                && line["database"].as_str().is_some()),
        "{log}"
    );
    server.kill();

    // A later start issues no token and leaves the file alone.
    let mut command = sandbox.command(&["serve"]);
    command.env("LOG_FORMAT", "json");
    let again = Server::start(command);
    assert_eq!(again.bootstrap_token(), None, "{}", again.stderr());
    assert!(again.stderr().contains("opened the database"));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap().trim_end(),
        secret.as_str()
    );
}

/// `serve` under a pseudo-terminal (util-linux `script`), as `cargo run` in
/// a terminal runs it: the README's first-start text with the secret, no file.
async fn on_a_terminal_the_secret_is_shown_and_no_file_is_written(backend: Backend) {
    let Some(sandbox) = Sandbox::new(backend).await else {
        return;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut command = Command::new("script");
    command
        .args(["-qefc", &format!("exec '{BIN}' serve"), "/dev/null"])
        .current_dir(sandbox.dir.path())
        .env("DATABASE_URL", sandbox.database.url.expose())
        .env("HOST", "127.0.0.1")
        .env("PORT", port.to_string())
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .env_remove("LOG_FORMAT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = command.spawn().expect("util-linux script runs");
    let terminal = Arc::new(Mutex::new(String::new()));
    let sink = terminal.clone();
    let pipe = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            let mut all = sink.lock().unwrap();
            all.push_str(&line);
            all.push('\n');
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let shown = loop {
        let shown = terminal.lock().unwrap().clone();
        if shown.contains("listening") {
            break shown;
        }
        assert!(Instant::now() < deadline, "serve on a terminal: {shown}");
        std::thread::sleep(Duration::from_millis(20));
    };
    // SIGTERM: `script` stops the service it runs, then itself.
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();

    let secret = find_secret(&shown).expect("the secret on the terminal");
    // What the README's tour shows for the first start is what a terminal gets.
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let tour = readme
        .split("```text\n$ cargo run --release\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .expect("the README's first start");
    for line in tour.lines().filter(|l| !l.trim().is_empty()) {
        let line = line.trim();
        let expected = if line.starts_with("tus_") {
            secret.as_str()
        } else {
            line
        };
        assert!(
            shown.lines().any(|l| l.trim() == expected),
            "the README shows {line:?}; the terminal got:\n{shown}"
        );
    }
    // Nothing was written for a log reader to find.
    let folders = [
        sandbox.dir.path().join("data"),
        sandbox.dir.path().to_owned(),
    ]
    .into_iter()
    .chain(
        sandbox
            .database
            .url
            .sqlite_file()
            .and_then(|f| f.parent().map(|p| p.to_owned())),
    );
    for folder in folders {
        assert!(
            !folder.join("bootstrap-token").exists(),
            "{}",
            folder.display()
        );
    }
    // The secret shown works.
    let server = sandbox.serve();
    assert_eq!(server.bootstrap_token(), None);
    assert_eq!(
        get(&server, &secret, COLLECTION).await.status().as_u16(),
        200
    );
}
