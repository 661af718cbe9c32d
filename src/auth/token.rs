//! Bearer tokens: random secrets shown once, stored only as hashes.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::domain::TenantId;

/// Every secret starts with this, so leaked tokens are easy to find and scan for.
const SECRET_PREFIX: &str = "tus_";

/// A Graph permission this service checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// Read rows and reports.
    ReportsRead,
    /// Read and write rows.
    ReportsReadWrite,
}

impl Scope {
    pub fn name(self) -> &'static str {
        match self {
            Self::ReportsRead => "Reports.Read.All",
            Self::ReportsReadWrite => "Reports.ReadWrite.All",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [Self::ReportsRead, Self::ReportsReadWrite]
            .into_iter()
            .find(|s| s.name() == name)
    }
}

/// The scopes a token carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scopes(Vec<Scope>);

impl Scopes {
    pub fn new(mut scopes: Vec<Scope>) -> Self {
        scopes.sort();
        scopes.dedup();
        Self(scopes)
    }

    /// Space-separated scope names, as OAuth writes them.
    pub fn parse(text: &str) -> Result<Self, String> {
        let scopes = text
            .split([' ', ','])
            .filter(|s| !s.is_empty())
            .map(|name| {
                Scope::parse(name).ok_or_else(|| {
                    format!(
                        "unknown scope {name:?} (known: Reports.Read.All, Reports.ReadWrite.All)"
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if scopes.is_empty() {
            return Err("a token needs at least one scope".into());
        }
        Ok(Self::new(scopes))
    }

    /// ReadWrite includes Read, as in Graph.
    pub fn allows(&self, needed: Scope) -> bool {
        self.0
            .iter()
            .any(|&s| s == needed || s == Scope::ReportsReadWrite)
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<_> = self.0.iter().map(|s| s.name()).collect();
        f.write_str(&names.join(" "))
    }
}

/// A token as the database keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredToken {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub name: String,
    pub scopes: Scopes,
    pub token_hash: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Why a stored token does not authenticate now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRejection {
    Revoked,
    Expired,
}

impl StoredToken {
    pub fn check_usable(&self, now: DateTime<Utc>) -> Result<(), TokenRejection> {
        if self.revoked_at.is_some() {
            return Err(TokenRejection::Revoked);
        }
        if self.expires_at.is_some_and(|at| at <= now) {
            return Err(TokenRejection::Expired);
        }
        Ok(())
    }
}

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
        name,
        scopes,
        token_hash: hash_secret(&secret),
        created_at: crate::domain::truncate_to_micros(now),
        expires_at: expires_at.map(crate::domain::truncate_to_micros),
        revoked_at: None,
    };
    IssuedToken { secret, stored }
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

    #[test]
    fn read_write_includes_read() {
        let rw = Scopes::parse("Reports.ReadWrite.All").unwrap();
        assert!(rw.allows(Scope::ReportsRead) && rw.allows(Scope::ReportsReadWrite));
        let ro = Scopes::parse("Reports.Read.All").unwrap();
        assert!(ro.allows(Scope::ReportsRead) && !ro.allows(Scope::ReportsReadWrite));
    }

    #[test]
    fn scopes_parse_and_print() {
        let both = Scopes::parse("Reports.ReadWrite.All Reports.Read.All").unwrap();
        assert_eq!(both.to_string(), "Reports.Read.All Reports.ReadWrite.All");
        assert!(Scopes::parse("").is_err());
        assert!(Scopes::parse("User.Read").is_err());
    }

    #[test]
    fn revoked_and_expired_tokens_are_unusable() {
        let now = Utc::now();
        let mut t = token("Reports.Read.All").stored;
        assert_eq!(t.check_usable(now), Ok(()));
        t.expires_at = Some(now);
        assert_eq!(t.check_usable(now), Err(TokenRejection::Expired));
        t.expires_at = None;
        t.revoked_at = Some(now);
        assert_eq!(t.check_usable(now), Err(TokenRejection::Revoked));
    }
}
