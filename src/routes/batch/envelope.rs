//! The batch body -> a checked plan of sub-requests. Pure: no I/O.
//!
//! Everything that makes the batch as a whole unusable is found here, before any
//! sub-request runs, and reported at once (one `details` entry per problem).
//! What a sub-request would get wrong on its own (a bad row, a missing scope, an
//! unknown route) is left to the route it reaches.

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use std::collections::{BTreeMap, HashMap};

use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::uri::PathAndQuery;
use actix_web::http::Method;
use actix_web::web::Bytes;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::domain::FieldProblem;
use crate::http::media::is_json_content_type;

/// Graph's limit on requests in one batch.
pub const MAX_REQUESTS: usize = 20;

/// `POST {base}/$batch`: the requests to run.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequestBody {
    /// Read as raw JSON so that each request's problems name its position.
    #[schema(value_type = Vec<BatchRequestItem>, min_items = 1, max_items = 20)]
    requests: Vec<Value>,
}

/// One request of a batch.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BatchRequestItem {
    /// Unique within the batch; the response with this id answers this request.
    #[schema(min_length = 1)]
    id: String,
    /// `GET`, `POST`, `PATCH`, `DELETE`, ...
    #[schema(min_length = 1)]
    method: String,
    /// Relative to the version root, e.g. `/reports/teamsDeviceUsageDistributionUserCounts?$top=5`.
    #[schema(min_length = 1)]
    url: String,
    /// Request headers. `Content-Type` is required with a body; the batch's own
    /// `Authorization` applies to every request.
    #[serde(default)]
    headers: BTreeMap<String, String>,
    /// JSON when `Content-Type` is JSON, otherwise a base64 string of the bytes.
    #[serde(default)]
    body: Option<Value>,
    /// Ids of requests that must succeed (2xx) before this one runs.
    #[serde(default)]
    depends_on: Option<Vec<String>>,
}

/// The answer to one request of a batch.
#[derive(Debug, ToSchema)]
pub struct BatchResponseItem {
    pub id: String,
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    /// JSON bodies embedded as JSON; other text as a string; bytes as base64.
    #[schema(value_type = Option<Value>)]
    pub body: Option<Embedded>,
}

/// A response body as the batch's answer carries it.
#[derive(Debug, Clone, PartialEq)]
pub enum Embedded {
    /// JSON text, checked to be one JSON value, written as it came: no tree of
    /// it is built, so an answer costs little more than its own bytes.
    Json(Bytes),
    /// Written as a JSON string.
    Text(String),
    Value(Value),
}

impl Embedded {
    fn write(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        match self {
            Self::Json(bytes) => {
                out.extend_from_slice(bytes);
                Ok(())
            }
            Self::Text(text) => serde_json::to_writer(out, text),
            Self::Value(value) => serde_json::to_writer(out, value),
        }
    }

    /// The body as a JSON value (for tests and checks; the answer is written by `write`).
    pub fn to_value(&self) -> serde_json::Result<Value> {
        let mut text = Vec::new();
        self.write(&mut text)?;
        serde_json::from_slice(&text)
    }
}

/// The batch's answer, in the order of its requests.
#[derive(Debug, ToSchema)]
pub struct BatchResponseBody {
    pub responses: Vec<BatchResponseItem>,
}

impl BatchResponseBody {
    /// `{"responses": [...]}`, each embedded JSON body copied in as it is.
    pub fn to_json_bytes(&self) -> serde_json::Result<Vec<u8>> {
        #[derive(Serialize)]
        struct Head<'a> {
            id: &'a str,
            status: u16,
            headers: &'a BTreeMap<String, String>,
        }
        // Room for every body and a little for ids and headers: one allocation.
        let capacity = self
            .responses
            .iter()
            .map(|item| match &item.body {
                Some(Embedded::Json(bytes)) => bytes.len() + 512,
                Some(Embedded::Text(text)) => text.len() + text.len() / 8 + 512,
                _ => 1024,
            })
            .sum::<usize>()
            + 32;
        let mut out = Vec::with_capacity(capacity);
        out.extend_from_slice(b"{\"responses\":[");
        for (at, item) in self.responses.iter().enumerate() {
            if at > 0 {
                out.push(b',');
            }
            serde_json::to_writer(
                &mut out,
                &Head {
                    id: &item.id,
                    status: item.status,
                    headers: &item.headers,
                },
            )?;
            if let Some(body) = &item.body {
                // Reopen the object the head closed, for its body.
                out.pop();
                out.extend_from_slice(b",\"body\":");
                body.write(&mut out)?;
                out.push(b'}');
            }
        }
        out.extend_from_slice(b"]}");
        Ok(out)
    }
}

/// A request of the batch, checked and ready to dispatch.
#[derive(Debug, Clone)]
pub struct SubRequest {
    pub id: String,
    pub method: Method,
    /// Path and query relative to the version root, starting with `/`.
    pub target: PathAndQuery,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Option<Bytes>,
    /// Positions in the plan of the requests this one waits for.
    pub depends_on: Vec<usize>,
}

/// Headers a sub-request cannot set: the batch decides who is calling and how
/// the connection looks, and the body's length is measured, not declared.
const RESERVED_HEADERS: [HeaderName; 5] = [
    header::AUTHORIZATION,
    header::HOST,
    header::CONTENT_LENGTH,
    header::TRANSFER_ENCODING,
    header::CONNECTION,
];

fn problem(
    code: &'static str,
    target: impl Into<String>,
    message: impl Into<String>,
) -> FieldProblem {
    FieldProblem {
        code,
        target: target.into(),
        message: message.into(),
    }
}

/// Reads and checks a batch body, or says everything that is wrong with it.
pub fn parse_batch(body: &Value) -> Result<Vec<SubRequest>, Vec<FieldProblem>> {
    let envelope: BatchRequestBody = serde_json::from_value(body.clone()).map_err(|e| {
        vec![problem(
            "invalidValue",
            "requests",
            format!("The batch body must be {{\"requests\": [...]}}: {e}"),
        )]
    })?;
    let count = envelope.requests.len();
    if !(1..=MAX_REQUESTS).contains(&count) {
        return Err(vec![problem(
            "invalidValue",
            "requests",
            format!("A batch holds 1 to {MAX_REQUESTS} requests; this one has {count}"),
        )]);
    }
    let mut problems = Vec::new();
    let mut items = Vec::with_capacity(count);
    for (index, raw) in envelope.requests.into_iter().enumerate() {
        match serde_json::from_value::<BatchRequestItem>(raw) {
            Ok(item) => items.push((index, item)),
            Err(e) => problems.push(problem(
                "invalidValue",
                format!("requests[{index}]"),
                e.to_string(),
            )),
        }
    }
    let mut positions = HashMap::new();
    for (index, item) in &items {
        if item.id.trim().is_empty() {
            problems.push(problem(
                "invalidValue",
                format!("requests[{index}].id"),
                "The id is empty",
            ));
        } else if positions.insert(item.id.clone(), *index).is_some() {
            problems.push(problem(
                "invalidValue",
                format!("requests[{index}].id"),
                format!("The id '{}' is used by more than one request", item.id),
            ));
        }
    }
    let mut plan = Vec::with_capacity(count);
    for (index, item) in items {
        match check_item(index, item, &positions) {
            Ok(request) => plan.push(request),
            Err(mut found) => problems.append(&mut found),
        }
    }
    if problems.is_empty() {
        if let Some(cycle) = find_cycle(&plan) {
            problems.push(problem(
                "invalidValue",
                "dependsOn",
                format!("dependsOn forms a cycle: {}", cycle.join(" -> ")),
            ));
        }
    }
    if problems.is_empty() {
        Ok(plan)
    } else {
        Err(problems)
    }
}

fn check_item(
    index: usize,
    item: BatchRequestItem,
    positions: &HashMap<String, usize>,
) -> Result<SubRequest, Vec<FieldProblem>> {
    let at = |field: &str| format!("requests[{index}].{field}");
    let mut problems = Vec::new();
    // Methods are tokens; Graph accepts them in any case.
    let method = Method::from_bytes(item.method.to_ascii_uppercase().as_bytes())
        .map_err(|_| {
            problems.push(problem(
                "invalidValue",
                at("method"),
                format!("'{}' is not an HTTP method", item.method),
            ))
        })
        .ok();
    let target = parse_target(&item.url)
        .map_err(|why| problems.push(problem("invalidValue", at("url"), why)))
        .ok();
    let mut headers = Vec::with_capacity(item.headers.len());
    let mut content_type = None;
    for (name, value) in &item.headers {
        let parsed = HeaderName::from_bytes(name.as_bytes())
            .ok()
            .zip(HeaderValue::from_str(value).ok());
        match parsed {
            None => problems.push(problem(
                "invalidValue",
                at("headers"),
                format!("'{name}: {value}' is not a valid header"),
            )),
            Some((name, _)) if RESERVED_HEADERS.contains(&name) => {}
            Some((name, value)) => {
                if name == header::CONTENT_TYPE {
                    content_type = Some(value.to_str().unwrap_or_default().to_owned());
                }
                headers.push((name, value));
            }
        }
    }
    let body = match (item.body, content_type) {
        (None | Some(Value::Null), _) => None,
        (Some(_), None) => {
            problems.push(problem(
                "missingProperty",
                at("headers"),
                "A request with a body needs a Content-Type header",
            ));
            None
        }
        (Some(body), Some(content_type)) => encode_body(body, &content_type)
            .map_err(|why| problems.push(problem("invalidValue", at("body"), why)))
            .ok(),
    };
    let mut depends_on = Vec::new();
    for dependency in item.depends_on.unwrap_or_default() {
        match positions.get(&dependency) {
            Some(_) if dependency == item.id => problems.push(problem(
                "invalidValue",
                at("dependsOn"),
                "A request cannot depend on itself",
            )),
            Some(&position) if !depends_on.contains(&position) => depends_on.push(position),
            Some(_) => {}
            None => problems.push(problem(
                "invalidValue",
                at("dependsOn"),
                format!("No request in the batch has the id '{dependency}'"),
            )),
        }
    }
    match (method, target) {
        (Some(method), Some(target)) if problems.is_empty() => Ok(SubRequest {
            id: item.id,
            method,
            target,
            headers,
            body,
            depends_on,
        }),
        _ => Err(problems),
    }
}

/// The sub-request's path and query, relative to the version root.
fn parse_target(url: &str) -> Result<PathAndQuery, String> {
    if url.trim().is_empty() {
        return Err("The url is empty".into());
    }
    if url.contains("://") || url.starts_with("//") {
        return Err(format!(
            "'{url}' is absolute; a batch url is relative to the version root, e.g. /reports/teamsDeviceUsageDistributionUserCounts"
        ));
    }
    let relative = if url.starts_with('/') {
        url.to_owned()
    } else {
        format!("/{url}")
    };
    let target = PathAndQuery::try_from(percent_encode_unsafe(&relative))
        .map_err(|e| format!("'{url}' is not a valid URL: {e}"))?;
    let last_segment = target
        .path()
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    if ["$batch", "%24batch"]
        .iter()
        .any(|b| last_segment.eq_ignore_ascii_case(b))
    {
        return Err("A batch cannot contain a $batch request".into());
    }
    Ok(target)
}

/// Batch urls are JSON strings, and clients write them as they would type them
/// (`$filter=web gt 5`); on the wire those characters are percent-encoded:
/// controls, space, non-ASCII, and what RFC 3986 never allows in a URI.
const UNSAFE_IN_URI: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'<')
    .add(b'>')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}')
    .add(b'#');

fn percent_encode_unsafe(url: &str) -> String {
    utf8_percent_encode(url, UNSAFE_IN_URI).to_string()
}

/// The bytes a body stands for: JSON as JSON, anything else base64-encoded (Graph's rule).
fn encode_body(body: Value, content_type: &str) -> Result<Bytes, String> {
    if is_json_content_type(content_type) {
        return Ok(Bytes::from(body.to_string()));
    }
    let Value::String(encoded) = body else {
        return Err(format!(
            "With Content-Type {content_type} the body must be a base64 string"
        ));
    };
    let engines = [
        &base64::engine::general_purpose::STANDARD,
        &base64::engine::general_purpose::URL_SAFE,
        &base64::engine::general_purpose::STANDARD_NO_PAD,
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ];
    engines
        .iter()
        .find_map(|engine| engine.decode(&encoded).ok())
        .map(Bytes::from)
        .ok_or_else(|| format!("With Content-Type {content_type} the body must be a base64 string"))
}

/// A dependency cycle, as the ids along it, if there is one.
fn find_cycle(plan: &[SubRequest]) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    fn visit(
        at: usize,
        plan: &[SubRequest],
        marks: &mut [Mark],
        path: &mut Vec<usize>,
    ) -> Option<Vec<String>> {
        marks[at] = Mark::OnPath;
        path.push(at);
        for &next in &plan[at].depends_on {
            match marks[next] {
                Mark::OnPath => {
                    let start = path.iter().position(|&p| p == next).unwrap_or(0);
                    let mut ids: Vec<String> =
                        path[start..].iter().map(|&p| plan[p].id.clone()).collect();
                    ids.push(plan[next].id.clone());
                    return Some(ids);
                }
                Mark::New => {
                    if let Some(cycle) = visit(next, plan, marks, path) {
                        return Some(cycle);
                    }
                }
                Mark::Done => {}
            }
        }
        path.pop();
        marks[at] = Mark::Done;
        None
    }
    let mut marks = vec![Mark::New; plan.len()];
    (0..plan.len()).find_map(|start| {
        if marks[start] == Mark::New {
            visit(start, plan, &mut marks, &mut Vec::new())
        } else {
            None
        }
    })
}
