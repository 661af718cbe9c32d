//! Graph's wire conventions shared by every route: the JSON body a request
//! carries, and the JSON content type a response is written with.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use actix_web::http::header;
use actix_web::{dev::Payload, web, FromRequest, HttpMessage, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde_json::Value;
use tokio::sync::Notify;

use crate::domain::{JsonStyle, NumberFormat};
use crate::error::ApiError;
use crate::media::{ieee754_requested, JSON_CONTENT_TYPE, JSON_CONTENT_TYPE_IEEE754};

/// The largest body a route accepts; set per scope as app data.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// How the client asked responses to be written (the Accept header).
pub fn response_style(request: &HttpRequest) -> JsonStyle {
    let accept = request
        .headers()
        .get_all(header::ACCEPT)
        .filter_map(|v| v.to_str().ok())
        .any(ieee754_requested);
    JsonStyle {
        ieee754_compatible: accept,
    }
}

/// A JSON response with Graph's content type.
pub fn json_response(
    mut builder: actix_web::HttpResponseBuilder,
    style: JsonStyle,
    body: &impl serde::Serialize,
) -> HttpResponse {
    builder
        .insert_header((
            header::CONTENT_TYPE,
            if style.ieee754_compatible {
                JSON_CONTENT_TYPE_IEEE754
            } else {
                JSON_CONTENT_TYPE
            },
        ))
        // Straight into bytes: `to_string` goes through `fmt::Display`, a
        // formatter call for every token of the text.
        .body(serde_json::to_vec(body).expect("answers serialize: every map key is text"))
}

/// Holds a request's body back until its caller is authenticated. actix polls a
/// handler's extractors together, so without this a body could be read and
/// judged (400, 413, 415) for a caller whose token turns out invalid: a caller
/// without a valid token gets 401 whatever it sends, and its body is never read.
#[derive(Clone, Default)]
pub struct AuthenticationGate(Rc<GateState>);

#[derive(Default)]
struct GateState {
    open: Cell<bool>,
    opened: Notify,
}

impl AuthenticationGate {
    /// Closes the gate for `request`'s body while its caller is being authenticated.
    pub fn close(request: &HttpRequest) -> Self {
        let gate = Self::default();
        request.extensions_mut().insert(gate.clone());
        gate
    }

    /// Authentication has ended (either way): the body may be read.
    pub fn open(&self) {
        self.0.open.set(true);
        self.0.opened.notify_waiters();
    }

    async fn opened(self) {
        loop {
            // Registered before the check, so an `open` in between is not missed.
            let opened = self.0.opened.notified();
            if self.0.open.get() {
                return;
            }
            opened.await;
        }
    }
}

/// A request body that is JSON: `Content-Type: application/json`, UTF-8,
/// within the size limit, well-formed. Each failure is a Graph error.
pub struct JsonBody {
    pub value: Value,
    pub format: NumberFormat,
}

impl JsonBody {
    fn check_content_type(request: &HttpRequest) -> Result<NumberFormat, ApiError> {
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .ok_or_else(|| {
                ApiError::UnsupportedMediaType("Content-Type must be application/json".into())
            })?
            .to_str()
            .map_err(|_| {
                ApiError::UnsupportedMediaType("Content-Type must be application/json".into())
            })?;
        let mime: mime::Mime = content_type.parse().map_err(|_| {
            ApiError::UnsupportedMediaType(format!(
                "Content-Type {content_type:?} is not a media type; use application/json"
            ))
        })?;
        if mime.essence_str() != "application/json" {
            return Err(ApiError::UnsupportedMediaType(format!(
                "Content-Type {} is not supported; use application/json",
                mime.essence_str()
            )));
        }
        if let Some(charset) = mime.get_param(mime::CHARSET) {
            if !charset.as_str().eq_ignore_ascii_case("utf-8") {
                return Err(ApiError::UnsupportedMediaType(format!(
                    "charset {charset} is not supported; JSON bodies are UTF-8"
                )));
            }
        }
        Ok(NumberFormat {
            ieee754_compatible: ieee754_requested(content_type),
        })
    }

    pub fn parse(bytes: &[u8], format: NumberFormat) -> Result<Self, ApiError> {
        if let Err(e) = std::str::from_utf8(bytes) {
            return Err(ApiError::bad_request(format!(
                "The request body is not valid UTF-8 (at byte {})",
                e.valid_up_to()
            )));
        }
        let UniqueKeys(value) = serde_json::from_slice(bytes).map_err(|e| {
            ApiError::bad_request(format!("The request body is not valid JSON: {e}"))
        })?;
        Ok(Self { value, format })
    }
}

/// A JSON value in which no object names a property twice. serde_json keeps
/// the last of duplicates silently; OData calls such a body malformed, and a
/// row whose `web` is both -1 and 3 should not be stored as either.
struct UniqueKeys(Value);

impl<'de> serde::Deserialize<'de> for UniqueKeys {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(UniqueKeysVisitor)
            .map(UniqueKeys)
    }
}

struct UniqueKeysVisitor;

impl<'de> serde::de::Visitor<'de> for UniqueKeysVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let UniqueKeys(value) = map.next_value()?;
            match object.entry(key) {
                serde_json::map::Entry::Vacant(vacant) => {
                    vacant.insert(value);
                }
                serde_json::map::Entry::Occupied(taken) => {
                    return Err(serde::de::Error::custom(format!(
                        "the property '{}' appears twice",
                        taken.key()
                    )));
                }
            }
        }
        Ok(Value::Object(object))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(UniqueKeys(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
}

impl FromRequest for JsonBody {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = request
            .app_data::<BodyLimit>()
            .or_else(|| {
                request
                    .app_data::<web::Data<BodyLimit>>()
                    .map(|d| d.get_ref())
            })
            .map_or(64 * 1024, |l| l.0);
        let format = Self::check_content_type(request);
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        let gate = request.extensions().get::<AuthenticationGate>().cloned();
        Box::pin(async move {
            if let Some(gate) = gate {
                gate.opened().await;
            }
            let format = format?;
            if declared.is_some_and(|n| n > limit) {
                return Err(ApiError::PayloadTooLarge { limit });
            }
            let mut body = web::BytesMut::with_capacity(declared.unwrap_or(1024).min(limit));
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| {
                    ApiError::bad_request(format!("The request body could not be read: {e}"))
                })?;
                if body.len() + chunk.len() > limit {
                    return Err(ApiError::PayloadTooLarge { limit });
                }
                body.extend_from_slice(&chunk);
            }
            Self::parse(&body, format)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_property_named_twice_is_malformed() {
        assert!(JsonBody::parse(br#"{"web": -1, "web": 3}"#, NumberFormat::default()).is_err());
        assert!(JsonBody::parse(br#"{"a": {"b": 1, "b": 2}}"#, NumberFormat::default()).is_err());
        let body = JsonBody::parse(
            br#"{"web": 3, "ios": [1, 2.5, "x", null, true]}"#,
            NumberFormat::default(),
        )
        .unwrap();
        assert_eq!(body.value["web"], 3);
        assert_eq!(body.value["ios"][1], 2.5);
    }

    #[test]
    fn bodies_must_be_utf8_json() {
        assert!(JsonBody::parse(b"{\"a\":1}", NumberFormat::default()).is_ok());
        assert!(JsonBody::parse(b"{\"a\":", NumberFormat::default()).is_err());
        assert!(JsonBody::parse(b"{\"a\":\"\xff\"}", NumberFormat::default()).is_err());
        assert!(JsonBody::parse(b"", NumberFormat::default()).is_err());
    }
}
