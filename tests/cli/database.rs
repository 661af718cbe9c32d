//! Every command names the database it opened, on stderr, without its
//! password; a database this opening created is said to be new.

use crate::common::Backend;
use crate::{command_in, finish, text, Sandbox, Server};

backend_tests!(every_command_names_its_database_without_a_password);

/// The password in the URL the commands get: trust authentication ignores it.
const PASSWORD: &str = "hunter2-not-printed";

async fn every_command_names_its_database_without_a_password(backend: Backend) {
    let Some(sandbox) = Sandbox::new(backend).await else {
        return;
    };
    let (url, shown) = match backend {
        Backend::Sqlite => {
            // Relative to the working directory, as the default is: the full path is said too.
            let url = "sqlite://data/reports.db".to_owned();
            let full = std::path::absolute(sandbox.dir.path().join("data/reports.db")).unwrap();
            (url.clone(), format!("{url} ({})", full.display()))
        }
        Backend::Postgres => {
            let mut url = url::Url::parse(sandbox.database.url.expose()).unwrap();
            url.set_password(Some(PASSWORD)).unwrap();
            let mut redacted = url.clone();
            redacted.set_password(Some("REDACTED")).unwrap();
            (url.to_string(), redacted.to_string())
        }
    };
    let dir = sandbox.dir.path();
    let run = |args: &[&str]| -> (String, String) {
        let output = finish(command_in(dir, args, &url));
        let (stdout, stderr) = text(&output);
        assert!(output.status.success(), "{args:?}: {stderr}");
        assert!(
            !stdout.contains(PASSWORD) && !stderr.contains(PASSWORD),
            "{args:?}: {stdout}{stderr}"
        );
        (stdout, stderr)
    };
    // The one line naming the database (on Postgres, sqlx may log a notice before it).
    let first_line = |stderr: &str| {
        let lines: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("database: ") || l.starts_with("created a new database"))
            .collect();
        assert_eq!(lines.len(), 1, "{stderr}");
        lines[0].to_owned()
    };

    let (_, stderr) = run(&["migrate"]);
    assert_eq!(
        first_line(&stderr),
        format!("created a new database at {shown}")
    );
    let (_, stderr) = run(&["migrate"]);
    assert_eq!(first_line(&stderr), format!("database: {shown}"));

    let opened = format!("database: {shown}");
    let create = [
        "token",
        "create",
        "--tenant",
        "contoso",
        "--name",
        "collector",
        "--scope",
        "Reports.ReadWrite.All",
    ];
    let (secret, stderr) = run(&create);
    assert_eq!(first_line(&stderr), opened);
    assert!(!stderr.contains(secret.trim()), "{stderr}");
    let (_, stderr) = run(&["token", "list"]);
    assert_eq!(first_line(&stderr), opened);
    let (listing, _) = run(&["token", "list"]);
    let id = listing.lines().nth(1).unwrap().split('\t').next().unwrap();
    let (_, stderr) = run(&["token", "revoke", id]);
    assert_eq!(first_line(&stderr), opened);
    let csv = dir.join("export.csv");
    std::fs::write(
        &csv,
        "Report Refresh Date,Web,Windows Phone,Android Phone,iOS,Mac,Windows,Report Period\n\
         2026-11-01,3,12,12,3,3,7,7\n",
    )
    .unwrap();
    let (_, stderr) = run(&["import", csv.to_str().unwrap(), "--tenant", "contoso"]);
    assert_eq!(first_line(&stderr), opened);
    let (_, stderr) = run(&["collect", "--status"]);
    assert_eq!(first_line(&stderr), opened);
    match backend {
        Backend::Sqlite => {
            let copy = dir.join("copy.db");
            let (_, stderr) = run(&["backup", copy.to_str().unwrap()]);
            assert_eq!(first_line(&stderr), opened);
            assert!(copy.is_file());
        }
        Backend::Postgres => {
            // Nothing to open: it says what to use instead, without the password either.
            let output = finish(command_in(dir, &["backup", "copy.db"], &url));
            let (_, stderr) = text(&output);
            assert!(!output.status.success());
            assert!(!stderr.contains(PASSWORD), "{stderr}");
        }
    }
    // `serve`'s stderr is its log: the database is a log line.
    let server = Server::start(command_in(dir, &["serve"], &url));
    let log = server.stderr();
    assert!(!log.contains(PASSWORD), "{log}");
    let line = log
        .lines()
        .find(|line| line.contains("opened the database"))
        .unwrap_or_else(|| panic!("{log}"));
    let (named, _) = shown.split_once(" (").unwrap_or((&shown, ""));
    assert!(line.contains(&format!("database={named}")), "{line}");
}

/// A database that cannot be opened is named by the error, without its password.
#[test]
fn a_database_that_cannot_be_opened_is_named_without_its_password() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("postgres://postgres:{PASSWORD}@127.0.0.1:1/nowhere");
    let output = finish(command_in(dir.path(), &["token", "list"], &url));
    let (stdout, stderr) = text(&output);
    assert!(!output.status.success());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("postgres://postgres:REDACTED@127.0.0.1:1/nowhere"),
        "{stderr}"
    );
    assert!(!stderr.contains(PASSWORD) && stdout.is_empty(), "{stderr}");
}
