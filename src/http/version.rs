//! The API version a request came in under, as the route table registered it
//! (`routes::configure` gives each version's scope its `ApiVersion`), never
//! guessed from the path.

use std::future::{ready, Ready};

use actix_web::{dev::Payload, FromRequest, HttpRequest};

use crate::domain::ApiVersion;
use crate::error::ApiError;

impl FromRequest for ApiVersion {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(request.app_data::<ApiVersion>().copied().ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!(
                "the route {} is not registered under an API version",
                request.path()
            ))
        }))
    }
}
