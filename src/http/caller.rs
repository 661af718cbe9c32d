//! The authenticated caller as an extractor: the bearer secret read from the
//! request, verified by `auth` against the state every request reaches.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{dev::Payload, web, FromRequest, HttpMessage, HttpRequest};
use chrono::Utc;

use super::gate::AuthenticationGate;
use super::origin::client_address;
use crate::auth::{authenticate, Caller, Verifier};
use crate::error::ApiError;
use crate::state::AppState;

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
        let client = client_address(request);
        let authenticate = async move {
            let secret = secret?;
            let state = state
                .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("application state missing")))?;
            let verifier = Verifier {
                cache: &state.token_cache,
                store: state.store.as_ref(),
                rate_limiter: &state.rate_limiter,
                failures: &state.failure_limiter,
            };
            let caller = authenticate(&secret, client, verifier, Utc::now()).await?;
            Ok(caller)
        };
        let request = request.clone();
        Box::pin(async move {
            let caller = authenticate.await;
            if let Ok(caller) = &caller {
                // For the access line: the tenant of an authenticated request.
                request.extensions_mut().insert(caller.tenant_id.clone());
                // For the body extractor: whether this caller's body is worth reading.
                request.extensions_mut().insert(caller.clone());
            }
            gate.open();
            caller
        })
    }
}
