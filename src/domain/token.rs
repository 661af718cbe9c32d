//! Bearer tokens as the service keeps them: scopes, the stored record, and
//! whether it may authenticate now. Issuing and hashing secrets is `auth`'s.

use std::fmt;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::TenantId;

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

/// Which tenants' rows a token reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokenReach {
    /// Its own tenant's, read and written as its scopes say.
    #[default]
    Tenant,
    /// Every tenant's, for reading: an operator's token, which names the
    /// tenant on each request. It writes only its own tenant, and only when
    /// its scopes say so.
    AllTenants,
}

impl TokenReach {
    /// As the database and `token list` spell it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Tenant => "tenant",
            Self::AllTenants => "allTenants",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [Self::Tenant, Self::AllTenants]
            .into_iter()
            .find(|reach| reach.name() == name)
    }
}

/// A token as the database keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredToken {
    pub id: Uuid,
    /// The token's own tenant: the only one it reads unless it reaches all of them.
    pub tenant_id: TenantId,
    pub reach: TokenReach,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn token(scopes: &str) -> StoredToken {
        StoredToken {
            id: Uuid::nil(),
            tenant_id: TenantId::parse("t").unwrap(),
            reach: TokenReach::Tenant,
            name: "n".into(),
            scopes: Scopes::parse(scopes).unwrap(),
            token_hash: String::new(),
            created_at: Utc::now(),
            expires_at: None,
            revoked_at: None,
        }
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
    fn reaches_are_spelled_once() {
        for reach in [TokenReach::Tenant, TokenReach::AllTenants] {
            assert_eq!(TokenReach::parse(reach.name()), Some(reach));
        }
        assert_eq!(TokenReach::parse("all"), None);
    }

    #[test]
    fn revoked_and_expired_tokens_are_unusable() {
        let now = Utc::now();
        let mut t = token("Reports.Read.All");
        assert_eq!(t.check_usable(now), Ok(()));
        t.expires_at = Some(now);
        assert_eq!(t.check_usable(now), Err(TokenRejection::Expired));
        t.expires_at = None;
        t.revoked_at = Some(now);
        assert_eq!(t.check_usable(now), Err(TokenRejection::Revoked));
    }
}
