//! `token create|list|revoke`: bearer tokens, managed from the terminal.

use std::io::Write;

use chrono::{Duration, Utc};
use clap::Subcommand;
use uuid::Uuid;

use crate::auth::{issue_token, Scopes, TokenReach};
use crate::config::Settings;
use crate::domain::TenantId;

use super::open_store;
use super::tenant::checked_name;

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
        /// An operator's token: it reads every tenant, naming the tenant of each
        /// request in the `tenant-id` header, and writes none but its own (--tenant),
        /// and that only with Reports.ReadWrite.All.
        #[arg(long)]
        all_tenants: bool,
        /// The name people know the tenant by, shown beside its id (as `tenant rename` sets it).
        #[arg(long)]
        tenant_name: Option<String>,
    },
    /// List tokens (never their secrets).
    List {
        /// Only this tenant's tokens (default: every tenant's).
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Revoke a token by its id: it stops working at once on this replica,
    /// within TOKEN_CACHE_SECONDS on the others.
    Revoke {
        /// The token's id, as `token list` shows it.
        id: Uuid,
    },
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

pub async fn run(command: TokenCommand, settings: Settings) -> anyhow::Result<()> {
    let store = open_store(&settings).await?;
    let result = async {
        match command {
            TokenCommand::Create {
                tenant,
                name,
                scopes,
                expires_in,
                all_tenants,
                tenant_name,
            } => {
                let tenant =
                    TenantId::parse(&tenant).map_err(|e| anyhow::anyhow!("--tenant: {e}"))?;
                let new_tenant = !store.tenant_exists(&tenant).await?;
                let scopes = Scopes::parse(&scopes.join(" "))
                    .map_err(|e| anyhow::anyhow!("--scope: {e}"))?;
                // Checked before the token exists, so a bad name creates nothing.
                let tenant_name = tenant_name
                    .as_deref()
                    .map(checked_name)
                    .transpose()
                    .map_err(|e| anyhow::anyhow!("--tenant-name: {e}"))?;
                let now = Utc::now();
                let reach = if all_tenants {
                    TokenReach::AllTenants
                } else {
                    TokenReach::Tenant
                };
                let issued = issue_token(tenant, name, scopes, expires_in.map(|d| now + d), now)
                    .reaching(reach);
                store.insert_token(&issued.stored).await?;
                if let Some(name) = tenant_name {
                    store
                        .set_tenant_name(&issued.stored.tenant_id, name)
                        .await?;
                }
                println!("{}", issued.secret);
                let reaches = match reach {
                    TokenReach::Tenant => String::new(),
                    TokenReach::AllTenants => {
                        ", reading every tenant (name one per request in the tenant-id header)"
                            .to_owned()
                    }
                };
                eprintln!(
                    "created token {} for tenant '{}' ({}{reaches}); it is shown this once",
                    issued.stored.id, issued.stored.tenant_id, issued.stored.scopes
                );
                if new_tenant {
                    eprintln!(
                        "tenant '{}' is new: this is its first token",
                        issued.stored.tenant_id
                    );
                }
            }
            TokenCommand::List { tenant } => {
                let tenant = tenant
                    .map(|t| TenantId::parse(&t).map_err(|e| anyhow::anyhow!("--tenant: {e}")))
                    .transpose()?;
                let tokens = store.list_tokens(tenant.as_ref()).await?;
                let mut out = std::io::stdout().lock();
                writeln!(
                    out,
                    "id\ttenant\tname\tscopes\tcreated\texpires\tstatus\treach"
                )?;
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
                        "{}\t{}\t{}\t{}\t{}\t{}\t{status}\t{}",
                        t.id,
                        t.tenant_id,
                        t.name,
                        t.scopes,
                        time(t.created_at),
                        t.expires_at.map(time).unwrap_or_else(|| "never".into()),
                        t.reach.name()
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
