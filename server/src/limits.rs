//! A fixed-window rate limiter keyed by client address or machine name, kept in memory.
//!
//! Per process: with several server processes each enforces its own budget, which is good
//! enough to stop floods (the goal) without a shared store round trip per request.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Allows `limit` events per key per window.
#[derive(Debug)]
pub struct RateLimiter {
    limit: u32,
    window: Duration,
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    /// `limit` events per `window_secs` seconds per key.
    pub fn new(limit: u32, window_secs: u64) -> RateLimiter {
        RateLimiter {
            limit,
            window: Duration::from_secs(window_secs),
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one event for `key`: `Ok` when allowed, `Err(seconds to wait)` when over.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if windows.len() > 100_000 {
            // Forget finished windows so that many distinct keys cannot grow memory unbounded.
            windows.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        }
        let entry = windows.entry(key.to_owned()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        if entry.1 >= self.limit {
            let wait = self.window.saturating_sub(now.duration_since(entry.0));
            return Err(wait.as_secs().max(1));
        }
        entry.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_applies_per_key() {
        let limiter = RateLimiter::new(2, 60);
        assert!(limiter.check("a").is_ok());
        assert!(limiter.check("a").is_ok());
        let wait = limiter.check("a").unwrap_err();
        assert!((1..=60).contains(&wait));
        assert!(limiter.check("b").is_ok());
    }
}
