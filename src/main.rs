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
        .and_then(|_| Settings::from_env())
        .and_then(|settings| telemetry::init_logging(&settings.logging).map(|()| settings))
        .map_err(anyhow::Error::msg)
        .and_then(|settings| {
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(cli::run(cli, settings))
        });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", cli::one_line(&error));
            ExitCode::FAILURE
        }
    }
}
