//! Who is calling: bearer tokens resolved to a tenant and its scopes.

mod cache;
mod failures;
mod rate_limit;
pub mod token;

use std::net::IpAddr;

use chrono::{DateTime, Utc};

pub use crate::domain::{Scope, Scopes, StoredToken, TokenRejection};
pub use cache::TokenCache;
pub use failures::FailureLimiter;
pub use rate_limit::{RateLimited, TokenRateLimiter};
pub use token::{hash_secret, issue_token, IssuedToken};

use crate::domain::TenantId;
use crate::storage::{Store, StoreError};

/// Why a caller is refused.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{0}")]
    InvalidToken(String),
    #[error("{0}")]
    AccessDenied(String),
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

impl Caller {
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
) -> Result<Caller, AuthError> {
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
    Ok(Caller {
        tenant_id: token.tenant_id.clone(),
        scopes: token.scopes.clone(),
    })
}
