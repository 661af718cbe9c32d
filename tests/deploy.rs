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

/// The lines of `service`'s block in compose YAML (its own or as
/// `docker-compose config` prints it): those below `  service:` indented
/// deeper, up to the first that is not.
fn service_block(compose: &str, service: &str) -> String {
    let header = format!("  {service}:");
    let block: Vec<&str> = compose
        .lines()
        .skip_while(|line| *line != "services:")
        .skip_while(|line| *line != header)
        .skip(1)
        .take_while(|line| line.starts_with("    "))
        .collect();
    assert!(!block.is_empty(), "no service {service} in\n{compose}");
    block.join("\n")
}

/// What compose.yaml hands the app and the database, said in the file itself.
fn assert_each_service_gets_what_it_needs(compose: &str) {
    let app = service_block(compose, "app");
    let db = service_block(compose, "db");
    assert!(!app.contains("POSTGRES_PASSWORD"), "{app}");
    assert!(
        app.contains("./deploy/collect:/run/collect:ro"),
        "the collector's sources are mounted read-only: {app}"
    );
    assert!(
        db.contains("POSTGRES_PASSWORD_FILE: /run/secrets/postgres_password"),
        "{db}"
    );
    assert!(compose.contains("file: ./deploy/secrets/postgres-password"));
}

#[test]
fn docker_compose_accepts_the_compose_file() {
    let compose = read("compose.yaml");
    assert!(
        !compose.contains("PASSWORD:"),
        "no password in compose.yaml: the database's is a secret file, the app's in .env.compose"
    );
    assert_eq!(compose.matches("restart: unless-stopped").count(), 3);
    assert_each_service_gets_what_it_needs(&compose);
    // The app's env_file: what it needs, not the database's password.
    let app_env = read(".env.compose.example");
    assert!(app_env.contains("\nDATABASE_URL=postgres://"), "{app_env}");
    assert!(!app_env.contains("POSTGRES_PASSWORD"), "{app_env}");
    assert!(app_env.contains("COLLECT_SOURCES=/run/collect/sources.json"));
    // Neither git nor the image's build context takes the secrets.
    for folder in ["deploy/secrets", "deploy/collect"] {
        let ignored = read(&format!("{folder}/.gitignore"));
        assert!(ignored.lines().any(|line| line == "*"), "{folder}");
        assert!(read(".dockerignore").lines().any(|line| line == folder));
    }
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
        .args(["-f", "compose.yaml", "config"])
        .output()
        .unwrap();
    assert!(succeeded(&output), "docker-compose refused compose.yaml");
    // As compose resolves it, env_file merged into each service's environment.
    let resolved = String::from_utf8(output.stdout).unwrap();
    let app = service_block(&resolved, "app");
    assert!(!app.contains("POSTGRES_PASSWORD"), "{app}");
    assert!(app.contains("DATABASE_URL: postgres://"), "{app}");
    assert!(app.contains("/deploy/collect:/run/collect:ro"), "{app}");
    let db = service_block(&resolved, "db");
    assert!(db.contains("source: postgres_password"), "{db}");
    assert!(!db.contains("DATABASE_URL"), "{db}");
}

/// deploy/collect/sources.example.json is a sources file the service accepts,
/// once the files its entries name exist.
#[test]
fn the_example_sources_file_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().display().to_string();
    let example = read("deploy/collect/sources.example.json");
    let named: Vec<&str> = example
        .split('"')
        .filter_map(|part| part.strip_prefix("file:/run/collect/"))
        .collect();
    assert_eq!(named.len(), 3, "{example}");
    for name in &named {
        std::fs::write(dir.path().join(name), "a value").unwrap();
    }
    let sources = dir.path().join("sources.json");
    std::fs::write(&sources, example.replace("/run/collect", &folder)).unwrap();
    let sources = sources.display().to_string();
    let settings = teams_usage_store::config::Settings::from_lookup(|name| {
        (name == "COLLECT_SOURCES").then(|| sources.clone())
    })
    .unwrap();
    let collect = settings.collect.expect("the sources are configured");
    let names: Vec<&str> = collect.sources.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["contoso", "fabrikam"]);
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

/// deploy/prometheus/alerts.test.yaml: the tenant alerts fire as they say.
#[test]
fn promtool_passes_the_alert_rule_tests() {
    let Some(promtool) = tool("promtool", &[]) else {
        return;
    };
    let output = Command::new(promtool)
        .current_dir(repository())
        .args(["test", "rules", "deploy/prometheus/alerts.test.yaml"])
        .output()
        .unwrap();
    assert!(
        succeeded(&output),
        "promtool's tests of deploy/prometheus/alerts.yaml failed"
    );
}
