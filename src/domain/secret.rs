//! A secret value (a password, a client secret, a private key): usable,
//! never printed. Here, beside the other plain types, so rooms that must not
//! depend on `config` (the collector) hold secrets the same way.

use std::fmt;

/// A secret setting: usable, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(REDACTED)")
    }
}
