//! Reading media types: JSON in its forms, and OData's `IEEE754Compatible`
//! parameter (the types answers are written with are `Int64Format`'s).

use mime::Mime;

/// How a media type carries JSON, if it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonMediaType {
    /// `application/json` itself: the only type request bodies may have.
    ApplicationJson,
    /// A `+json` structured suffix, such as `application/problem+json`.
    JsonSuffix,
}

/// The JSON-ness of `media_type`, ignoring case and parameters.
pub fn json_media_type(media_type: &Mime) -> Option<JsonMediaType> {
    if media_type.essence_str() == mime::APPLICATION_JSON.essence_str() {
        Some(JsonMediaType::ApplicationJson)
    } else if media_type.suffix() == Some(mime::JSON) {
        Some(JsonMediaType::JsonSuffix)
    } else {
        None
    }
}

/// True when a Content-Type value names JSON in any form. Only the essence is
/// read, so a malformed parameter does not hide the type.
pub fn is_json_content_type(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    essence
        .parse::<Mime>()
        .is_ok_and(|media_type| json_media_type(&media_type).is_some())
}

/// True when a media type's parameters carry `IEEE754Compatible=true`
/// (a Content-Type, or any entry of an Accept list).
pub fn ieee754_requested(media_type: &str) -> bool {
    media_type.split([';', ',']).any(|part| {
        part.split_once('=').is_some_and(|(k, v)| {
            k.trim().eq_ignore_ascii_case("IEEE754Compatible")
                && v.trim().eq_ignore_ascii_case("true")
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_application_json_or_a_json_suffix() {
        for json in [
            "application/json",
            "Application/JSON; charset=utf-8",
            "application/problem+json",
            "application/json; odata.metadata",
        ] {
            assert!(is_json_content_type(json), "{json}");
        }
        for other in ["text/json", "application/jsonx", "text/plain", "json", ""] {
            assert!(!is_json_content_type(other), "{other}");
        }
    }

    #[test]
    fn ieee754_parameter_is_found_in_any_case() {
        assert!(ieee754_requested("application/json;IEEE754Compatible=true"));
        assert!(ieee754_requested(
            "application/json; ieee754compatible=TRUE; charset=utf-8"
        ));
        assert!(!ieee754_requested(
            "application/json;IEEE754Compatible=false"
        ));
        assert!(!ieee754_requested("application/json"));
    }
}
