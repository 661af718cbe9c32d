//! The deployment files checked by the tools that read them: hadolint on the
//! Dockerfile, docker-compose on compose.yaml, systemd-analyze on the unit.
//! A missing tool fails the test in CI (`.ci/run` installs them all) and is
//! skipped loudly elsewhere.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repository() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(name: &str) -> String {
    std::fs::read_to_string(repository().join(name)).unwrap()
}

/// The first of `candidates` that runs, or None (a failure in CI).
fn tool(name: &str, candidates: &[PathBuf]) -> Option<PathBuf> {
    let found = candidates
        .iter()
        .cloned()
        .chain([PathBuf::from(name)])
        .find(|path| Command::new(path).arg("--version").output().is_ok());
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{name} is not installed; .ci/run installs it"
        );
        eprintln!("\n!!! SKIPPED: {name} is not installed, so this check did not run (bash .ci/run installs it)\n");
    }
    found
}

fn succeeded(output: &Output) -> bool {
    if !output.status.success() {
        eprintln!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    output.status.success()
}

#[test]
fn hadolint_accepts_the_dockerfile() {
    let venv = |dir: &Path| dir.join("hadolint-venv/bin/hadolint");
    let mut candidates: Vec<PathBuf> = std::env::var_os("HADOLINT")
        .map(PathBuf::from)
        .into_iter()
        .collect();
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        candidates.push(venv(Path::new(&dir)));
    }
    candidates.push(venv(&repository().join("target")));
    let Some(hadolint) = tool("hadolint", &candidates) else {
        return;
    };
    let output = Command::new(hadolint)
        .current_dir(repository())
        .args(["--no-color", "Dockerfile"])
        .output()
        .unwrap();
    assert!(
        succeeded(&output),
        "hadolint found problems in the Dockerfile"
    );
}

#[test]
fn the_dockerfile_prepares_the_data_folder_before_its_volume() {
    let dockerfile = read("Dockerfile");
    let position = |text: &str| dockerfile.find(text).unwrap_or_else(|| panic!("{text}"));
    assert!(position("mkdir -p /var/lib/teams-usage-store/data") < position("VOLUME"));
    assert!(position("chown -R 10001:10001") < position("VOLUME"));
    assert!(position("USER 10001") < position("VOLUME"));
    // Dependencies are built before the sources are copied, so they are cached.
    assert!(position("cargo build") < position("COPY src"));
    assert!(dockerfile.contains("HEALTHCHECK"));
}

#[test]
fn docker_compose_accepts_the_compose_file() {
    let compose = read("compose.yaml");
    assert!(
        !compose.contains("PASSWORD:"),
        "secrets come from .env.compose"
    );
    assert_eq!(compose.matches("restart: unless-stopped").count(), 3);
    let Some(docker_compose) = tool("docker-compose", &[]) else {
        return;
    };
    // In a copy, with the example secrets as the real file.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        repository().join("compose.yaml"),
        dir.path().join("compose.yaml"),
    )
    .unwrap();
    std::fs::copy(
        repository().join(".env.compose.example"),
        dir.path().join(".env.compose"),
    )
    .unwrap();
    let output = Command::new(docker_compose)
        .current_dir(dir.path())
        .args(["-f", "compose.yaml", "config", "-q"])
        .output()
        .unwrap();
    assert!(succeeded(&output), "docker-compose refused compose.yaml");
}

#[test]
fn systemd_accepts_the_unit() {
    let Some(analyze) = tool("systemd-analyze", &[]) else {
        return;
    };
    // The unit names the installed binary and env file: point them at this build.
    let dir = tempfile::tempdir().unwrap();
    let unit = read("deploy/teams-usage-store.service")
        .replace(
            "/usr/local/bin/teams-usage-store",
            env!("CARGO_BIN_EXE_teams-usage-store"),
        )
        .replace("EnvironmentFile=/", "EnvironmentFile=-/");
    let path = dir.path().join("teams-usage-store.service");
    std::fs::write(&path, unit).unwrap();
    let output = Command::new(analyze)
        .arg("verify")
        .arg(&path)
        .output()
        .unwrap();
    assert!(succeeded(&output), "systemd-analyze verify failed");
    assert!(
        String::from_utf8_lossy(&output.stderr).trim().is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_license_file_is_the_one_cargo_toml_names() {
    assert!(read("Cargo.toml").contains("license = \"MIT\""));
    assert!(read("LICENSE").starts_with("MIT License"));
}

#[test]
fn promtool_accepts_the_alert_rules() {
    let Some(promtool) = tool("promtool", &[]) else {
        return;
    };
    let output = Command::new(promtool)
        .current_dir(repository())
        .args(["check", "rules", "deploy/prometheus/alerts.yaml"])
        .output()
        .unwrap();
    assert!(
        succeeded(&output),
        "promtool refused deploy/prometheus/alerts.yaml"
    );
}
