//! Issuing bearer tokens: random secrets shown once, stored only as hashes.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::domain::{Scopes, StoredToken, TenantId, TokenReach};

/// Every secret starts with this, so leaked tokens are easy to find and scan for.
const SECRET_PREFIX: &str = "tus_";

/// A newly minted token: the secret (shown once) and what gets stored.
pub struct IssuedToken {
    pub secret: String,
    pub stored: StoredToken,
}

/// Mints a token with 256 random bits.
pub fn issue_token(
    tenant_id: TenantId,
    name: String,
    scopes: Scopes,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> IssuedToken {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = format!("{SECRET_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let stored = StoredToken {
        id: Uuid::now_v7(),
        tenant_id,
        reach: TokenReach::Tenant,
        name,
        scopes,
        token_hash: hash_secret(&secret),
        created_at: crate::domain::truncate_to_micros(now),
        expires_at: expires_at.map(crate::domain::truncate_to_micros),
        revoked_at: None,
    };
    IssuedToken { secret, stored }
}

impl IssuedToken {
    /// The same token, reaching `reach`.
    pub fn reaching(mut self, reach: TokenReach) -> Self {
        self.stored.reach = reach;
        self
    }
}

/// SHA-256, hex. The secret has 256 bits of entropy, so a fast hash is enough:
/// there is nothing to brute-force, and lookup by hash is a plain index probe.
pub fn hash_secret(secret: &str) -> String {
    // One formatting pass, not one `format!` (and one String) per byte: every
    // request hashes its token.
    format!("{:x}", Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(scopes: &str) -> IssuedToken {
        issue_token(
            TenantId::parse("t").unwrap(),
            "n".into(),
            Scopes::parse(scopes).unwrap(),
            None,
            Utc::now(),
        )
    }

    #[test]
    fn a_secret_is_stored_as_its_sha256_in_lowercase_hex() {
        // Tokens already issued are found by this text: its form must not change.
        assert_eq!(
            hash_secret("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn secrets_are_random_and_stored_only_as_hash() {
        let a = token("Reports.Read.All");
        let b = token("Reports.Read.All");
        assert_ne!(a.secret, b.secret);
        assert!(a.secret.starts_with("tus_") && a.secret.len() == 4 + 43);
        assert_eq!(a.stored.token_hash, hash_secret(&a.secret));
        assert!(!a.stored.token_hash.contains(&a.secret[4..]));
        assert_eq!(a.stored.token_hash.len(), 64);
    }
}
