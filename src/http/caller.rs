//! The authenticated caller as an extractor: the bearer secret read from the
//! request, verified by `auth` against the state every request reaches.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{dev::Payload, web, FromRequest, HttpMessage, HttpRequest};
use chrono::Utc;

use super::gate::AuthenticationGate;
use super::origin::client_address;
use crate::auth::{
    authenticate, AuthError, Caller, Operator, Scopes, StoredToken, TokenHolder, Verifier,
    TENANT_SELECTOR,
};
use crate::domain::TenantId;
use crate::error::ApiError;
use crate::state::AppState;

/// Why a request carries no bearer secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BearerProblem {
    /// No `Authorization` header.
    Missing,
    /// A header that is not visible ASCII.
    NotText,
    /// Another scheme, or `Bearer` with no secret.
    NotBearer,
}

/// The secret of `Authorization: Bearer <secret>` (the scheme in any case):
/// the one reader of the header, for tokens and the metrics scrape token alike.
pub fn bearer_secret(request: &HttpRequest) -> Result<&str, BearerProblem> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or(BearerProblem::Missing)?
        .to_str()
        .map_err(|_| BearerProblem::NotText)?;
    let (scheme, secret) = value.split_once(' ').ok_or(BearerProblem::NotBearer)?;
    let secret = secret.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || secret.is_empty() {
        return Err(BearerProblem::NotBearer);
    }
    Ok(secret)
}

fn caller_secret(request: &HttpRequest) -> Result<String, ApiError> {
    bearer_secret(request)
        .map(str::to_owned)
        .map_err(|problem| {
            ApiError::InvalidToken(
                match problem {
                    BearerProblem::Missing => "Access token is empty.",
                    BearerProblem::NotText => "Access token has an invalid format.",
                    BearerProblem::NotBearer => "Authorization must be 'Bearer <token>'.",
                }
                .into(),
            )
        })
}

/// The verified token of `request`, with the body extractor held back until
/// it is known; `act` turns it into what the handler takes.
fn verified<T: 'static>(
    request: &HttpRequest,
    act: impl FnOnce(&StoredToken, &HttpRequest) -> Result<T, AuthError> + 'static,
    acts_as: impl FnOnce(&T) -> (TenantId, BodyScopes) + 'static,
) -> Pin<Box<dyn Future<Output = Result<T, ApiError>>>> {
    // A body extracted beside the caller waits until this ends.
    let gate = AuthenticationGate::close(request);
    let secret = caller_secret(request);
    let state = request.app_data::<web::Data<AppState>>().cloned();
    let client = client_address(request);
    let request = request.clone();
    Box::pin(async move {
        let verify = async {
            let secret = secret?;
            let state = state
                .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("application state missing")))?;
            let verifier = Verifier {
                cache: &state.token_cache,
                store: state.store.as_ref(),
                rate_limiter: &state.rate_limiter,
                failures: &state.failure_limiter,
            };
            let token = authenticate(&secret, client, verifier, Utc::now()).await?;
            Ok::<_, ApiError>(act(&token, &request)?)
        };
        let acting = verify.await;
        if let Ok(acting) = &acting {
            let (tenant, scopes) = acts_as(acting);
            // For the access line: the tenant of an authenticated request.
            request.extensions_mut().insert(tenant);
            // For the body extractor: whether this caller's body is worth reading.
            request.extensions_mut().insert(scopes);
        }
        gate.open();
        acting
    })
}

/// What the authenticated caller of a request may do, for the body extractor
/// to decide whether its body is worth reading.
#[derive(Debug, Clone)]
pub struct BodyScopes(pub Scopes);

/// The tenant a request names in the `tenant-id` header, as sent.
fn named_tenant(request: &HttpRequest) -> Result<Option<&str>, AuthError> {
    request
        .headers()
        .get(TENANT_SELECTOR)
        .map(|value| {
            value.to_str().map_err(|_| {
                AuthError::TenantNotNamed(format!("The {TENANT_SELECTOR} header is not text"))
            })
        })
        .transpose()
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        verified(
            request,
            |token, request| Caller::acting(token, named_tenant(request)?),
            |caller: &Caller| (caller.tenant_id.clone(), BodyScopes(caller.scopes.clone())),
        )
    }
}

impl FromRequest for TokenHolder {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        verified(
            request,
            |token, _| {
                Ok(TokenHolder {
                    token_tenant: token.tenant_id.clone(),
                    token_name: token.name.clone(),
                    reach: token.reach,
                    scopes: token.scopes.clone(),
                })
            },
            |holder: &TokenHolder| {
                (
                    holder.token_tenant.clone(),
                    BodyScopes(holder.scopes.clone()),
                )
            },
        )
    }
}

impl FromRequest for Operator {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        verified(
            request,
            |token, _| Operator::of(token),
            // The routes about every tenant take no body.
            |operator: &Operator| {
                (
                    operator.token_tenant.clone(),
                    BodyScopes(Scopes::new(Vec::new())),
                )
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn the_bearer_secret_is_read_in_any_case_of_the_scheme() {
        let with = |value: &str| {
            TestRequest::default()
                .insert_header((header::AUTHORIZATION, value))
                .to_http_request()
        };
        assert_eq!(bearer_secret(&with("Bearer s3cret")), Ok("s3cret"));
        assert_eq!(bearer_secret(&with("bearer  s3cret ")), Ok("s3cret"));
        assert_eq!(
            bearer_secret(&TestRequest::default().to_http_request()),
            Err(BearerProblem::Missing)
        );
        for not_bearer in ["Basic s3cret", "s3cret", "Bearer ", "Bearer"] {
            assert_eq!(
                bearer_secret(&with(not_bearer)),
                Err(BearerProblem::NotBearer),
                "{not_bearer:?}"
            );
        }
        let not_text = TestRequest::default()
            .insert_header((
                header::AUTHORIZATION,
                header::HeaderValue::from_bytes(b"Bearer \xff").unwrap(),
            ))
            .to_http_request();
        assert_eq!(bearer_secret(&not_text), Err(BearerProblem::NotText));
    }
}
