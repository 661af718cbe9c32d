use std::process::ExitCode;

use clap::Parser;
use teams_usage_store::config::{self, Settings};
use teams_usage_store::{cli, telemetry};

/// mimalloc for Rust's allocations, and (its `override` feature) for the C
/// code's too: SQLite allocates every row it reads on its connection's worker
/// thread, and the HTTP worker that answers frees it. glibc's arenas handle
/// that hand-over poorly (docs/benchmarks.md, fifth round). `no_thp`: huge
/// pages would inflate the resident memory.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // .env is read before the runtime starts, so every thread sees one environment.
    let dot_env = config::load_dot_env();
    let cli = cli::Cli::parse();
    let outcome = dot_env
        .and_then(|_| telemetry::init_logging())
        .and_then(|()| Settings::from_env())
        .map_err(anyhow::Error::msg)
        .and_then(|settings| {
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(cli::run(cli, settings))
        });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", one_line(&error));
            ExitCode::FAILURE
        }
    }
}

/// The reason and its causes on one line, without a backtrace; a cause whose
/// text its wrapper already quotes (sqlx's database errors do) is left out.
fn one_line(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string().replace('\n', " ");
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn causes_are_said_once() {
        let error = anyhow::anyhow!("role \"x\" does not exist")
            .context("error returned from database: role \"x\" does not exist")
            .context("cannot open the database");
        assert_eq!(
            one_line(&error),
            "cannot open the database: error returned from database: role \"x\" does not exist"
        );
    }
}
