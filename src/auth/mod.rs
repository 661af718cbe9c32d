//! Who is calling: bearer tokens resolved to a tenant and its scopes.

mod cache;
mod rate_limit;
pub mod token;

use chrono::{DateTime, Utc};

pub use crate::domain::{Scope, Scopes, StoredToken, TokenRejection};
pub use cache::TokenCache;
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

/// The caller presenting `secret` at `now`: a known token, usable, within its rate.
pub async fn authenticate(
    secret: &str,
    cache: &TokenCache,
    store: &dyn Store,
    rate_limiter: &TokenRateLimiter,
    now: DateTime<Utc>,
) -> Result<Caller, AuthError> {
    let token = cache::find_token(cache, store, &hash_secret(secret))
        .await?
        .ok_or_else(|| AuthError::InvalidToken("Access token is invalid.".into()))?;
    token.check_usable(now).map_err(|why| {
        AuthError::InvalidToken(match why {
            TokenRejection::Expired => "Access token has expired.".into(),
            TokenRejection::Revoked => "Access token has been revoked.".into(),
        })
    })?;
    rate_limiter.check(token.id)?;
    Ok(Caller {
        tenant_id: token.tenant_id.clone(),
        scopes: token.scopes.clone(),
    })
}
