//! Per-token rate limits: every token has its own bucket, so one runaway
//! collector cannot starve the others, and callers behind one address (a NAT, a
//! proxy) do not share a limit.
//!
//! The buckets live in this process: with several replicas behind a load
//! balancer each replica limits on its own, so a token may make up to N times
//! the configured rate across N replicas.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use uuid::Uuid;

/// A request refused because its token's bucket is empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many requests: retry after {retry_after_secs} seconds")]
pub struct RateLimited {
    pub retry_after_secs: u64,
}

/// The buckets of every token that has made a request since start-up.
pub struct TokenRateLimiter {
    /// `None`: limits are turned off.
    buckets: Option<DefaultKeyedRateLimiter<Uuid>>,
    clock: DefaultClock,
}

impl TokenRateLimiter {
    /// Each token's bucket holds `burst` requests and refills at `per_second`.
    pub fn new(per_second: NonZeroU32, burst: NonZeroU32) -> Self {
        Self {
            buckets: Some(RateLimiter::keyed(
                Quota::per_second(per_second).allow_burst(burst),
            )),
            clock: DefaultClock::default(),
        }
    }

    /// Limits turned off: every request goes through.
    pub fn unlimited() -> Self {
        Self {
            buckets: None,
            clock: DefaultClock::default(),
        }
    }

    /// Takes one request from the token's bucket, or says how long to wait.
    /// Keyed by token id, so the map holds at most one entry per stored token.
    pub fn check(&self, token_id: Uuid) -> Result<(), RateLimited> {
        let Some(buckets) = &self.buckets else {
            return Ok(());
        };
        buckets
            .check_key(&token_id)
            .map_err(|not_until| RateLimited {
                retry_after_secs: retry_after_secs(not_until.wait_time_from(self.clock.now())),
            })
    }
}

/// `Retry-After` is whole seconds: round up, so a client that waits that long
/// finds a request in its bucket.
fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(per_second: u32, burst: u32) -> TokenRateLimiter {
        TokenRateLimiter::new(
            NonZeroU32::new(per_second).unwrap(),
            NonZeroU32::new(burst).unwrap(),
        )
    }

    #[test]
    fn a_token_gets_its_burst_then_waits() {
        let limiter = limit(1, 3);
        let token = Uuid::now_v7();
        for _ in 0..3 {
            assert!(limiter.check(token).is_ok());
        }
        assert_eq!(
            limiter.check(token),
            Err(RateLimited {
                retry_after_secs: 1
            })
        );
    }

    #[test]
    fn tokens_do_not_share_a_bucket() {
        let limiter = limit(1, 1);
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        assert!(limiter.check(a).is_ok());
        assert!(limiter.check(a).is_err());
        assert!(limiter.check(b).is_ok());
    }

    #[test]
    fn no_limit_lets_everything_through() {
        let limiter = TokenRateLimiter::unlimited();
        let token = Uuid::now_v7();
        assert!((0..10_000).all(|_| limiter.check(token).is_ok()));
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_secs(2)), 2);
        assert_eq!(retry_after_secs(Duration::from_millis(2001)), 3);
    }
}
