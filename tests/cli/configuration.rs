//! Configuration: from the environment and `.env`; bad values are one line
//! on stderr and a failure exit, within seconds, never a panic.

use std::time::Duration;

use crate::{command_in, finish, run_configured, text};

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

#[test]
fn a_malformed_dot_env_stops_start_up_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".env"), "HOST=127.0.0.1\nPORT 28488\n").unwrap();
    for args in [&[][..], &["serve"], &["token", "list"]] {
        let (output, took) = run_configured(dir.path(), args, &[]);
        let (stdout, stderr) = text(&output);
        assert!(!output.status.success(), "{args:?}");
        assert!(took < Duration::from_secs(15));
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with("error: "), "{stderr}");
        assert!(stderr.contains(".env:2:"), "{stderr}");
        assert!(stderr.contains("PORT 28488"), "{stderr}");
        assert!(stdout.is_empty());
    }
}

#[test]
fn serve_help_lists_every_environment_variable() {
    let dir = tempfile::tempdir().unwrap();
    let (output, _) = run_configured(dir.path(), &["serve", "--help"], &[]);
    let (stdout, _) = text(&output);
    assert!(output.status.success());
    for variable in teams_usage_store::config::environment::variables() {
        assert!(
            stdout.contains(&variable.name),
            "{}: {stdout}",
            variable.name
        );
    }
}

#[test]
fn a_database_error_is_said_once() {
    let dir = tempfile::tempdir().unwrap();
    // A folder where the database file should be: SQLite cannot open it.
    let url = format!("sqlite://{}", dir.path().display());
    let (output, _) = run_configured(dir.path(), &["migrate"], &[("DATABASE_URL", &url)]);
    let (_, stderr) = text(&output);
    assert!(!output.status.success());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert_eq!(
        stderr.matches("unable to open database file").count(),
        1,
        "{stderr}"
    );
}
