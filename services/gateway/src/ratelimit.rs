//! A per-caller token bucket: each caller may make `per_minute` requests a minute, in bursts
//! of up to that many. In memory per gateway replica (the limit is per replica).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use axum::http::StatusCode;

use crate::error::ApiError;

pub struct RateLimiter {
    per_minute: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl RateLimiter {
    pub fn new(per_minute: u32) -> Self {
        Self { per_minute: f64::from(per_minute), buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes one token for `key`, or refuses with 429.
    pub fn check(&self, key: &str) -> Result<(), ApiError> {
        self.check_at(key, Instant::now())
    }

    fn check_at(&self, key: &str, now: Instant) -> Result<(), ApiError> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > 100_000 {
            // Forget idle callers rather than grow without bound.
            buckets.retain(|_, b| now.duration_since(b.updated).as_secs() < 60);
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket { tokens: self.per_minute, updated: now });
        let refill = now.duration_since(bucket.updated).as_secs_f64() * self.per_minute / 60.0;
        bucket.tokens = (bucket.tokens + refill).min(self.per_minute);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(ApiError::new(StatusCode::TOO_MANY_REQUESTS, "resource_exhausted", "too many requests, slow down"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_caller_over_the_limit_waits_for_refill() {
        let limiter = RateLimiter::new(2);
        let t0 = Instant::now();
        assert!(limiter.check_at("a", t0).is_ok());
        assert!(limiter.check_at("a", t0).is_ok());
        assert_eq!(limiter.check_at("a", t0).unwrap_err().status, StatusCode::TOO_MANY_REQUESTS);
        assert!(limiter.check_at("b", t0).is_ok(), "callers are limited separately");
        assert!(limiter.check_at("a", t0 + Duration::from_secs(30)).is_ok(), "one token back after 30s at 2/min");
    }
}
