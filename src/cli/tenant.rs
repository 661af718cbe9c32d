//! `tenant rename`: the name people know a tenant by, shown beside its id in
//! the operator's tenants list and the dashboard.

use clap::Subcommand;

use super::open_store;
use crate::config::Settings;
use crate::domain::TenantId;

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Give a tenant a display name (replacing any earlier one).
    Rename {
        /// The tenant, as its tokens name it.
        tenant: String,
        /// The name to show, such as "Contoso Ltd".
        name: String,
    },
}

pub async fn run(command: TenantCommand, settings: Settings) -> anyhow::Result<()> {
    let store = open_store(&settings).await?;
    let result = async {
        match command {
            TenantCommand::Rename { tenant, name } => {
                let tenant = TenantId::parse(&tenant).map_err(|e| anyhow::anyhow!("tenant: {e}"))?;
                if !store.tenant_exists(&tenant).await? {
                    anyhow::bail!(
                        "no tenant '{tenant}' here (it has neither a token nor rows); check the spelling"
                    );
                }
                store.set_tenant_name(&tenant, checked_name(&name)?).await?;
                eprintln!("tenant '{tenant}' is now shown as {name:?}");
            }
        }
        Ok(())
    }
    .await;
    store.close().await;
    result
}

/// The longest display name.
const MAX_NAME: usize = 200;

/// `name` when it is a name: 1 to 200 characters, no control characters,
/// not only spaces.
pub fn checked_name(name: &str) -> anyhow::Result<&str> {
    let length = name.chars().count();
    if name.trim().is_empty() || length > MAX_NAME {
        anyhow::bail!(
            "a tenant's name has 1 to {MAX_NAME} characters, not only spaces; got {length}"
        );
    }
    if name.chars().any(char::is_control) {
        anyhow::bail!("a tenant's name holds no control characters");
    }
    Ok(name)
}
