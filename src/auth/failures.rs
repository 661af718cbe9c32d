//! Failed authentication, limited per client address: guessing tokens costs a
//! database lookup each, so an address that keeps failing is told to wait
//! (429 with `Retry-After`) before its next guess is even looked up.
//!
//! Kept in this process, like the per-token limits.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::RateLimited;

/// Addresses tracked at most; a flood from many addresses cannot grow memory
/// past this, and once it is full of live entries new addresses go untracked.
const MAX_TRACKED_ADDRESSES: usize = 100_000;

/// `max_failures` failed attempts per address in each `window`.
pub struct FailureLimiter {
    limit: Option<(u32, Duration)>,
    addresses: Mutex<HashMap<IpAddr, Window>>,
}

struct Window {
    started: Instant,
    failures: u32,
}

impl FailureLimiter {
    pub fn new(max_failures: u32, window: Duration) -> Self {
        Self {
            limit: (max_failures > 0 && !window.is_zero()).then_some((max_failures, window)),
            addresses: Mutex::new(HashMap::new()),
        }
    }

    pub fn unlimited() -> Self {
        Self::new(0, Duration::ZERO)
    }

    /// Refused while `address` has used up its failures for the current window.
    pub fn check(&self, address: Option<IpAddr>) -> Result<(), RateLimited> {
        let (Some((max, window)), Some(address)) = (self.limit, address) else {
            return Ok(());
        };
        let addresses = self.addresses.lock().unwrap_or_else(|e| e.into_inner());
        match addresses.get(&address) {
            Some(w) if w.failures >= max && w.started.elapsed() < window => Err(RateLimited {
                retry_after_secs: whole_seconds(window.saturating_sub(w.started.elapsed())),
            }),
            _ => Ok(()),
        }
    }

    /// Counts one failed attempt from `address`.
    pub fn record_failure(&self, address: Option<IpAddr>) {
        let (Some((_, window)), Some(address)) = (self.limit, address) else {
            return;
        };
        let mut addresses = self.addresses.lock().unwrap_or_else(|e| e.into_inner());
        if addresses.len() >= MAX_TRACKED_ADDRESSES && !addresses.contains_key(&address) {
            addresses.retain(|_, w| w.started.elapsed() < window);
            if addresses.len() >= MAX_TRACKED_ADDRESSES {
                return;
            }
        }
        let entry = addresses.entry(address).or_insert(Window {
            started: Instant::now(),
            failures: 0,
        });
        if entry.started.elapsed() >= window {
            *entry = Window {
                started: Instant::now(),
                failures: 0,
            };
        }
        entry.failures = entry.failures.saturating_add(1);
    }
}

/// Rounded up, at least 1: waiting that long finds the window over.
fn whole_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_gets_its_failures_then_waits_out_the_window() {
        let limiter = FailureLimiter::new(3, Duration::from_millis(100));
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        for _ in 0..3 {
            assert!(limiter.check(Some(a)).is_ok());
            limiter.record_failure(Some(a));
        }
        assert_eq!(
            limiter.check(Some(a)),
            Err(RateLimited {
                retry_after_secs: 1
            })
        );
        assert!(limiter.check(Some(b)).is_ok(), "addresses do not share");
        std::thread::sleep(Duration::from_millis(110));
        assert!(limiter.check(Some(a)).is_ok());
    }

    #[test]
    fn zero_turns_the_limit_off() {
        let limiter = FailureLimiter::unlimited();
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..1000 {
            limiter.record_failure(Some(a));
        }
        assert!(limiter.check(Some(a)).is_ok());
    }
}
