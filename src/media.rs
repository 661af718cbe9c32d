//! Graph's JSON media types and OData's `IEEE754Compatible` parameter.

pub const JSON_CONTENT_TYPE: &str =
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";
pub const JSON_CONTENT_TYPE_IEEE754: &str =
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=true;charset=utf-8";

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
