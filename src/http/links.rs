//! URLs written into answers: they use the configured public base URL, else the
//! scheme and host the request came in with (`origin`), and the version prefix it used.

use actix_web::HttpRequest;

use super::origin::origin;

/// `https://host/v1.0` for the request: links use the prefix the request used.
pub fn service_root(request: &HttpRequest) -> String {
    let version = request
        .path()
        .split('/')
        .nth(1)
        .map_or(String::new(), |v| format!("/{v}"));
    format!("{}{version}", origin(request))
}

/// The request's own URL with every option kept as the client spelled it, except
/// `$skip` (the token already starts after the skipped rows) and the old `$skiptoken`.
pub fn next_link(request: &HttpRequest, skiptoken: &str) -> String {
    // Percent-encoded, with spaces as %20 rather than the form encoding's `+`.
    let encode = |text: &str| -> String {
        url::form_urlencoded::byte_serialize(text.as_bytes())
            .collect::<String>()
            .replace('+', "%20")
    };
    let mut pairs: Vec<String> = url::form_urlencoded::parse(request.query_string().as_bytes())
        .filter(|(name, _)| {
            !name.eq_ignore_ascii_case("$skiptoken") && !name.eq_ignore_ascii_case("$skip")
        })
        // Names were checked to be `$` and letters: they need no encoding.
        .map(|(name, value)| format!("{name}={}", encode(&value)))
        .collect();
    pairs.push(format!("$skiptoken={}", encode(skiptoken)));
    format!("{}{}?{}", origin(request), request.path(), pairs.join("&"))
}
