//! Who is calling: bearer tokens resolved to a tenant and its scopes.

mod cache;
mod rate_limit;
pub mod token;

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use chrono::Utc;

pub use crate::domain::{Scope, Scopes, StoredToken, TokenRejection};
pub use cache::TokenCache;
pub use rate_limit::TokenRateLimiter;
pub use token::{hash_secret, issue_token, IssuedToken};

use crate::domain::TenantId;
use crate::error::ApiError;
use crate::http::AuthenticationGate;
use crate::state::AppState;

/// An authenticated caller: the tenant whose rows it sees, and what it may do.
#[derive(Debug, Clone)]
pub struct Caller {
    pub tenant_id: TenantId,
    pub scopes: Scopes,
}

impl Caller {
    /// 403 unless the token carries `scope` (or one that includes it).
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.scopes.allows(scope) {
            Ok(())
        } else {
            Err(ApiError::AccessDenied(format!(
                "Either the token lacks the scope {} or the caller is not allowed this operation",
                scope.name()
            )))
        }
    }
}

/// The secret of `Authorization: Bearer <secret>`.
fn bearer_secret(request: &HttpRequest) -> Result<String, ApiError> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::InvalidToken("Access token is empty.".into()))?
        .to_str()
        .map_err(|_| ApiError::InvalidToken("Access token has an invalid format.".into()))?;
    let (scheme, secret) = value
        .split_once(' ')
        .ok_or_else(|| ApiError::InvalidToken("Authorization must be 'Bearer <token>'.".into()))?;
    let secret = secret.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || secret.is_empty() {
        return Err(ApiError::InvalidToken(
            "Authorization must be 'Bearer <token>'.".into(),
        ));
    }
    Ok(secret.to_owned())
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        // A body extracted beside the caller waits until this ends.
        let gate = AuthenticationGate::close(request);
        let secret = bearer_secret(request);
        let state = request.app_data::<web::Data<AppState>>().cloned();
        let rate_limiter = request.app_data::<web::Data<TokenRateLimiter>>().cloned();
        let token_cache = request.app_data::<web::Data<TokenCache>>().cloned();
        let authenticate = async move {
            let secret = secret?;
            let state = state
                .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("application state missing")))?;
            let cached = token_cache.as_ref().map(|c| c.get_ref());
            let token = cache::find_token(cached, state.store.as_ref(), &hash_secret(&secret))
                .await?
                .ok_or_else(|| ApiError::InvalidToken("Access token is invalid.".into()))?;
            token.check_usable(Utc::now()).map_err(|why| {
                ApiError::InvalidToken(match why {
                    TokenRejection::Expired => "Access token has expired.".into(),
                    TokenRejection::Revoked => "Access token has been revoked.".into(),
                })
            })?;
            if let Some(limiter) = rate_limiter {
                limiter.check(token.id)?;
            }
            Ok(Caller {
                tenant_id: token.tenant_id.clone(),
                scopes: token.scopes.clone(),
            })
        };
        Box::pin(async move {
            let caller = authenticate.await;
            gate.open();
            caller
        })
    }
}
