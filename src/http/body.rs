//! The JSON body a request carries: read within the size limit once its caller
//! is authenticated, checked to be UTF-8 JSON with no property named twice.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use actix_web::http::header;
use actix_web::{dev::Payload, web, FromRequest, HttpMessage, HttpRequest};
use futures_util::StreamExt;
use serde_json::Value;

use super::caller::BodyScopes;
use super::gate::AuthenticationGate;
use super::media::{ieee754_requested, json_media_type, JsonMediaType};
use crate::auth::Scope;
use crate::domain::Int64Format;
use crate::error::ApiError;

/// The largest body a route accepts; set per scope as app data.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// The longest a whole body may take to arrive (`BODY_READ_TIMEOUT_SECONDS`):
/// past it the request gets 408 and its connection is closed.
#[derive(Debug, Clone, Copy)]
pub struct BodyDeadline(pub Duration);

/// The scope without which a route's body is not even read (set on the resource):
/// a caller who may not write hears 403 at once, whatever it sends or withholds.
#[derive(Debug, Clone, Copy)]
pub struct BodyScope(pub Scope);

/// A request body that is JSON: `Content-Type: application/json`, UTF-8,
/// within the size limit, well-formed. Each failure is a Graph error.
pub struct JsonBody {
    pub value: Value,
    pub format: Int64Format,
}

impl JsonBody {
    fn check_content_type(request: &HttpRequest) -> Result<Int64Format, ApiError> {
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
        if json_media_type(&mime) != Some(JsonMediaType::ApplicationJson) {
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
        Ok(Int64Format {
            ieee754_compatible: ieee754_requested(content_type),
        })
    }

    pub fn parse(bytes: &[u8], format: Int64Format) -> Result<Self, ApiError> {
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
        let deadline = request
            .app_data::<BodyDeadline>()
            .map_or(Duration::from_secs(10), |d| d.0);
        let scope = request.app_data::<BodyScope>().map(|s| s.0);
        let request = request.clone();
        Box::pin(async move {
            if let Some(gate) = gate {
                gate.opened().await;
                // The caller's answer (401, 403) does not depend on the body: leave it unread.
                let allowed = request
                    .extensions()
                    .get::<BodyScopes>()
                    .is_some_and(|caller| scope.is_none_or(|s| caller.0.allows(s)));
                if !allowed {
                    return Err(ApiError::AccessDenied("the body was not read".into()));
                }
            }
            let format = format?;
            if declared.is_some_and(|n| n > limit) {
                return Err(ApiError::PayloadTooLarge { limit });
            }
            let read = async {
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
                Ok(body)
            };
            let body = tokio::time::timeout(deadline, read).await.map_err(|_| {
                ApiError::RequestTimeout(format!(
                    "The request body did not arrive within {} seconds",
                    deadline.as_secs_f64()
                ))
            })??;
            Self::parse(&body, format)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_property_named_twice_is_malformed() {
        assert!(JsonBody::parse(br#"{"web": -1, "web": 3}"#, Int64Format::default()).is_err());
        assert!(JsonBody::parse(br#"{"a": {"b": 1, "b": 2}}"#, Int64Format::default()).is_err());
        let body = JsonBody::parse(
            br#"{"web": 3, "ios": [1, 2.5, "x", null, true]}"#,
            Int64Format::default(),
        )
        .unwrap();
        assert_eq!(body.value["web"], 3);
        assert_eq!(body.value["ios"][1], 2.5);
    }

    #[test]
    fn bodies_must_be_utf8_json() {
        assert!(JsonBody::parse(b"{\"a\":1}", Int64Format::default()).is_ok());
        assert!(JsonBody::parse(b"{\"a\":", Int64Format::default()).is_err());
        assert!(JsonBody::parse(b"{\"a\":\"\xff\"}", Int64Format::default()).is_err());
        assert!(JsonBody::parse(b"", Int64Format::default()).is_err());
    }
}
