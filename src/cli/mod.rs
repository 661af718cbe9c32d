//! The command line: serve | migrate | import | collect | backup | token create|list|revoke |
//! tenant rename.
//! Terminal I/O lives here: secrets and data go to stdout; everything meant
//! for people goes to stderr.

mod backup;
mod bootstrap;
mod collect;
mod import;
mod tenant;
mod token;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::{DatabaseUrl, Settings};
use crate::startup::{self, Application};
use crate::storage::Store;
use tenant::TenantCommand;
use token::TokenCommand;

#[derive(Debug, Parser)]
#[command(
    name = "teams-usage-store",
    version,
    about = "Keeps the history of Microsoft Teams device-usage reports"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service (the default).
    #[command(after_help = crate::config::environment::help_text())]
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Load a Graph CSV export (8 or 10 columns, a BOM allowed) into one tenant:
    /// checked whole, then stored in one transaction, or not at all.
    Import {
        /// The CSV file, as Graph's report function writes it.
        file: PathBuf,
        /// The tenant the rows belong to.
        #[arg(long)]
        tenant: String,
        /// Create the tenant if it has neither a token nor rows yet; without
        /// it such a tenant is refused, so a misspelt name creates nothing.
        #[arg(long)]
        new_tenant: bool,
    },
    /// Pull the report from Microsoft Graph once for every configured source
    /// and period (docs/collect.md); non-zero when any failed.
    Collect {
        /// Print the recorded runs instead: the newest per source and period,
        /// and when each last succeeded.
        #[arg(long)]
        status: bool,
    },
    /// Manage bearer tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Name tenants for people (the operator's tenants list, the dashboard).
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Copy a SQLite database, consistent, while the service keeps running
    /// (SQLite's VACUUM INTO). On Postgres use pg_dump (docs/deployment.md).
    Backup {
        /// The file to write; it must not exist yet.
        dest: PathBuf,
    },
}

pub async fn run(cli: Cli, settings: Settings) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings).await,
        Command::Migrate => {
            open_store(&settings).await?.close().await;
            eprintln!("migrations applied");
            Ok(())
        }
        Command::Token(command) => token::run(command, settings).await,
        Command::Tenant(command) => tenant::run(command, settings).await,
        Command::Import {
            file,
            tenant,
            new_tenant,
        } => import::run(&file, &tenant, new_tenant, settings).await,
        Command::Collect { status } => collect::run(status, settings).await,
        Command::Backup { dest } => backup::run(&dest, &settings).await,
    }
}

/// Opens and migrates the database for a command, naming it on stderr (and
/// saying so when this opening created it).
async fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    let opened = startup::open_store(settings).await?;
    eprintln!("{}", database_line(&settings.database_url, opened.created));
    Ok(opened.store)
}

/// `database: URL`, or `created a new database at URL`.
fn database_line(url: &DatabaseUrl, created: bool) -> String {
    if created {
        format!("created a new database at {}", database_name(url))
    } else {
        format!("database: {}", database_name(url))
    }
}

/// The URL without its password, and the full path of a SQLite file that
/// the URL names relative to the working directory.
fn database_name(url: &DatabaseUrl) -> String {
    match relative_file(url) {
        Some(full) => format!("{url} ({full})"),
        None => url.to_string(),
    }
}

/// The full path of a SQLite file the URL names relative to the working directory.
fn relative_file(url: &DatabaseUrl) -> Option<String> {
    let file = url.sqlite_file().filter(|file| file.is_relative())?;
    let full = std::path::absolute(file).ok()?;
    Some(full.display().to_string())
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let (host, url) = (settings.host.clone(), settings.database_url.clone());
    let app = Application::build(settings).await?;
    // stderr is the log stream here: what other commands print, serve logs.
    let file = relative_file(&url);
    if app.created_database() {
        tracing::info!(database = %url, file, "created a new database");
    } else {
        tracing::info!(database = %url, file, "opened the database");
    }
    if let Some(secret) = app.bootstrap_token() {
        bootstrap::hand_over(secret, &url);
    }
    tracing::info!(%host, port = app.port(), backend = url.backend(), "listening");
    app.run_until_stopped()
        .await
        .context("the server stopped with an error")
}

/// The reason and its causes on one line, without a backtrace; a cause whose
/// text its wrapper already quotes (sqlx's database errors do) is left out.
pub fn one_line(error: &anyhow::Error) -> String {
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
