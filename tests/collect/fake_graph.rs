//! A fake Microsoft Graph on 127.0.0.1, as faithful as the collector needs:
//! Entra ID's token endpoint (client secret or signed client assertion), the
//! report function (302 to a download URL, or 200 with the CSV or the URL),
//! and a download host that refuses any request carrying Authorization.
//! And a hostile one when told: bodies of any size made lazily (counting
//! what the client took), a login endpoint that echoes its form, Graph
//! errors that echo the token.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::body::SizedStream;
use actix_web::dev::ServerHandle;
use actix_web::http::header;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use sha1::{Digest, Sha1};

pub const GRAPH_TENANT: &str = "contoso.onmicrosoft.com";
pub const CLIENT_ID: &str = "11111111-2222-3333-4444-555555555555";
pub const CLIENT_SECRET: &str = "Xy9~very-secret-client-value";
pub const CERTIFICATE: &str = include_str!("fixtures/app-cert.pem");
pub const PRIVATE_KEY: &str = include_str!("fixtures/app-key.pem");
const PUBLIC_KEY: &str = include_str!("fixtures/app-public.pem");
pub const ACCESS_TOKEN: &str = "eyJ0eXAi.fake-graph-access-token";

pub const V1_HEADER: &str =
    "Report Refresh Date,Web,Windows Phone,Android Phone,iOS,Mac,Windows,Report Period";
pub const BETA_HEADER: &str = "Report Refresh Date,Web,Windows Phone,Android Phone,iOS,Mac,Windows,Chrome OS,Linux,Report Period";

/// How the report function answers one call.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 302 to the download host (Graph's usual answer).
    Redirect,
    /// 200 with the CSV itself.
    Csv,
    /// 200 with the download URL as the body.
    Url,
    /// This status, with `Retry-After` when given.
    Status(u16, Option<u64>),
    /// This status, with a Graph error whose message echoes the request's
    /// Authorization header and its token.
    EchoToken(u16),
    /// This status, with a body made lazily.
    Lazy(u16, Lazy),
}

/// A body made as it is sent: `head`, then `fill` over and over up to `len`
/// bytes in all; with `Content-Length` when `sized`, else chunked.
#[derive(Debug, Clone)]
pub struct Lazy {
    pub len: u64,
    pub sized: bool,
    pub head: String,
    pub fill: String,
}

impl Lazy {
    /// 200 MB of a well-formed beta CSV, a line at a time.
    pub fn csv_lines(len: u64, sized: bool) -> Self {
        Self {
            len,
            sized,
            head: format!("\u{feff}{BETA_HEADER}\r\n"),
            fill: "2026-11-27,1,0,2,3,4,5,6,7,7\r\n".into(),
        }
    }

    /// One line of `len` bytes, no line break anywhere.
    pub fn one_line(len: u64, sized: bool) -> Self {
        Self {
            len,
            sized,
            head: String::new(),
            fill: "x".into(),
        }
    }
}

/// How the token endpoint answers.
#[derive(Debug, Clone, Default)]
pub enum Login {
    /// As Entra ID does.
    #[default]
    Normal,
    /// 401, the error description echoing the form as sent and each field decoded.
    EchoForm,
    /// 200 with a body made lazily.
    Lazy(Lazy),
}

/// What the lazy bodies handed out: bytes taken by the server to send, and
/// whether one was made to its end.
#[derive(Debug, Default)]
pub struct Served {
    pub bytes: AtomicU64,
    pub finished: AtomicBool,
}

impl Served {
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::SeqCst)
    }

    pub fn finished(&self) -> bool {
        self.finished.load(Ordering::SeqCst)
    }
}

#[derive(Default)]
pub struct State {
    /// Token requests answered, good or bad.
    pub token_requests: usize,
    /// Token requests that proved the client with a valid signed assertion.
    pub assertion_logins: usize,
    /// Report calls per `version/period`, e.g. `beta/D7`.
    pub report_calls: HashMap<String, usize>,
    pub downloads: usize,
    /// Download requests that carried Authorization (refused).
    pub downloads_with_authorization: usize,
    /// The CSV (without BOM) each period serves; a header-only report by default.
    pub csv: HashMap<String, String>,
    /// Answers for the next calls of a period; `Redirect` once empty.
    pub script: HashMap<String, VecDeque<Reply>>,
    /// Every report call answers this status (401 or 403: a missing permission).
    pub report_status: Option<u16>,
    /// The download host answers this instead of the CSV.
    pub download_body: Option<Lazy>,
    pub login: Login,
    pub served: Arc<Served>,
    /// The client assertions received, to look for in what the client shows.
    pub assertions: Vec<String>,
}

pub struct FakeGraph {
    pub url: String,
    pub state: Arc<Mutex<State>>,
    handle: ServerHandle,
}

impl Drop for FakeGraph {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

impl FakeGraph {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(State::default()));
        let data = web::Data::new(state.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let base = web::Data::new(Base(url.clone()));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(base.clone())
                .route("/{tenant}/oauth2/v2.0/token", web::post().to(token))
                .route("/{version}/reports/{call}", web::get().to(report))
                .route("/download/{version}/{period}", web::get().to(download))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self { url, state, handle }
    }

    pub fn set_csv(&self, period: &str, csv: &str) {
        self.state
            .lock()
            .unwrap()
            .csv
            .insert(period.to_owned(), csv.to_owned());
    }

    pub fn script(&self, period: &str, replies: Vec<Reply>) {
        self.state
            .lock()
            .unwrap()
            .script
            .insert(period.to_owned(), replies.into());
    }

    pub fn with<T>(&self, read: impl FnOnce(&State) -> T) -> T {
        read(&self.state.lock().unwrap())
    }

    pub fn report_calls(&self, key: &str) -> usize {
        self.with(|s| s.report_calls.get(key).copied().unwrap_or(0))
    }
}

struct Base(String);

type Shared = web::Data<Arc<Mutex<State>>>;

fn login_error(code: &str, description: &str) -> HttpResponse {
    HttpResponse::Unauthorized().json(serde_json::json!({
        "error": code,
        "error_description": description,
    }))
}

async fn token(
    path: web::Path<String>,
    body: web::Bytes,
    state: Shared,
    base: web::Data<Base>,
) -> HttpResponse {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let login = {
        let mut state = state.lock().unwrap();
        state.token_requests += 1;
        if let Some(assertion) = form.get("client_assertion") {
            state.assertions.push(assertion.clone());
        }
        (state.login.clone(), state.served.clone())
    };
    match login {
        (Login::Normal, _) => {}
        (Login::EchoForm, _) => {
            let credential = form
                .get("client_secret")
                .or(form.get("client_assertion"))
                .cloned()
                .unwrap_or_default();
            return login_error(
                "invalid_client",
                &format!(
                    "AADSTS7000215: Invalid client secret provided: '{credential}'. Form: {}",
                    String::from_utf8_lossy(&body),
                ),
            );
        }
        (Login::Lazy(lazy), served) => return lazy_response(200, &lazy, served),
    }
    let field = |name: &str| form.get(name).map(String::as_str);
    if path.as_str() != GRAPH_TENANT {
        return HttpResponse::BadRequest().json(serde_json::json!({
            "error": "invalid_request",
            "error_description": "AADSTS90002: Tenant not found."
        }));
    }
    if field("grant_type") != Some("client_credentials")
        || field("scope") != Some("https://graph.microsoft.com/.default")
        || field("client_id") != Some(CLIENT_ID)
    {
        return HttpResponse::BadRequest().json(serde_json::json!({
            "error": "invalid_request", "error_description": "AADSTS900144: bad request."
        }));
    }
    let proven = match (field("client_secret"), field("client_assertion")) {
        (Some(secret), None) => secret == CLIENT_SECRET,
        (None, Some(assertion)) => {
            let token_url = format!("{}/{GRAPH_TENANT}/oauth2/v2.0/token", base.0);
            let valid = field("client_assertion_type")
                == Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
                && assertion_is_valid(assertion, &token_url);
            if valid {
                state.lock().unwrap().assertion_logins += 1;
            }
            valid
        }
        _ => false,
    };
    if !proven {
        return login_error(
            "invalid_client",
            "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value.\r\nTrace ID: 0000",
        );
    }
    HttpResponse::Ok().json(serde_json::json!({
        "token_type": "Bearer",
        "expires_in": 3599,
        "ext_expires_in": 3599,
        "access_token": ACCESS_TOKEN,
    }))
}

/// Signed by the fixture key, naming the fixture certificate, for this app and endpoint.
fn assertion_is_valid(assertion: &str, token_url: &str) -> bool {
    let Ok(header) = jsonwebtoken::decode_header(assertion) else {
        return false;
    };
    let der: String = CERTIFICATE
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let thumbprint = URL_SAFE_NO_PAD.encode(Sha1::digest(STANDARD.decode(der).unwrap()));
    if header.alg != jsonwebtoken::Algorithm::RS256 || header.x5t.as_deref() != Some(&thumbprint) {
        return false;
    }
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[token_url]);
    validation.set_issuer(&[CLIENT_ID]);
    validation.set_required_spec_claims(&["exp", "nbf", "aud", "iss", "sub"]);
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(PUBLIC_KEY.as_bytes()).unwrap();
    match jsonwebtoken::decode::<serde_json::Value>(assertion, &key, &validation) {
        Ok(data) => data.claims["sub"] == CLIENT_ID && data.claims["jti"].is_string(),
        Err(_) => false,
    }
}

async fn report(
    request: HttpRequest,
    path: web::Path<(String, String)>,
    state: Shared,
    base: web::Data<Base>,
) -> HttpResponse {
    let (version, call) = path.into_inner();
    let bearer = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if bearer != Some(&format!("Bearer {ACCESS_TOKEN}")) {
        return HttpResponse::Unauthorized().json(serde_json::json!({
            "error": {"code": "InvalidAuthenticationToken", "message": "Access token is empty."}
        }));
    }
    let Some(period) = call
        .strip_prefix("getTeamsDeviceUsageDistributionUserCounts(period='")
        .and_then(|rest| rest.strip_suffix("')"))
        .map(str::to_owned)
    else {
        return HttpResponse::BadRequest().finish();
    };
    let mut state = state.lock().unwrap();
    *state
        .report_calls
        .entry(format!("{version}/{period}"))
        .or_default() += 1;
    if let Some(status) = state.report_status {
        return HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
            .json(serde_json::json!({"error": {"code": "UnknownError", "message": ""}}));
    }
    let reply = state
        .script
        .get_mut(&period)
        .and_then(VecDeque::pop_front)
        .unwrap_or(Reply::Redirect);
    // Pre-authenticated, like Graph's: the signature is in the query.
    let download = format!(
        "{}/download/{version}/{period}?sig=pre-authenticated",
        base.0
    );
    match reply {
        Reply::Redirect => HttpResponse::Found()
            .insert_header((header::LOCATION, download))
            .finish(),
        Reply::Url => HttpResponse::Ok().content_type("text/plain").body(download),
        Reply::Csv => csv_response(&state, &version, &period),
        Reply::EchoToken(status) => {
            let authorization = bearer.unwrap_or_default();
            HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).json(
                serde_json::json!({"error": {
                    "code": "InvalidAuthenticationToken",
                    "message": format!(
                        "Header '{authorization}' refused: the token {ACCESS_TOKEN} is not valid for this audience"
                    ),
                }}),
            )
        }
        Reply::Lazy(status, lazy) => lazy_response(status, &lazy, state.served.clone()),
        Reply::Status(status, retry_after) => {
            let mut answer =
                HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap());
            if let Some(seconds) = retry_after {
                answer.insert_header((header::RETRY_AFTER, seconds.to_string()));
            }
            answer.json(
                serde_json::json!({"error": {"code": "TooManyRequests", "message": "slow down"}}),
            )
        }
    }
}

async fn download(
    request: HttpRequest,
    path: web::Path<(String, String)>,
    state: Shared,
) -> HttpResponse {
    let (version, period) = path.into_inner();
    let mut state = state.lock().unwrap();
    if request.headers().contains_key(header::AUTHORIZATION) {
        // Like the real storage host: a bearer token on a pre-authenticated URL fails.
        state.downloads_with_authorization += 1;
        return HttpResponse::BadRequest().body("Authorization is not allowed here");
    }
    state.downloads += 1;
    if let Some(lazy) = &state.download_body {
        return lazy_response(200, lazy, state.served.clone());
    }
    csv_response(&state, &version, &period)
}

/// `status` with `lazy`'s body, made a block at a time as the server sends it.
fn lazy_response(status: u16, lazy: &Lazy, served: Arc<Served>) -> HttpResponse {
    const BLOCK: usize = 64 << 10;
    let block = web::Bytes::from(lazy.fill.repeat(BLOCK / lazy.fill.len()));
    let head = web::Bytes::from(lazy.head.clone());
    let len = lazy.len;
    let blocks = futures_util::stream::unfold(0u64, move |made| {
        let (block, head, served) = (block.clone(), head.clone(), served.clone());
        async move {
            let left = len - made;
            if left == 0 {
                served.finished.store(true, Ordering::SeqCst);
                return None;
            }
            let next = if made == 0 && !head.is_empty() {
                head
            } else {
                block
            };
            let next = next.slice(..next.len().min(left as usize));
            served.bytes.fetch_add(next.len() as u64, Ordering::SeqCst);
            Some((
                Ok::<_, actix_web::Error>(next.clone()),
                made + next.len() as u64,
            ))
        }
    });
    let mut answer = HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap());
    answer.content_type("application/octet-stream");
    if lazy.sized {
        answer.body(SizedStream::new(len, Box::pin(blocks)))
    } else {
        answer.streaming(blocks)
    }
}

/// The period's CSV with Graph's BOM; header-only when none is set. The header
/// follows the version, as Graph's does.
fn csv_response(state: &State, version: &str, period: &str) -> HttpResponse {
    let header_line = if version == "beta" {
        BETA_HEADER
    } else {
        V1_HEADER
    };
    let body = state
        .csv
        .get(period)
        .cloned()
        .unwrap_or_else(|| format!("{header_line}\r\n"));
    HttpResponse::Ok()
        .content_type("application/octet-stream")
        .body(format!("\u{feff}{body}"))
}
