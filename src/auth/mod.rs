//! Who is calling: bearer tokens resolved to a tenant and its scopes.

mod cache;
mod failures;
mod rate_limit;
pub mod token;

use std::net::IpAddr;

use chrono::{DateTime, Utc};

pub use crate::domain::{Scope, Scopes, StoredToken, TokenReach, TokenRejection};
pub use cache::TokenCache;
pub use failures::FailureLimiter;
pub use rate_limit::{RateLimited, TokenRateLimiter};
pub use token::{hash_secret, issue_token, IssuedToken};

use crate::domain::TenantId;
use crate::storage::{Store, StoreError};

/// The request header an all-tenants token names the tenant of a request in.
pub const TENANT_SELECTOR: &str = "tenant-id";

/// Why a caller is refused.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{0}")]
    InvalidToken(String),
    #[error("{0}")]
    AccessDenied(String),
    /// An all-tenants token that did not name the tenant of its request, or
    /// named it wrongly.
    #[error("{0}")]
    TenantNotNamed(String),
    #[error(transparent)]
    RateLimited(#[from] RateLimited),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An authenticated caller: the tenant whose rows it sees, and what it may do.
#[derive(Debug, Clone)]
pub struct Caller {
    pub tenant_id: TenantId,
    pub scopes: Scopes,
}

/// An authenticated operator: a token that reaches every tenant, for the
/// routes about all of them (which name none).
#[derive(Debug, Clone)]
pub struct Operator {
    pub token_tenant: TenantId,
}

/// Any holder of a usable token, whatever it reaches: for `$batch`, whose
/// requests each check their own caller.
#[derive(Debug, Clone)]
pub struct TokenHolder {
    pub token_tenant: TenantId,
    pub token_name: String,
    pub reach: TokenReach,
    pub scopes: Scopes,
}

impl Operator {
    pub fn of(token: &StoredToken) -> Result<Self, AuthError> {
        match token.reach {
            TokenReach::AllTenants => Ok(Self {
                token_tenant: token.tenant_id.clone(),
            }),
            TokenReach::Tenant => Err(AuthError::AccessDenied(
                "Only an all-tenants token (token create --all-tenants) reads every tenant".into(),
            )),
        }
    }
}

impl Caller {
    /// The caller `token` acts as on a request that names `named` as its
    /// tenant (if it names one). A token of one tenant reads only that tenant
    /// and may not name any; an all-tenants token must name one on every
    /// request, reads it, and writes it only if it is its own and its scopes allow.
    pub fn acting(token: &StoredToken, named: Option<&str>) -> Result<Self, AuthError> {
        match (token.reach, named) {
            (TokenReach::Tenant, None) => Ok(Self {
                tenant_id: token.tenant_id.clone(),
                scopes: token.scopes.clone(),
            }),
            (TokenReach::Tenant, Some(_)) => Err(AuthError::AccessDenied(format!(
                "This token reads only its own tenant; the {TENANT_SELECTOR} header is for all-tenants tokens"
            ))),
            (TokenReach::AllTenants, None) => Err(AuthError::TenantNotNamed(format!(
                "An all-tenants token names the tenant of each request in the {TENANT_SELECTOR} header"
            ))),
            (TokenReach::AllTenants, Some(name)) => {
                let tenant_id = TenantId::parse(name).map_err(|e| {
                    AuthError::TenantNotNamed(format!("The {TENANT_SELECTOR} header: {e}"))
                })?;
                let scopes = if tenant_id == token.tenant_id {
                    token.scopes.clone()
                } else {
                    Scopes::new(vec![Scope::ReportsRead])
                };
                Ok(Self { tenant_id, scopes })
            }
        }
    }

    /// Refused unless the token carries `scope` (or one that includes it).
    pub fn require(&self, scope: Scope) -> Result<(), AuthError> {
        if self.scopes.allows(scope) {
            Ok(())
        } else {
            Err(AuthError::AccessDenied(format!(
                "Either the token lacks the scope {} or the caller is not allowed this operation",
                scope.name()
            )))
        }
    }
}

/// What authenticating a request checks against.
pub struct Verifier<'a> {
    pub cache: &'a TokenCache,
    pub store: &'a dyn Store,
    pub rate_limiter: &'a TokenRateLimiter,
    pub failures: &'a FailureLimiter,
}

/// The caller presenting `secret` from `client` at `now`: a known token,
/// usable, within its rate. An address that failed too often recently waits
/// (unless its token is one verified a moment ago, which costs nothing).
pub async fn authenticate(
    secret: &str,
    client: Option<IpAddr>,
    verifier: Verifier<'_>,
    now: DateTime<Utc>,
) -> Result<std::sync::Arc<StoredToken>, AuthError> {
    let hash = hash_secret(secret);
    let token = match verifier.cache.get(&hash) {
        Some(token) => Some(token),
        None => {
            verifier.failures.check(client)?;
            cache::find_token(verifier.cache, verifier.store, &hash).await?
        }
    };
    let refuse = |message: &str| {
        verifier.failures.record_failure(client);
        AuthError::InvalidToken(message.into())
    };
    let token = token.ok_or_else(|| refuse("Access token is invalid."))?;
    token.check_usable(now).map_err(|why| match why {
        TokenRejection::Expired => refuse("Access token has expired."),
        TokenRejection::Revoked => refuse("Access token has been revoked."),
    })?;
    let rate_limiter = verifier.rate_limiter;
    rate_limiter.check(token.id)?;
    Ok(token)
}
