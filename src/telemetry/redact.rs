//! What a log line may say about a request: never a credential, wherever the
//! client put it.

use std::borrow::Cow;

use actix_web::http::Uri;

/// Query parameters that carry credentials by convention (OAuth, signed URLs,
/// API keys); matched without regard to case.
const CREDENTIAL_PARAMETERS: [&str; 14] = [
    "access_token",
    "token",
    "refresh_token",
    "id_token",
    "code",
    "client_secret",
    "client_assertion",
    "assertion",
    "password",
    "secret",
    "api_key",
    "apikey",
    "key",
    "sig",
];

pub const REDACTED: &str = "REDACTED";

/// The request target with the value of every credential parameter replaced.
pub fn redacted_target(uri: &Uri) -> Cow<'_, str> {
    let Some(query) = uri.query() else {
        return Cow::Borrowed(uri.path());
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| {
            let (name, _) = pair.split_once('=').unwrap_or((pair, ""));
            if is_credential(name) {
                format!("{name}={REDACTED}")
            } else {
                pair.to_owned()
            }
        })
        .collect();
    Cow::Owned(format!("{}?{}", uri.path(), pairs.join("&")))
}

/// A name as sent may be percent-encoded (`access%5Ftoken`): decoded before matching.
fn is_credential(name: &str) -> bool {
    let decoded: String = url::form_urlencoded::parse(name.as_bytes())
        .map(|(n, _)| n.into_owned())
        .collect();
    CREDENTIAL_PARAMETERS
        .iter()
        .any(|c| decoded.trim().eq_ignore_ascii_case(c))
}

/// An `Authorization` header as a log may show it: the scheme only.
pub fn redacted_authorization(value: &str) -> String {
    match value.split_once(' ') {
        Some((scheme, _)) => format!("{scheme} {REDACTED}"),
        None => REDACTED.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(uri: &str) -> String {
        redacted_target(&uri.parse().unwrap()).into_owned()
    }

    #[test]
    fn credential_parameters_lose_their_values_and_nothing_else_does() {
        assert_eq!(target("/v1.0/x"), "/v1.0/x");
        assert_eq!(
            target("/x?$top=1&access_token=s3cret&Code=abc&$filter=web%20eq%201"),
            "/x?$top=1&access_token=REDACTED&Code=REDACTED&$filter=web%20eq%201"
        );
        assert_eq!(
            target("/x?access%5Ftoken=s3cret"),
            "/x?access%5Ftoken=REDACTED"
        );
        assert_eq!(target("/x?token"), "/x?token=REDACTED");
    }

    #[test]
    fn authorization_keeps_only_its_scheme() {
        assert_eq!(redacted_authorization("Bearer tus_abc"), "Bearer REDACTED");
        assert_eq!(redacted_authorization("tus_abc"), "REDACTED");
    }
}
