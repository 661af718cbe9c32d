//! Whose data a row is: the tenant named by the caller's token.

use std::fmt;

/// A tenant id: an Entra tenant id or any short name (`default` for a
/// single-organisation install). Letters, digits, `-`, `_` and `.`, at most 64.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(String);

impl TenantId {
    pub const MAX_LEN: usize = 64;

    pub fn parse(value: &str) -> Result<Self, String> {
        if value.is_empty() || value.len() > Self::MAX_LEN {
            return Err(format!(
                "a tenant id has 1 to {} characters, got {}",
                Self::MAX_LEN,
                value.len()
            ));
        }
        if let Some(c) = value
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        {
            return Err(format!(
                "a tenant id holds only letters, digits, '-', '_' and '.', got {c:?}"
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_names_and_guids() {
        assert!(TenantId::parse("default").is_ok());
        assert!(TenantId::parse("72f988bf-86f1-41af-91ab-2d7cd011db47").is_ok());
        assert!(TenantId::parse("contoso.onmicrosoft.com").is_ok());
    }

    #[test]
    fn refuses_empty_long_and_odd_characters() {
        assert!(TenantId::parse("").is_err());
        assert!(TenantId::parse(&"a".repeat(65)).is_err());
        assert!(TenantId::parse("a b").is_err());
        assert!(TenantId::parse("a'b").is_err());
    }
}
