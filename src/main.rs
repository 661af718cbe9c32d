use std::process::ExitCode;

use clap::Parser;
use teams_usage_store::{cli, config::Settings, telemetry};

fn main() -> ExitCode {
    // .env is read before the runtime starts, so every thread sees one environment.
    let _ = dotenvy::dotenv();
    let cli = cli::Cli::parse();
    telemetry::init_logging();
    let outcome = Settings::from_env()
        .map_err(anyhow::Error::msg)
        .and_then(|settings| {
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(cli::run(cli, settings))
        });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line: the reason and its causes, without a backtrace.
            let reason = format!("{error:#}").replace('\n', " ");
            eprintln!("error: {reason}");
            ExitCode::FAILURE
        }
    }
}
