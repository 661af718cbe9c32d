//! The client assertion of certificate credentials: a JWT signed RS256 with
//! the certificate's private key, naming the certificate by its SHA-1
//! thumbprint (`x5t`), as Entra ID requires.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use sha1::{Digest, Sha1};

use super::CollectError;
use crate::domain::Secret;

/// Entra ID accepts an assertion for at most ten minutes.
const LIFETIME_SECONDS: i64 = 600;

pub fn client_assertion(
    client_id: &str,
    token_url: &str,
    certificate_pem: &str,
    private_key_pem: &Secret,
) -> Result<Secret, CollectError> {
    let mut header = Header::new(Algorithm::RS256);
    header.x5t = Some(thumbprint(certificate_pem)?);
    let now = chrono::Utc::now().timestamp();
    let claims = serde_json::json!({
        "aud": token_url,
        "iss": client_id,
        "sub": client_id,
        "jti": uuid::Uuid::new_v4().to_string(),
        "nbf": now,
        "iat": now,
        "exp": now + LIFETIME_SECONDS,
    });
    // The key's own error could quote it: say only what was wrong.
    let key = EncodingKey::from_rsa_pem(private_key_pem.expose().as_bytes()).map_err(|_| {
        CollectError::BadCredentials("the private key is not an RSA key in PEM form".into())
    })?;
    jsonwebtoken::encode(&header, &claims, &key)
        .map(Secret::new)
        .map_err(|_| CollectError::BadCredentials("cannot sign the client assertion".into()))
}

/// base64url(SHA-1(the certificate's DER bytes)).
pub fn thumbprint(certificate_pem: &str) -> Result<String, CollectError> {
    let bad = || {
        CollectError::BadCredentials(
            "the certificate is not a PEM certificate (-----BEGIN CERTIFICATE-----)".into(),
        )
    };
    let start = certificate_pem
        .find("-----BEGIN CERTIFICATE-----")
        .ok_or_else(bad)?
        + "-----BEGIN CERTIFICATE-----".len();
    let end = certificate_pem[start..]
        .find("-----END CERTIFICATE-----")
        .ok_or_else(bad)?
        + start;
    let body: String = certificate_pem[start..end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let der = STANDARD.decode(body).map_err(|_| bad())?;
    Ok(URL_SAFE_NO_PAD.encode(Sha1::digest(der)))
}
