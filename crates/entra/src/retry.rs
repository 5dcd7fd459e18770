//! Backoff for upstream calls: full-jitter exponential delays, `Retry-After` as a floor, bounded
//! attempts and an overall deadline.
//!
//! Exactly one layer retries token-endpoint and managed-identity calls: the request loop of
//! [`crate::client::EntraClient`], driven by this policy. Nothing else in the crate loops.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// How the request loop retries transient failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = never retry).
    pub max_attempts: u32,
    /// The first backoff ceiling; it doubles per failed attempt.
    pub base: Duration,
    /// The largest backoff ceiling (a `Retry-After` may ask for more and is honoured).
    pub max_delay: Duration,
    /// Time from the first attempt after which no new attempt starts; attempts are cut short to end
    /// by it too.
    pub deadline: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            deadline: Duration::from_secs(20),
        }
    }
}

impl RetryPolicy {
    /// IMDS's rules: exponential backoff from one second over a few attempts for 404, 429 and 5xx;
    /// 410 ("not ready yet") keeps being retried until the 70-second deadline (see
    /// [`crate::client`]).
    pub fn managed_identity() -> Self {
        Self {
            max_attempts: 4,
            base: Duration::from_secs(1),
            max_delay: Duration::from_secs(8),
            deadline: Duration::from_secs(70),
        }
    }

    /// The ceiling of the wait after `failed` failed attempts: `base * 2^(failed-1)`, capped.
    pub fn ceiling(&self, failed: u32) -> Duration {
        let doublings = failed.saturating_sub(1).min(31);
        self.base
            .saturating_mul(1u32 << doublings)
            .min(self.max_delay)
    }

    /// The wait after `failed` failed attempts: a uniform draw (`unit` in [0, 1]) below the
    /// ceiling ("full jitter"), but never less than `retry_after`.
    pub fn backoff(&self, failed: u32, retry_after: Option<Duration>, unit: f64) -> Duration {
        let unit = if unit.is_finite() {
            unit.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let jittered = self.ceiling(failed).mul_f64(unit);
        jittered.max(retry_after.unwrap_or(Duration::ZERO))
    }
}

/// A source of uniform draws in [0, 1] for jitter; injected so tests can pin delays.
#[derive(Clone)]
pub struct Jitter(Arc<dyn Fn() -> f64 + Send + Sync>);

impl Jitter {
    /// Draws from the thread-local RNG.
    pub fn random() -> Self {
        Self(Arc::new(rand::random::<f64>))
    }

    /// Always `unit` (0 = retry at once, 1 = wait the full ceiling).
    pub fn fixed(unit: f64) -> Self {
        Self(Arc::new(move || unit))
    }

    /// Any function.
    pub fn from_fn(f: impl Fn() -> f64 + Send + Sync + 'static) -> Self {
        Self(Arc::new(f))
    }

    /// One draw.
    pub fn sample(&self) -> f64 {
        (self.0)()
    }
}

impl Default for Jitter {
    fn default() -> Self {
        Self::random()
    }
}

impl fmt::Debug for Jitter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Jitter")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn the_ceiling_doubles_and_is_capped() {
        let p = RetryPolicy {
            max_attempts: 10,
            base: ms(100),
            max_delay: ms(500),
            deadline: Duration::from_secs(10),
        };
        let ceilings: Vec<_> = (1..=5).map(|n| p.ceiling(n)).collect();
        assert_eq!(ceilings, [ms(100), ms(200), ms(400), ms(500), ms(500)]);
        assert_eq!(p.ceiling(u32::MAX), ms(500));
    }

    #[test]
    fn full_jitter_spans_zero_to_the_ceiling() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff(2, None, 0.0), Duration::ZERO);
        assert_eq!(p.backoff(2, None, 1.0), ms(400));
        assert_eq!(p.backoff(2, None, 0.5), ms(200));
        assert_eq!(p.backoff(2, None, f64::NAN), Duration::ZERO);
    }

    #[test]
    fn retry_after_is_a_floor() {
        let p = RetryPolicy::default();
        assert_eq!(
            p.backoff(1, Some(Duration::from_secs(7)), 1.0),
            Duration::from_secs(7)
        );
        assert_eq!(p.backoff(3, Some(ms(1)), 1.0), ms(800));
    }

    proptest! {
        #[test]
        fn backoff_stays_within_the_ceiling_or_retry_after(failed in 0u32..100, unit in any::<f64>(), ra in 0u64..200_000) {
            let p = RetryPolicy::default();
            let ra = Duration::from_millis(ra);
            let d = p.backoff(failed, Some(ra), unit);
            prop_assert!(d >= ra);
            prop_assert!(d <= p.max_delay.max(ra));
        }
    }
}
