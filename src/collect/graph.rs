//! Graph's side of a collection: an app-only token from Entra ID (a client
//! secret or a signed client assertion), cached until shortly before it
//! expires; the report function; its download URL fetched WITHOUT the
//! Authorization header; 429 and 5xx retried within a bounded budget. A login
//! host that cannot be reached at all is not retried: nothing changes that
//! within a run.
//! Every answer is read as a stream against a limit, and every text Entra ID
//! or Graph sends back enters an error redacted and bounded (`scrub`).

use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, AUTHORIZATION, LOCATION, RETRY_AFTER};
use reqwest::{Response, StatusCode};
use serde::Deserialize;

use super::assertion::client_assertion;
use super::scrub::quoted;
use super::settings::{Credential, RetryPolicy, Source};
use super::CollectError;
use crate::domain::{ReportPeriod, Secret, CSV_BOM};

const SCOPE: &str = "https://graph.microsoft.com/.default";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// A cached token is renewed this long before Entra ID says it expires.
const TOKEN_RENEW_MARGIN: Duration = Duration::from_secs(300);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The most a report may weigh (the CSV, or an answer carrying its URL). A
/// report of this kind is a few KB per period (D180: 180 lines); this is
/// a thousand times that, and bounds what a run holds in memory.
pub const REPORT_LIMIT: usize = 4 << 20;
/// The most an answer of Entra ID's token endpoint, or a Graph error body,
/// may weigh: a token is a few KB, an error a few hundred bytes.
pub const ANSWER_LIMIT: usize = 64 << 10;

/// One source's way into Graph, with its token cache.
pub struct GraphClient {
    http: reqwest::Client,
    source: Source,
    token_url: String,
    /// The login host as errors name it: scheme, host and port, nothing else.
    login_origin: String,
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
        let login_origin = url::Url::parse(login_url)
            .map(|url| url.origin().ascii_serialization())
            .unwrap_or_else(|_| "GRAPH_LOGIN_URL".to_owned());
        Ok(Self {
            http,
            token_url: format!("{login_url}/{}/oauth2/v2.0/token", source.graph_tenant),
            login_origin,
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
        let secrets = self.secrets_with(token.expose());
        let response = self
            .send(
                || {
                    self.http
                        .get(&url)
                        .header(AUTHORIZATION, format!("Bearer {}", token.expose()))
                },
                &secrets,
                None,
            )
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
            return Err(graph_error(response, &secrets).await);
        }
        let body = read_report(response, "Graph's report answer").await?;
        match download_url_in(&body) {
            Some(download) => self.download(&download).await,
            None => Ok(body),
        }
    }

    /// The pre-authenticated download URL, fetched with no Authorization header.
    async fn download(&self, url: &str) -> Result<Vec<u8>, CollectError> {
        let response = self
            .send(|| self.http.get(url), &self.secrets(), None)
            .await?;
        let status = response.status();
        if !status.is_success() {
            return Err(CollectError::Graph(format!(
                "the report's download URL answered {status}"
            )));
        }
        read_report(response, "the report's download").await
    }

    /// A token for Graph: the cached one, or a new one from Entra ID.
    async fn token(&self) -> Result<Secret, CollectError> {
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref().filter(|t| Instant::now() < t.renew_at) {
            return Ok(token.value.clone());
        }
        let requested_at = Instant::now();
        let mut secrets = self.secrets();
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
                secrets.push(assertion.expose().to_owned());
            }
        }
        // A host that takes no connection now will not take one a few seconds on.
        let login_origin = &self.login_origin;
        let unreachable = move |detail: String| {
            CollectError::LoginUnreachable(format!("cannot connect to {login_origin}: {detail}"))
        };
        let response = self
            .send(
                || self.http.post(&self.token_url).form(&form),
                &secrets,
                Some(&unreachable),
            )
            .await
            .map_err(|e| match e {
                CollectError::Unreachable(detail) => {
                    CollectError::Unreachable(format!("Entra ID's token endpoint: {detail}"))
                }
                other => other,
            })?;
        let status = response.status();
        let body = match read_capped(response, ANSWER_LIMIT).await {
            Ok(body) => body,
            Err(BodyError::TooLarge) => {
                return Err(CollectError::BadCredentials(format!(
                    "Entra ID answered {status} with more than {}, the limit for a login answer",
                    human_size(&ANSWER_LIMIT)
                )))
            }
            Err(BodyError::Failed(e)) => {
                return Err(CollectError::Unreachable(format!(
                    "Entra ID's token endpoint: {}",
                    describe(e)
                )))
            }
        };
        if !status.is_success() {
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
                "Entra ID answered {status} ({}): {}",
                quoted(code.as_deref().unwrap_or("no error code"), &secrets),
                quoted(&description, &secrets)
            )));
        }
        let answer: TokenAnswer = serde_json::from_slice(&body).map_err(|e| {
            // serde's message may quote a value of the answer: the token, say.
            CollectError::BadCredentials(format!(
                "Entra ID's token answer is not a token: {}",
                quoted(&e.to_string(), &secrets)
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
    /// With `no_connection`, a request that finds no connection (refused, no
    /// such host, the connect timed out, the TLS handshake failed) is not
    /// retried but fails at once with the error it makes.
    async fn send(
        &self,
        build: impl Fn() -> reqwest::RequestBuilder,
        secrets: &[String],
        no_connection: Option<&(dyn Fn(String) -> CollectError + Sync)>,
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
                        (wait, graph_error(response, secrets).await)
                    } else {
                        return Ok(response);
                    }
                }
                Err(e) => match no_connection {
                    Some(fail) if e.is_connect() => return Err(fail(describe(e))),
                    _ => (backoff, CollectError::Unreachable(describe(e))),
                },
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

    /// The source's configured secrets, as texts to redact.
    fn secrets(&self) -> Vec<String> {
        match &self.source.credential {
            Credential::Secret(secret) => vec![secret.expose().to_owned()],
            Credential::Certificate {
                private_key_pem, ..
            } => vec![private_key_pem.expose().to_owned()],
        }
    }

    fn secrets_with(&self, token: &str) -> Vec<String> {
        let mut secrets = self.secrets();
        secrets.push(token.to_owned());
        secrets
    }

    /// `text` with the source's secrets and the token in hand redacted: for
    /// any error about to be logged, stored or shown.
    pub async fn redact(&self, text: &str) -> String {
        let mut secrets = self.secrets();
        if let Some(token) = self.token.lock().await.as_ref() {
            secrets.push(token.value.expose().to_owned());
        }
        super::scrub::redact(text, &secrets)
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

/// Why a body was not read whole.
enum BodyError {
    /// It is longer than the limit: reading stopped there, the connection is dropped.
    TooLarge,
    Failed(reqwest::Error),
}

/// The body, read chunk by chunk while it stays within `limit` bytes. A
/// `Content-Length` over the limit is refused before a byte is read.
async fn read_capped(mut response: Response, limit: usize) -> Result<Vec<u8>, BodyError> {
    let declared = response.content_length().unwrap_or(0);
    if declared > limit as u64 {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::with_capacity(declared as usize);
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Failed)? {
        if chunk.len() > limit - body.len() {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A report's bytes, within `REPORT_LIMIT`.
async fn read_report(response: Response, what: &'static str) -> Result<Vec<u8>, CollectError> {
    read_capped(response, REPORT_LIMIT)
        .await
        .map_err(|e| match e {
            BodyError::TooLarge => CollectError::TooLarge {
                what,
                limit: REPORT_LIMIT,
            },
            BodyError::Failed(e) => CollectError::Unreachable(describe(e)),
        })
}

/// `4 MiB`, `64 KiB`, `100 bytes`.
pub fn human_size(bytes: &usize) -> String {
    match *bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

/// An unexpected answer from Graph, with its error code and message when it
/// sent one (within `ANSWER_LIMIT`), redacted and bounded.
async fn graph_error(response: Response, secrets: &[String]) -> CollectError {
    let status = response.status();
    let detail = match read_capped(response, ANSWER_LIMIT).await {
        Ok(body) => serde_json::from_slice::<GraphErrorBody>(&body)
            .ok()
            .and_then(|b| b.error)
            .map(|e| {
                format!(
                    ": {} {}",
                    quoted(&e.code.unwrap_or_default(), secrets),
                    quoted(&e.message.unwrap_or_default(), secrets)
                )
            })
            .unwrap_or_default(),
        Err(BodyError::TooLarge) => format!(
            " (an error body of more than {}, not read)",
            human_size(&ANSWER_LIMIT)
        ),
        Err(BodyError::Failed(_)) => String::new(),
    };
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
    fn sizes_are_named_in_their_unit() {
        assert_eq!(human_size(&REPORT_LIMIT), "4 MiB");
        assert_eq!(human_size(&ANSWER_LIMIT), "64 KiB");
        assert_eq!(human_size(&1000), "1000 bytes");
    }

    /// `send` gives up at once on what reqwest calls a connect failure: a
    /// refused connection, and a connect that times out, are both that.
    #[tokio::test]
    async fn a_refused_or_timed_out_connect_is_a_connect_failure() {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_millis(200))
            .build()
            .unwrap();
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let refused = format!("http://{}/", closed.local_addr().unwrap());
        drop(closed);
        let error = client.get(&refused).send().await.unwrap_err();
        assert!(error.is_connect(), "{error:?}");

        // A listener that accepts nothing: once its queue is full, a connect
        // waits for an answer that never comes.
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = silent.local_addr().unwrap();
        let mut queued = Vec::new();
        while let Ok(stream) =
            std::net::TcpStream::connect_timeout(&address, Duration::from_millis(100))
        {
            queued.push(stream);
            assert!(queued.len() < 100_000, "the listener's queue never filled");
        }
        let started = Instant::now();
        let error = client
            .get(format!("http://{address}/"))
            .send()
            .await
            .unwrap_err();
        assert!(error.is_connect() && error.is_timeout(), "{error:?}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn retry_after_is_read_in_seconds() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "3".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
    }
}
