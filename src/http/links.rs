//! URLs written into answers: they use the scheme, host and version prefix the
//! request came in with.

use actix_web::HttpRequest;

/// `https://host/v1.0` for the request: links use the prefix the request used.
pub fn service_root(request: &HttpRequest) -> String {
    let info = request.connection_info();
    let version = request
        .path()
        .split('/')
        .nth(1)
        .map_or(String::new(), |v| format!("/{v}"));
    format!("{}://{}{version}", info.scheme(), info.host())
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
    let info = request.connection_info();
    format!(
        "{}://{}{}?{}",
        info.scheme(),
        info.host(),
        request.path(),
        pairs.join("&")
    )
}
