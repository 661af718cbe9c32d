//! The command line: serve | migrate | import | token create|list|revoke.
//! Secrets and data go to stdout; everything meant for people goes to stderr.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{Duration, Utc};
use clap::{Parser, Subcommand};
use uuid::Uuid;

use crate::auth::{issue_token, Scopes};
use crate::config::Settings;
use crate::domain::TenantId;
use crate::import::import_file;
use crate::startup::{open_store, Application};

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
    },
    /// Manage bearer tokens.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it, alone, on stdout.
    Create {
        /// The tenant whose rows the token reads and writes.
        #[arg(long)]
        tenant: String,
        /// A name to recognise the token by in `token list`.
        #[arg(long)]
        name: String,
        /// Reports.Read.All or Reports.ReadWrite.All (repeat for several).
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        /// Lifetime such as 90d, 12h or 30m; without it the token does not expire.
        #[arg(long, value_parser = parse_lifetime)]
        expires_in: Option<Duration>,
    },
    /// List tokens (never their secrets).
    List {
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Revoke a token by its id.
    Revoke { id: Uuid },
}

/// `90d`, `12h`, `30m`, `45s`.
fn parse_lifetime(text: &str) -> Result<Duration, String> {
    let (digits, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: i64 = digits
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("expected a lifetime such as 90d, 12h or 30m, got {text:?}"))?;
    let lifetime = match unit {
        "d" => Duration::try_days(n),
        "h" => Duration::try_hours(n),
        "m" => Duration::try_minutes(n),
        "s" => Duration::try_seconds(n),
        _ => None,
    };
    lifetime.ok_or_else(|| format!("expected a lifetime such as 90d, 12h or 30m, got {text:?}"))
}

pub async fn run(cli: Cli, settings: Settings) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings).await,
        Command::Migrate => {
            open_store(&settings).await?.close().await;
            eprintln!("migrations applied to {}", settings.database_url);
            Ok(())
        }
        Command::Token(command) => token(command, settings).await,
        Command::Import { file, tenant } => import(&file, &tenant, settings).await,
    }
}

async fn import(file: &Path, tenant: &str, settings: Settings) -> anyhow::Result<()> {
    let tenant = TenantId::parse(tenant).map_err(|e| anyhow::anyhow!("--tenant: {e}"))?;
    let store = open_store(&settings).await?;
    let result = import_file(store.as_ref(), file, tenant.clone()).await;
    store.close().await;
    let summary = result?;
    eprintln!(
        "imported {} into tenant '{tenant}': rows created: {}, already stored: {}{}",
        file.display(),
        summary.created,
        summary.already_stored,
        match summary.duplicate_lines {
            0 => String::new(),
            n => format!(", repeated lines skipped: {n}"),
        }
    );
    Ok(())
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let (host, backend) = (settings.host.clone(), settings.database_url.backend());
    let app = Application::build(settings).await?;
    if let Some(secret) = app.bootstrap_token() {
        eprintln!(
            "\nFirst start on an empty database: created a Reports.ReadWrite.All token for tenant 'default'.\n\
             It is shown this once; keep it safe (revoke it with `token revoke`):\n\n    {secret}\n"
        );
    }
    tracing::info!(%host, port = app.port(), backend, "listening");
    app.run_until_stopped()
        .await
        .context("the server stopped with an error")
}

async fn token(command: TokenCommand, settings: Settings) -> anyhow::Result<()> {
    let store = open_store(&settings).await?;
    let result = async {
        match command {
            TokenCommand::Create {
                tenant,
                name,
                scopes,
                expires_in,
            } => {
                let tenant =
                    TenantId::parse(&tenant).map_err(|e| anyhow::anyhow!("--tenant: {e}"))?;
                let scopes = Scopes::parse(&scopes.join(" "))
                    .map_err(|e| anyhow::anyhow!("--scope: {e}"))?;
                let now = Utc::now();
                let issued = issue_token(tenant, name, scopes, expires_in.map(|d| now + d), now);
                store.insert_token(&issued.stored).await?;
                println!("{}", issued.secret);
                eprintln!(
                    "created token {} for tenant '{}' ({}); it is shown this once",
                    issued.stored.id, issued.stored.tenant_id, issued.stored.scopes
                );
            }
            TokenCommand::List { tenant } => {
                let tenant = tenant
                    .map(|t| TenantId::parse(&t).map_err(|e| anyhow::anyhow!("--tenant: {e}")))
                    .transpose()?;
                let tokens = store.list_tokens(tenant.as_ref()).await?;
                let mut out = std::io::stdout().lock();
                writeln!(out, "id\ttenant\tname\tscopes\tcreated\texpires\tstatus")?;
                let now = Utc::now();
                for t in tokens {
                    let status = match t.check_usable(now) {
                        Ok(()) => "active",
                        Err(crate::auth::TokenRejection::Expired) => "expired",
                        Err(crate::auth::TokenRejection::Revoked) => "revoked",
                    };
                    let time =
                        |t: chrono::DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{}\t{}\t{}\t{status}",
                        t.id,
                        t.tenant_id,
                        t.name,
                        t.scopes,
                        time(t.created_at),
                        t.expires_at.map(time).unwrap_or_else(|| "never".into())
                    )?;
                }
            }
            TokenCommand::Revoke { id } => {
                if !store.revoke_token(id, Utc::now()).await? {
                    anyhow::bail!("no active token with id {id}");
                }
                eprintln!("revoked token {id}");
            }
        }
        Ok(())
    }
    .await;
    store.close().await;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_take_a_unit() {
        assert_eq!(parse_lifetime("90d"), Ok(Duration::days(90)));
        assert_eq!(parse_lifetime("12h"), Ok(Duration::hours(12)));
        assert_eq!(parse_lifetime("30m"), Ok(Duration::minutes(30)));
        for bad in ["", "90", "d", "0d", "-1d", "1w", "1.5d"] {
            assert!(parse_lifetime(bad).is_err(), "{bad}");
        }
    }
}
