//! Tokens recently read from the database, kept in memory for a short while so
//! that authenticating a request costs no query.
//!
//! The bound on staleness is the TTL: a token revoked (by the CLI, or on another
//! replica) stops working within `ttl` everywhere. Expiry needs no such bound:
//! the cached token carries its expiry time, checked on every request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::StoredToken;
use crate::storage::{Store, StoreResult};

/// The token stored under `token_hash`: from `cache` when it holds it, else
/// from the database (and then remembered).
pub async fn find_token(
    cache: &TokenCache,
    store: &dyn Store,
    token_hash: &str,
) -> StoreResult<Option<Arc<StoredToken>>> {
    if let Some(token) = cache.get(token_hash) {
        return Ok(Some(token));
    }
    if cache.known_unknown(token_hash) {
        return Ok(None);
    }
    let token = store.find_token(token_hash).await?.map(Arc::new);
    match &token {
        Some(token) => cache.insert(token.clone()),
        None => cache.insert_unknown(token_hash),
    }
    Ok(token)
}

/// Verified-token cache, keyed by the token's hash (never by its secret).
pub struct TokenCache {
    ttl: Duration,
    capacity: usize,
    entries: Mutex<HashMap<String, (Instant, Arc<StoredToken>)>>,
    /// Hashes no token has, read a moment ago: a repeated bad token costs no
    /// query. Safe to remember: a secret cannot be presented before it exists.
    unknown: Mutex<HashMap<String, Instant>>,
}

/// How long an unknown hash is remembered: brief, it only absorbs repeats.
const UNKNOWN_TTL: Duration = Duration::from_secs(2);

impl TokenCache {
    /// A zero `ttl` caches nothing: every request reads the database.
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            capacity,
            entries: Mutex::new(HashMap::new()),
            unknown: Mutex::new(HashMap::new()),
        }
    }

    /// True when `token_hash` was looked up and found absent less than a moment ago.
    pub fn known_unknown(&self, token_hash: &str) -> bool {
        let unknown = self.unknown.lock().unwrap_or_else(|e| e.into_inner());
        unknown
            .get(token_hash)
            .is_some_and(|read_at| read_at.elapsed() < UNKNOWN_TTL)
    }

    /// Remembers that no token has `token_hash`, within the same capacity bound.
    pub fn insert_unknown(&self, token_hash: &str) {
        let mut unknown = self.unknown.lock().unwrap_or_else(|e| e.into_inner());
        if unknown.len() >= self.capacity {
            unknown.retain(|_, read_at| read_at.elapsed() < UNKNOWN_TTL);
            if unknown.len() >= self.capacity {
                return;
            }
        }
        unknown.insert(token_hash.to_owned(), Instant::now());
    }

    /// The token stored under `token_hash`, if it was read less than `ttl` ago.
    pub fn get(&self, token_hash: &str) -> Option<Arc<StoredToken>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(token_hash)
            .filter(|(read_at, _)| read_at.elapsed() < self.ttl)
            .map(|(_, token)| token.clone())
    }

    /// Remembers a token just read from the database. Unknown tokens are never
    /// remembered, so a token created a moment ago works at once.
    pub fn insert(&self, token: Arc<StoredToken>) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= self.capacity {
            entries.retain(|_, (read_at, _)| read_at.elapsed() < self.ttl);
            // Still full of live tokens: this one is read from the database each
            // time until room frees up; memory stays bounded either way.
            if entries.len() >= self.capacity {
                return;
            }
        }
        entries.insert(token.token_hash.clone(), (Instant::now(), token));
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::auth::{issue_token, Scopes};
    use crate::domain::TenantId;

    fn token() -> Arc<StoredToken> {
        Arc::new(
            issue_token(
                TenantId::parse("t").unwrap(),
                "n".into(),
                Scopes::parse("Reports.Read.All").unwrap(),
                None,
                Utc::now(),
            )
            .stored,
        )
    }

    #[test]
    fn a_token_is_served_from_memory_until_its_ttl_passes() {
        let cache = TokenCache::new(Duration::from_millis(50), 10);
        let t = token();
        assert!(cache.get(&t.token_hash).is_none());
        cache.insert(t.clone());
        assert_eq!(cache.get(&t.token_hash).as_deref(), Some(&*t));
        std::thread::sleep(Duration::from_millis(60));
        assert!(cache.get(&t.token_hash).is_none(), "stale after the TTL");
    }

    #[test]
    fn a_zero_ttl_caches_nothing() {
        let cache = TokenCache::new(Duration::ZERO, 10);
        let t = token();
        cache.insert(t.clone());
        assert!(cache.get(&t.token_hash).is_none());
    }

    #[test]
    fn the_cache_never_grows_past_its_capacity() {
        let cache = TokenCache::new(Duration::from_secs(60), 2);
        let tokens: Vec<_> = (0..3).map(|_| token()).collect();
        for t in &tokens {
            cache.insert(t.clone());
        }
        assert!(cache.get(&tokens[0].token_hash).is_some());
        assert!(cache.get(&tokens[1].token_hash).is_some());
        assert!(
            cache.get(&tokens[2].token_hash).is_none(),
            "no room, not cached"
        );
        assert_eq!(cache.entries.lock().unwrap().len(), 2);
    }

    #[test]
    fn expired_entries_make_room() {
        let cache = TokenCache::new(Duration::from_millis(30), 1);
        let (a, b) = (token(), token());
        cache.insert(a.clone());
        std::thread::sleep(Duration::from_millis(40));
        cache.insert(b.clone());
        assert!(cache.get(&b.token_hash).is_some());
        assert!(cache.get(&a.token_hash).is_none());
    }
}
