//! Graph's side of a collection: an app-only token from Entra ID (a client
//! secret or a signed client assertion), cached until shortly before it
//! expires; the report function; its download URL fetched WITHOUT the
//! Authorization header; 429 and 5xx retried within a bounded budget.

use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, AUTHORIZATION, LOCATION, RETRY_AFTER};
use reqwest::{Response, StatusCode};
use serde::Deserialize;

use super::assertion::client_assertion;
use super::settings::{Credential, RetryPolicy, Source};
use super::CollectError;
use crate::domain::{ReportPeriod, Secret, CSV_BOM};

const SCOPE: &str = "https://graph.microsoft.com/.default";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// A cached token is renewed this long before Entra ID says it expires.
const TOKEN_RENEW_MARGIN: Duration = Duration::from_secs(300);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// One source's way into Graph, with its token cache.
pub struct GraphClient {
    http: reqwest::Client,
    source: Source,
    token_url: String,
    graph_url: String,
    retry: RetryPolicy,
    token: tokio::sync::Mutex<Option<CachedToken>>,
}

struct CachedToken {
    value: Secret,
    renew_at: Instant,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: Option<u64>,
}

#[derive(Deserialize)]
struct LoginError {
    error: Option<String>,
    error_description: Option<String>,
}

#[derive(Deserialize)]
struct GraphErrorBody {
    error: Option<GraphErrorDetail>,
}

#[derive(Deserialize)]
struct GraphErrorDetail {
    code: Option<String>,
    message: Option<String>,
}

impl GraphClient {
    pub fn new(
        source: Source,
        graph_url: &str,
        login_url: &str,
        retry: RetryPolicy,
    ) -> Result<Self, CollectError> {
        let http = reqwest::Client::builder()
            // Followed by hand, so the download request never carries the token.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|e| CollectError::Unreachable(describe(e)))?;
        Ok(Self {
            http,
            token_url: format!("{login_url}/{}/oauth2/v2.0/token", source.graph_tenant),
            graph_url: graph_url.to_owned(),
            source,
            retry,
            token: tokio::sync::Mutex::new(None),
        })
    }

    pub fn source(&self) -> &Source {
        &self.source
    }

    /// The report's CSV for `period`, as Graph hands it out (a BOM perhaps).
    pub async fn fetch_report(&self, period: ReportPeriod) -> Result<Vec<u8>, CollectError> {
        let token = self.token().await?;
        let url = format!(
            "{}/{}/reports/getTeamsDeviceUsageDistributionUserCounts(period='{}')",
            self.graph_url,
            self.source.api_version.segment(),
            period.function_arg()
        );
        let response = self
            .send(|| {
                self.http
                    .get(&url)
                    .header(AUTHORIZATION, format!("Bearer {}", token.expose()))
            })
            .await?;
        let status = response.status();
        if status.is_redirection() {
            let location = location(&url, response.headers())?;
            return self.download(&location).await;
        }
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            // The token was fine; without Reports.Read.All it carries no role for reports.
            if status == StatusCode::UNAUTHORIZED {
                self.token.lock().await.take();
            }
            return Err(CollectError::MissingPermission(status.as_u16()));
        }
        if !status.is_success() {
            return Err(graph_error(response).await);
        }
        let body = read_body(response).await?;
        match download_url_in(&body) {
            Some(download) => self.download(&download).await,
            None => Ok(body),
        }
    }

    /// The pre-authenticated download URL, fetched with no Authorization header.
    async fn download(&self, url: &str) -> Result<Vec<u8>, CollectError> {
        let response = self.send(|| self.http.get(url)).await?;
        let status = response.status();
        if !status.is_success() {
            return Err(CollectError::Graph(format!(
                "the report's download URL answered {status}"
            )));
        }
        read_body(response).await
    }

    /// A token for Graph: the cached one, or a new one from Entra ID.
    async fn token(&self) -> Result<Secret, CollectError> {
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref().filter(|t| Instant::now() < t.renew_at) {
            return Ok(token.value.clone());
        }
        let requested_at = Instant::now();
        let mut form: Vec<(&str, String)> = vec![
            ("client_id", self.source.client_id.clone()),
            ("scope", SCOPE.to_owned()),
            ("grant_type", "client_credentials".to_owned()),
        ];
        match &self.source.credential {
            Credential::Secret(secret) => {
                form.push(("client_secret", secret.expose().to_owned()));
            }
            Credential::Certificate {
                private_key_pem,
                certificate_pem,
            } => {
                let assertion = client_assertion(
                    &self.source.client_id,
                    &self.token_url,
                    certificate_pem,
                    private_key_pem,
                )?;
                form.push(("client_assertion_type", ASSERTION_TYPE.to_owned()));
                form.push(("client_assertion", assertion.expose().to_owned()));
            }
        }
        let response = self
            .send(|| self.http.post(&self.token_url).form(&form))
            .await
            .map_err(|e| match e {
                CollectError::Unreachable(detail) => {
                    CollectError::Unreachable(format!("Entra ID's token endpoint: {detail}"))
                }
                other => other,
            })?;
        let status = response.status();
        if !status.is_success() {
            let body = response.bytes().await.unwrap_or_default();
            let answer: Option<LoginError> = serde_json::from_slice(&body).ok();
            let (code, description) = answer
                .map(|a| (a.error, a.error_description))
                .unwrap_or((None, None));
            // Entra's description names its AADSTS code; its first line is enough.
            let description = description
                .as_deref()
                .and_then(|d| d.lines().next())
                .unwrap_or("no reason given")
                .to_owned();
            return Err(CollectError::BadCredentials(format!(
                "Entra ID answered {status} ({}): {description}",
                code.as_deref().unwrap_or("no error code")
            )));
        }
        let answer: TokenAnswer = response.json().await.map_err(|e| {
            CollectError::BadCredentials(format!(
                "Entra ID's token answer is not a token: {}",
                e.without_url()
            ))
        })?;
        let lifetime = Duration::from_secs(answer.expires_in.unwrap_or(3600));
        let renew_in = lifetime
            .checked_sub(TOKEN_RENEW_MARGIN)
            .unwrap_or(lifetime / 2);
        let value = Secret::new(answer.access_token);
        *cached = Some(CachedToken {
            value: value.clone(),
            renew_at: requested_at + renew_in,
        });
        Ok(value)
    }

    /// Sends what `build` makes, again on 429, 5xx and connection failures,
    /// waiting `Retry-After` or a doubling backoff, within the retry budget.
    async fn send(
        &self,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Response, CollectError> {
        let mut backoff = self.retry.base;
        let mut attempt = 1;
        loop {
            let (wait, failure) = match build().send().await {
                Ok(response) => {
                    let status = response.status();
                    if status == StatusCode::TOO_MANY_REQUESTS {
                        let wait = retry_after(response.headers()).unwrap_or(backoff);
                        (wait, CollectError::Throttled { attempts: attempt })
                    } else if status.is_server_error() {
                        let wait = retry_after(response.headers()).unwrap_or(backoff);
                        (wait, graph_error(response).await)
                    } else {
                        return Ok(response);
                    }
                }
                Err(e) => (backoff, CollectError::Unreachable(describe(e))),
            };
            if attempt >= self.retry.attempts || wait > self.retry.max_wait {
                return Err(failure);
            }
            tracing::debug!(
                attempt,
                wait_ms = wait.as_millis() as u64,
                "retrying a Graph request"
            );
            tokio::time::sleep(wait).await;
            backoff = backoff.saturating_mul(2);
            attempt += 1;
        }
    }
}

/// The error and its causes in one line, without the URL (a download URL's
/// query is its signature).
fn describe(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(&error);
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}

/// `Retry-After` in seconds (Graph's form).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse().ok().map(Duration::from_secs)
}

/// Where a redirect points, made absolute against the request's URL.
fn location(request_url: &str, headers: &HeaderMap) -> Result<String, CollectError> {
    let missing = || CollectError::Graph("a redirect without a usable Location".into());
    let value = headers
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(missing)?;
    let base = url::Url::parse(request_url).map_err(|_| missing())?;
    Ok(base.join(value).map_err(|_| missing())?.to_string())
}

/// Graph sometimes answers 200 with the download URL as the whole body.
fn download_url_in(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body.strip_prefix(CSV_BOM).unwrap_or(body)).ok()?;
    let text = text.trim();
    let is_url = (text.starts_with("https://") || text.starts_with("http://"))
        && !text.contains(char::is_whitespace);
    is_url.then(|| text.to_owned())
}

async fn read_body(response: Response) -> Result<Vec<u8>, CollectError> {
    response
        .bytes()
        .await
        .map(|b| b.to_vec())
        .map_err(|e| CollectError::Unreachable(describe(e)))
}

/// An unexpected answer from Graph, with its error code and message when it sent one.
async fn graph_error(response: Response) -> CollectError {
    let status = response.status();
    let body = response.bytes().await.unwrap_or_default();
    let detail = serde_json::from_slice::<GraphErrorBody>(&body)
        .ok()
        .and_then(|b| b.error)
        .map(|e| {
            format!(
                ": {} {}",
                e.code.unwrap_or_default(),
                e.message.unwrap_or_default()
            )
        })
        .unwrap_or_default();
    CollectError::Graph(format!("Graph answered {status}{detail}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_that_is_one_url_is_a_download_url() {
        assert_eq!(
            download_url_in(b"\xEF\xBB\xBFhttps://dl.example/x?sig=1\r\n").as_deref(),
            Some("https://dl.example/x?sig=1")
        );
        assert_eq!(download_url_in(b"Report Refresh Date,Web\r\n"), None);
    }

    #[test]
    fn retry_after_is_read_in_seconds() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "3".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
    }
}
