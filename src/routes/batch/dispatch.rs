//! Running a batch: each sub-request goes through the service's own router, in
//! process, so it is answered exactly as it would be if it had been sent alone.

use std::collections::BTreeMap;

use actix_http::Request;
use actix_service::boxed::{self, BoxService, BoxServiceFactory};
use actix_service::{IntoServiceFactory, ServiceFactoryExt};
use actix_web::body::MessageBody;
use actix_web::dev::{
    AppConfig, Payload, Service, ServiceFactory, ServiceRequest, ServiceResponse,
};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::http::{StatusCode, Uri};
use actix_web::middleware::from_fn;
use actix_web::web::Bytes;
use actix_web::{App, HttpRequest, HttpResponse, ResponseError};
use base64::Engine;
use futures_util::stream::{FuturesUnordered, StreamExt};
use serde::de::IgnoredAny;
use tokio::sync::OnceCell;

use super::envelope::{BatchResponseItem, Embedded, SubRequest};
use super::limits::{self, BatchLimits, Budget};
use super::streamed;
use crate::auth::TENANT_SELECTOR;
use crate::error::ApiError;
use crate::http::media::is_json_content_type;

type AppService = BoxService<Request, ServiceResponse, actix_web::Error>;

/// Headers of the batch request that describe the connection; every sub-request
/// carries them, so its links and logs are the ones it would have had alone.
const CONNECTION_HEADERS: [HeaderName; 6] = [
    header::AUTHORIZATION,
    header::HOST,
    header::FORWARDED,
    HeaderName::from_static("x-forwarded-for"),
    HeaderName::from_static("x-forwarded-host"),
    HeaderName::from_static("x-forwarded-proto"),
];

/// A worker's copy of the app, which sub-requests are sent through. Built on
/// the first batch the worker serves. It carries no dispatcher itself, which is
/// how a `$batch` inside a batch is refused.
pub struct BatchDispatcher {
    factory: BoxServiceFactory<AppConfig, Request, ServiceResponse, actix_web::Error, ()>,
    service: OnceCell<AppService>,
    limits: BatchLimits,
}

impl BatchDispatcher {
    /// A dispatcher with the caps of `limits::BatchLimits::DEFAULT`.
    pub fn new<T, B>(app: App<T>) -> Self
    where
        T: ServiceFactory<
                ServiceRequest,
                Config = (),
                Response = ServiceResponse<B>,
                Error = actix_web::Error,
                InitError = (),
            > + 'static,
        T::Service: 'static,
        B: MessageBody + 'static,
    {
        Self::with_limits(app, BatchLimits::DEFAULT)
    }

    pub fn with_limits<T, B>(app: App<T>, limits: BatchLimits) -> Self
    where
        T: ServiceFactory<
                ServiceRequest,
                Config = (),
                Response = ServiceResponse<B>,
                Error = actix_web::Error,
                InitError = (),
            > + 'static,
        T::Service: 'static,
        B: MessageBody + 'static,
    {
        // Outermost: a request whose answer would be streamed never reaches its route.
        let factory = app
            .wrap(from_fn(streamed::refuse_streamed))
            .into_factory()
            .map(ServiceResponse::map_into_boxed_body);
        Self {
            factory: boxed::factory(factory),
            service: OnceCell::new(),
            limits,
        }
    }

    async fn service(&self) -> Result<&AppService, ApiError> {
        self.service
            .get_or_try_init(|| self.factory.new_service(AppConfig::default()))
            .await
            .map_err(|()| ApiError::Internal(anyhow::anyhow!("the batch dispatcher did not start")))
    }

    /// Runs the plan: independent requests concurrently, each dependent one once
    /// all it depends on have answered 2xx, or 424 without running if one did not.
    /// Once the answer holds all it may, the requests not yet started do not run.
    pub async fn run(
        &self,
        batch: &HttpRequest,
        root: &str,
        plan: Vec<SubRequest>,
    ) -> Result<Vec<BatchResponseItem>, ApiError> {
        let service = self.service().await?;
        let budget = Budget::new(self.limits);
        let budget = &budget;
        let mut statuses: Vec<Option<StatusCode>> = vec![None; plan.len()];
        let mut answers: Vec<Option<BatchResponseItem>> = plan.iter().map(|_| None).collect();
        let mut started = vec![false; plan.len()];
        let mut running = FuturesUnordered::new();
        loop {
            // A 424 finishes a request at once, which may settle others: repeat until stable.
            let mut settled_one = true;
            while settled_one {
                settled_one = false;
                for (at, request) in plan.iter().enumerate() {
                    let waiting = request.depends_on.iter().any(|&d| statuses[d].is_none());
                    if started[at] || waiting {
                        continue;
                    }
                    started[at] = true;
                    let failed = request
                        .depends_on
                        .iter()
                        .find(|&&d| !statuses[d].is_some_and(|s| s.is_success()));
                    let refused = if let Some(&failed) = failed {
                        Some(failed_dependency(request, &plan[failed]))
                    } else if budget.is_full() {
                        Some(limits::not_run(&request.id, self.limits))
                    } else {
                        None
                    };
                    if let Some(error) = refused {
                        let answer = error_answer(request, &error);
                        statuses[at] = Some(error.status_code());
                        answers[at] = Some(answer);
                        settled_one = true;
                    } else {
                        let call = service.call(sub_request(batch, root, request));
                        running
                            .push(async move { (at, answer(request, call.await, budget).await) });
                    }
                }
            }
            match running.next().await {
                Some((at, answer)) => {
                    statuses[at] = StatusCode::from_u16(answer.status).ok();
                    answers[at] = Some(answer);
                }
                None => break,
            }
        }
        // The plan has no cycles, so every request has answered.
        Ok(answers.into_iter().flatten().collect())
    }
}

/// The in-process request for one sub-request.
fn sub_request(batch: &HttpRequest, root: &str, request: &SubRequest) -> Request {
    let body = request.body.clone().unwrap_or_default();
    let mut headers = HeaderMap::new();
    for (name, value) in &request.headers {
        headers.append(name.clone(), value.clone());
    }
    for name in CONNECTION_HEADERS {
        headers.remove(&name);
        for value in batch.headers().get_all(&name) {
            headers.append(name.clone(), value.clone());
        }
    }
    // An all-tenants token names the tenant per sub-request, or once for the batch.
    let tenant = HeaderName::from_static(TENANT_SELECTOR);
    if !headers.contains_key(&tenant) {
        for value in batch.headers().get_all(&tenant) {
            headers.append(tenant.clone(), value.clone());
        }
    }
    if request.body.is_some() {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    }
    let mut sub = Request::with_payload(Payload::from(body));
    let head = sub.head_mut();
    head.method = request.method.clone();
    head.uri = Uri::try_from(format!("{root}{}", request.target)).unwrap_or_default();
    head.version = batch.version();
    head.headers = headers;
    head.peer_addr = batch.peer_addr();
    sub
}

/// A sub-response as the batch writes it, or an error in its place when it
/// is streamed or over a cap of `budget`.
async fn answer(
    request: &SubRequest,
    outcome: Result<ServiceResponse, actix_web::Error>,
    budget: &Budget,
) -> BatchResponseItem {
    let response = match outcome {
        Ok(response) => response.into_parts().1,
        Err(error) => error.error_response(),
    };
    if streamed::is_streamed(response.headers(), response.body().size()) {
        // Dropped unread: a streamed body is produced only as it is read.
        return error_answer(request, &streamed::refusal());
    }
    let status = response.status();
    let headers = joined_headers(response.headers());
    let header_bytes = headers.iter().map(|(n, v)| n.len() + v.len()).sum();
    let content_type = headers.get("content-type").cloned().unwrap_or_default();
    let body = match limits::read_body(response.into_body(), header_bytes, budget).await {
        Ok(Ok(bytes)) => embed_body(bytes, &content_type),
        Ok(Err(error)) => {
            tracing::error!(id = %request.id, error = %error, "a batch sub-response body could not be read");
            Some(Embedded::Value(
                ApiError::Internal(anyhow::anyhow!("unreadable body")).to_json(),
            ))
        }
        Err(overflow) => {
            let error = limits::too_large(&request.id, overflow, budget.limits());
            return error_answer(request, &error);
        }
    };
    BatchResponseItem {
        id: request.id.clone(),
        status: status.as_u16(),
        headers,
        body,
    }
}

/// Lower-case names; a repeated header's values joined with `, `.
fn joined_headers(map: &HeaderMap) -> BTreeMap<String, String> {
    let mut headers = BTreeMap::new();
    for (name, value) in map {
        if name == header::CONTENT_LENGTH {
            continue;
        }
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        headers
            .entry(name.as_str().to_owned())
            .and_modify(|joined: &mut String| {
                joined.push_str(", ");
                joined.push_str(&value);
            })
            .or_insert(value);
    }
    headers
}

/// JSON bodies are embedded as JSON, other text as a string, bytes as base64.
pub(super) fn embed_body(bytes: Bytes, content_type: &str) -> Option<Embedded> {
    if bytes.is_empty() {
        return None;
    }
    // Checked without building a tree of it: the text is copied in as it is.
    if is_json_content_type(content_type) && serde_json::from_slice::<IgnoredAny>(&bytes).is_ok() {
        return Some(Embedded::Json(bytes));
    }
    Some(Embedded::Text(match std::str::from_utf8(&bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => base64::engine::general_purpose::STANDARD.encode(&bytes),
    }))
}

/// Why a request did not run: `failed`, which it depends on, did not succeed.
fn failed_dependency(request: &SubRequest, failed: &SubRequest) -> ApiError {
    ApiError::FailedDependency(format!(
        "Request '{}' was not run: it depends on request '{}', which did not succeed.",
        request.id, failed.id
    ))
}

/// `error` as the answer to `request`, which did not run or whose answer was dropped.
fn error_answer(request: &SubRequest, error: &ApiError) -> BatchResponseItem {
    let response: HttpResponse = error.error_response();
    BatchResponseItem {
        id: request.id.clone(),
        status: error.status_code().as_u16(),
        headers: joined_headers(response.headers()),
        body: Some(Embedded::Value(error.to_json())),
    }
}
