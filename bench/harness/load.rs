//! One wrk run of bench/wrk/scenario.lua, and what it measured.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::Context;

/// What the load generator sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// `GET /health`: the HTTP layer alone, the ceiling.
    Health,
    /// Single-row POSTs, each a new natural key.
    NewRows,
    /// One tenant's page: `$filter` on date range and period, `$top=100`.
    FilteredPage,
    /// `getTeamsDeviceUsageDistributionUserCounts(period='D7')`.
    ReportFunction,
    /// The dashboard's chart: one tenant's whole seeded history for one period.
    DashboardChart,
    /// `GET` of `LoadRun::target` with the first token, again and again.
    Get,
}

impl Scenario {
    fn mode(self) -> &'static str {
        match self {
            Self::Health => "health",
            Self::NewRows => "post",
            Self::FilteredPage => "page",
            Self::ReportFunction => "report",
            Self::DashboardChart => "chart",
            Self::Get => "get",
        }
    }

    /// The status every request of the scenario should get.
    pub fn success(self) -> u16 {
        match self {
            Self::NewRows => 201,
            _ => 200,
        }
    }
}

/// Everything about one run.
pub struct LoadRun<'a> {
    pub script: &'a Path,
    pub base_url: &'a str,
    pub scenario: Scenario,
    pub concurrency: u32,
    pub duration: Duration,
    pub tokens: Option<&'a Path>,
    /// First key number (POST) so no two runs share a natural key.
    pub key_offset: u64,
    /// Unix seconds: newest refresh date the scenario uses.
    pub epoch: i64,
    /// `Get`: the path and query to ask for.
    pub target: Option<&'a str>,
}

/// What one run measured.
#[derive(Debug, Clone, Default)]
pub struct Measured {
    pub sent: u64,
    pub answered: u64,
    pub seconds: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub socket_errors: u64,
    pub statuses: BTreeMap<u16, u64>,
    /// Answers with the scenario's success status.
    pub succeeded: u64,
}

impl Measured {
    pub fn requests_per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            self.answered as f64 / self.seconds
        } else {
            0.0
        }
    }

    /// Answers without the success status, and socket errors. (A POST run also
    /// checks that every request sent was answered; a read run simply stops,
    /// and the reads in flight then are no errors.)
    pub fn errors(&self) -> u64 {
        self.answered.saturating_sub(self.succeeded) + self.socket_errors
    }
}

impl LoadRun<'_> {
    pub fn run(&self) -> anyhow::Result<Measured> {
        let threads = self.concurrency.min(2);
        // POST threads stop sending at `duration` and then wait for their answers.
        let wrk_duration = match self.scenario {
            Scenario::NewRows => self.duration + Duration::from_secs(2),
            _ => self.duration,
        };
        let path = match self.scenario {
            Scenario::Health => "/health",
            _ => "/",
        };
        let output = Command::new("wrk")
            .arg(format!("-t{threads}"))
            .arg(format!("-c{}", self.concurrency))
            .arg(format!("-d{}s", wrk_duration.as_secs()))
            .args(["--timeout", "30s", "-s"])
            .arg(self.script)
            .arg(format!("{}{path}", self.base_url))
            .arg("--")
            .arg(self.scenario.mode())
            .arg(self.duration.as_secs().to_string())
            .arg(threads.to_string())
            .arg(self.tokens.map_or("-".into(), |p| p.display().to_string()))
            .arg(self.key_offset.to_string())
            .arg(self.epoch.to_string())
            .arg(self.target.unwrap_or("-"))
            .output()
            .context("running wrk (install it: apt-get install wrk)")?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        anyhow::ensure!(
            output.status.success(),
            "wrk failed: {}{}",
            stdout,
            String::from_utf8_lossy(&output.stderr)
        );
        let line = stdout
            .lines()
            .find_map(|l| l.strip_prefix("BENCH "))
            .with_context(|| format!("no BENCH line in wrk's output:\n{stdout}"))?;
        let mut measured = parse(line)?;
        measured.succeeded = measured
            .statuses
            .get(&self.scenario.success())
            .copied()
            .unwrap_or(0);
        Ok(measured)
    }
}

fn parse(line: &str) -> anyhow::Result<Measured> {
    let mut m = Measured::default();
    for pair in line.split_whitespace() {
        let (key, value) = pair.split_once('=').context("key=value")?;
        let number = || {
            value
                .parse::<f64>()
                .with_context(|| format!("{key}={value}"))
        };
        match key {
            "sent" => m.sent = number()? as u64,
            "answered" => m.answered = number()? as u64,
            "seconds" => m.seconds = number()?,
            "p50_us" => m.p50_ms = number()? / 1000.0,
            "p90_us" => m.p90_ms = number()? / 1000.0,
            "p99_us" => m.p99_ms = number()? / 1000.0,
            "socket_errors" => m.socket_errors = number()? as u64,
            status => {
                let code = status
                    .strip_prefix("status_")
                    .and_then(|c| c.parse().ok())
                    .with_context(|| format!("unknown field {key}"))?;
                m.statuses.insert(code, number()? as u64);
            }
        }
    }
    Ok(m)
}
