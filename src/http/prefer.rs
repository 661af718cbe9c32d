//! The `Prefer` request header (RFC 7240).

use actix_web::HttpRequest;

/// True when `Prefer` asks for `return=representation` (among other preferences).
pub fn prefers_representation(request: &HttpRequest) -> bool {
    request
        .headers()
        .get_all("prefer")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|preference| preference.split(';').next())
        .any(|preference| {
            preference.split_once('=').is_some_and(|(name, value)| {
                name.trim().eq_ignore_ascii_case("return")
                    && value
                        .trim()
                        .trim_matches('"')
                        .eq_ignore_ascii_case("representation")
            })
        })
}
