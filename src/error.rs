//! One error type for the API, always answered in Graph's error JSON.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use crate::auth::AuthError;
use crate::domain::{FieldProblem, Int64Format};
use crate::group_commit::WriteError;
use crate::odata::QueryError;
use crate::storage::StoreError;
use crate::telemetry::RequestIds;

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    BadRequest {
        message: String,
        details: Vec<FieldProblem>,
    },
    #[error("{0}")]
    InvalidToken(String),
    #[error("{0}")]
    AccessDenied(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    NotAcceptable(String),
    #[error("{0}")]
    Conflict(String),
    #[error("the request body is larger than the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    RequestTimeout(String),
    #[error("{0}")]
    UriTooLong(String),
    #[error("{0}")]
    HeadersTooLarge(String),
    #[error("too many requests: retry after {retry_after_secs} seconds")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("{0}")]
    FailedDependency(String),
    /// An answer too large to embed in a batch's answer (the caller may ask for
    /// less or send the request alone, so a 4xx).
    #[error("{0}")]
    ResponseTooLarge(String),
    #[error("the service is unavailable: {cause}")]
    Unavailable {
        cause: String,
        retry_after_secs: u64,
    },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest {
            message: message.into(),
            details: Vec::new(),
        }
    }

    /// An invalid body: one `details` entry per problem.
    pub fn invalid_body(details: Vec<FieldProblem>) -> Self {
        let message = match details.len() {
            1 => format!("Invalid request body: {}", details[0].message),
            n => format!("Invalid request body: {n} problems, see details"),
        };
        Self::BadRequest { message, details }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { .. } => "badRequest",
            Self::InvalidToken(_) => "InvalidAuthenticationToken",
            Self::AccessDenied(_) => "accessDenied",
            Self::NotFound(_) => "itemNotFound",
            Self::MethodNotAllowed(_) => "methodNotAllowed",
            Self::NotAcceptable(_) => "notAcceptable",
            Self::Conflict(_) => "conflict",
            Self::PayloadTooLarge { .. } => "requestEntityTooLarge",
            Self::UnsupportedMediaType(_) => "unsupportedMediaType",
            Self::RequestTimeout(_) => "requestTimeout",
            Self::UriTooLong(_) => "requestUriTooLong",
            Self::HeadersTooLarge(_) => "requestHeaderFieldsTooLarge",
            Self::TooManyRequests { .. } => "TooManyRequests",
            Self::FailedDependency(_) => "failedDependency",
            Self::ResponseTooLarge(_) => "responseTooLarge",
            Self::Unavailable { .. } => "serviceNotAvailable",
            Self::Internal(_) => "generalException",
        }
    }

    /// What the client is told. Internal causes stay in the log.
    fn public_message(&self) -> String {
        match self {
            Self::Internal(_) => {
                "An unexpected error occurred; the request id identifies it in the service log."
                    .into()
            }
            Self::Unavailable { .. } => {
                "The service is temporarily unavailable; retry later.".into()
            }
            other => other.to_string(),
        }
    }

    /// The Graph error body for this error, naming the current request.
    pub fn to_json(&self) -> serde_json::Value {
        self.to_json_with(&RequestIds::current())
    }

    /// The Graph error body for this error, naming the request `ids` identify.
    pub fn to_json_with(&self, ids: &RequestIds) -> serde_json::Value {
        let details: Vec<_> = match self {
            Self::BadRequest { details, .. } => details
                .iter()
                .map(|d| json!({"code": d.code, "message": d.message, "target": d.target}))
                .collect(),
            _ => Vec::new(),
        };
        let mut inner = json!({
            "date": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string(),
            "request-id": ids.request_id.to_string(),
        });
        if let Some(client_id) = &ids.client_request_id {
            inner["client-request-id"] = json!(client_id);
        }
        let mut error = json!({"code": self.code(), "message": self.public_message()});
        if !details.is_empty() {
            error["details"] = json!(details);
        }
        error["innerError"] = inner;
        json!({ "error": error })
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(cause) => Self::Unavailable {
                cause: cause.to_string(),
                retry_after_secs: 2,
            },
            other => Self::Internal(other.into()),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::InvalidToken(message) => Self::InvalidToken(message),
            AuthError::AccessDenied(message) => Self::AccessDenied(message),
            AuthError::TenantNotNamed(message) => Self::bad_request(message),
            AuthError::RateLimited(limited) => Self::TooManyRequests {
                retry_after_secs: limited.retry_after_secs,
            },
            AuthError::Store(cause) => cause.into(),
        }
    }
}

/// A bad option is a 400 whose one detail names the option.
impl From<QueryError> for ApiError {
    fn from(error: QueryError) -> Self {
        Self::BadRequest {
            details: vec![FieldProblem {
                code: "invalidQueryOption",
                target: error.option,
                message: error.message.clone(),
            }],
            message: error.message,
        }
    }
}

impl From<WriteError> for ApiError {
    fn from(error: WriteError) -> Self {
        let retry_after_secs = match &error {
            WriteError::QueueFull => 1,
            // Only an unreachable or busy database is worth a retry; a write it
            // refused for any other reason would be refused again.
            WriteError::Store(cause) if !matches!(**cause, StoreError::Unavailable(_)) => {
                return Self::Internal(error.into())
            }
            _ => 2,
        };
        Self::Unavailable {
            cause: error.to_string(),
            retry_after_secs,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            Self::AccessDenied(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::UriTooLong(_) => StatusCode::URI_TOO_LONG,
            Self::HeadersTooLarge(_) => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::FailedDependency(_) => StatusCode::FAILED_DEPENDENCY,
            Self::ResponseTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "request failed")
            }
            Self::Unavailable { cause, .. } => tracing::warn!(%cause, "database unavailable"),
            _ => {}
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, Int64Format::default().content_type()));
        match self {
            Self::InvalidToken(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            // The rest of a body that came too slowly is not waited for.
            Self::RequestTimeout(_) => {
                response.force_close();
            }
            Self::TooManyRequests { retry_after_secs }
            | Self::Unavailable {
                retry_after_secs, ..
            } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            _ => {}
        }
        response.body(self.to_json().to_string())
    }
}
