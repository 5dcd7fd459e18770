//! When a token stops being served, when it is refreshed, and how failed refreshes back off.
//!
//! The rules follow Microsoft's own libraries (PROTOCOL.md): a token within 5 minutes of expiry counts
//! as expired; `refresh_in`, when present, sets the proactive refresh time; a token of 2 hours or
//! more is refreshed at half-life. Two adjustments make them work for a broker rather than one
//! client: the margin scales down for short lifetimes (a 10-minute token would otherwise be served
//! for only half its life), and every token is refreshed ahead of the margin, with jitter, so that
//! callers on a warm key never wait and tokens minted together do not refresh together.
//!
//! The functions take their random draws as arguments, so they are pure and tested exhaustively; the
//! cache owns the seeded generator.

use std::time::Duration;

/// Tokens this long or longer are refreshed at half-life at the latest (Microsoft's convention).
const LONG_LIFETIME: Duration = Duration::from_secs(2 * 3600);

/// The longest lifetime the cache believes. `entra` already rejects absurd `expires_in` values; this
/// is the second line, so that no arithmetic on a lifetime can overflow and no token is served for
/// more than a day.
pub(crate) const MAX_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// How the per-hop caches serve and refresh tokens.
#[derive(Debug, Clone, PartialEq)]
pub struct CachePolicy {
    /// A token is served only while more than this remains of its lifetime (5 minutes by default).
    pub safety_margin: Duration,
    /// For short lifetimes the margin scales down: the margin is
    /// `min(safety_margin, min_margin_fraction × lifetime)` (0.1 by default; clamped to 0..=0.5).
    pub min_margin_fraction: f64,
    /// When Entra gives no usable `refresh_in`, refresh at this fraction of the lifetime (0.75 by
    /// default; clamped to 0.05..=1). Tokens of 2 hours or more use at most 0.5 (half-life). The
    /// refresh always falls before the margin, however this and the jitter are set.
    pub refresh_fraction: f64,
    /// Each refresh time moves by a random amount of up to ± this fraction of its offset from
    /// issuance (0.1 by default; clamped to 0..=0.5).
    pub jitter: f64,
    /// The most keys each hop keeps; beyond it the least recently used key is dropped (at least 1).
    pub max_entries: usize,
    /// A key nobody asked for in this long stops being refreshed and is dropped (at least 1 s).
    pub idle_timeout: Duration,
    /// The first cap of the full-jitter exponential backoff after a failed refresh (at least 1 ms).
    pub refresh_backoff_base: Duration,
    /// The largest cap of that backoff (at least the base).
    pub refresh_backoff_max: Duration,
}

impl Default for CachePolicy {
    fn default() -> Self {
        Self {
            safety_margin: Duration::from_secs(5 * 60),
            min_margin_fraction: 0.1,
            refresh_fraction: 0.75,
            jitter: 0.1,
            max_entries: 10_000,
            // Longer than Entra's usual 60-90 minute lifetimes, so that an agent asking about once a
            // token lifetime keeps finding its key warm.
            idle_timeout: Duration::from_secs(2 * 3600),
            refresh_backoff_base: Duration::from_secs(1),
            refresh_backoff_max: Duration::from_secs(60),
        }
    }
}

impl CachePolicy {
    /// The policy with every field brought into its documented range (a NaN takes the default), so
    /// that a mistaken setting degrades the cache instead of breaking its arithmetic.
    pub(crate) fn sanitized(mut self) -> Self {
        let default = Self::default();
        let clamp = |value: f64, low: f64, high: f64, fallback: f64| {
            if value.is_nan() {
                fallback
            } else {
                value.clamp(low, high)
            }
        };
        self.min_margin_fraction = clamp(
            self.min_margin_fraction,
            0.0,
            0.5,
            default.min_margin_fraction,
        );
        self.refresh_fraction = clamp(self.refresh_fraction, 0.05, 1.0, default.refresh_fraction);
        self.jitter = clamp(self.jitter, 0.0, 0.5, default.jitter);
        self.max_entries = self.max_entries.max(1);
        self.idle_timeout = self.idle_timeout.max(Duration::from_secs(1));
        self.refresh_backoff_base = self.refresh_backoff_base.max(Duration::from_millis(1));
        self.refresh_backoff_max = self.refresh_backoff_max.max(self.refresh_backoff_base);
        self
    }

    /// How much of a token's `lifetime` is never served: the safety margin, scaled down for short
    /// lifetimes.
    pub(crate) fn margin(&self, lifetime: Duration) -> Duration {
        self.safety_margin
            .min(lifetime.mul_f64(self.min_margin_fraction))
    }

    /// How long after issuance a token of `lifetime` is refreshed, given Entra's `refresh_in` and a
    /// uniform draw `unit` in `-1.0..=1.0` that places it within the jitter band. Always within the
    /// serving window (before the margin). Expects a sanitized policy and a lifetime of at most
    /// [`MAX_LIFETIME`].
    pub(crate) fn refresh_offset(
        &self,
        lifetime: Duration,
        refresh_in: Option<Duration>,
        unit: f64,
    ) -> Duration {
        let window = lifetime.saturating_sub(self.margin(lifetime));
        let base = match refresh_in {
            // Entra's hint, when it is usable: positive and before the margin.
            Some(hint) if !hint.is_zero() && hint < window => hint,
            _ => {
                let fraction = if lifetime >= LONG_LIFETIME {
                    self.refresh_fraction.min(0.5)
                } else {
                    self.refresh_fraction
                };
                lifetime.mul_f64(fraction).min(window)
            }
        };
        let factor = 1.0 + self.jitter * unit.clamp(-1.0, 1.0);
        base.mul_f64(factor).min(window)
    }

    /// The delay before refresh attempt number `failures + 1` (`failures` ≥ 1), given a uniform draw
    /// `unit` in `0.0..1.0`: "full jitter", a uniform delay below an exponentially growing cap, so
    /// that keys failing together do not retry together.
    pub(crate) fn backoff(&self, failures: u32, unit: f64) -> Duration {
        let doublings = failures.saturating_sub(1).min(30);
        let cap = self
            .refresh_backoff_base
            .saturating_mul(1 << doublings)
            .min(self.refresh_backoff_max);
        cap.mul_f64(unit.clamp(0.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);
    const HOUR: Duration = Duration::from_secs(3600);

    fn policy() -> CachePolicy {
        CachePolicy::default().sanitized()
    }

    #[test]
    fn margin_is_five_minutes_for_usual_lifetimes() {
        assert_eq!(policy().margin(HOUR), 5 * MIN);
        assert_eq!(policy().margin(24 * HOUR), 5 * MIN);
    }

    #[test]
    fn margin_scales_down_for_short_lifetimes() {
        assert_eq!(policy().margin(10 * MIN), MIN);
        assert_eq!(
            policy().margin(Duration::from_secs(60)),
            Duration::from_secs(6)
        );
    }

    #[test]
    fn refresh_in_sets_the_refresh_time_when_it_falls_before_the_margin() {
        let p = policy();
        assert_eq!(p.refresh_offset(HOUR, Some(20 * MIN), 0.0), 20 * MIN);
        // Past the margin, or zero: ignored, the fraction applies.
        assert_eq!(p.refresh_offset(HOUR, Some(58 * MIN), 0.0), 45 * MIN);
        assert_eq!(p.refresh_offset(HOUR, Some(Duration::ZERO), 0.0), 45 * MIN);
    }

    #[test]
    fn long_lived_tokens_refresh_at_half_life() {
        assert_eq!(policy().refresh_offset(4 * HOUR, None, 0.0), 2 * HOUR);
        assert_eq!(policy().refresh_offset(HOUR, None, 0.0), 45 * MIN);
    }

    #[test]
    fn jitter_moves_the_refresh_within_its_band() {
        let p = policy();
        assert_eq!(
            p.refresh_offset(HOUR, None, -1.0),
            Duration::from_secs(2430)
        );
        assert_eq!(p.refresh_offset(HOUR, None, 1.0), Duration::from_secs(2970));
    }

    #[test]
    fn refresh_always_falls_before_the_margin() {
        let p = CachePolicy {
            refresh_fraction: 1.0,
            jitter: 0.5,
            ..CachePolicy::default()
        }
        .sanitized();
        for secs in [1, 10, 59, 600, 3599, 3600, 7200, 86_400] {
            let lifetime = Duration::from_secs(secs);
            let window = lifetime - p.margin(lifetime);
            for unit in [-1.0, -0.3, 0.0, 0.7, 1.0] {
                for hint in [None, Some(lifetime), Some(lifetime / 2)] {
                    assert!(p.refresh_offset(lifetime, hint, unit) <= window);
                }
            }
        }
    }

    #[test]
    fn backoff_is_full_jitter_below_a_doubling_capped_bound() {
        let p = policy();
        assert_eq!(
            p.backoff(1, 0.999_999),
            Duration::from_secs(1).mul_f64(0.999_999)
        );
        assert_eq!(p.backoff(3, 0.5), Duration::from_secs(2));
        assert_eq!(p.backoff(1, 0.0), Duration::ZERO);
        assert_eq!(p.backoff(40, 1.0), Duration::from_secs(60));
        assert_eq!(p.backoff(u32::MAX, 1.0), Duration::from_secs(60));
    }

    #[test]
    fn nonsense_settings_are_brought_into_range() {
        let p = CachePolicy {
            min_margin_fraction: f64::NAN,
            refresh_fraction: 7.0,
            jitter: -1.0,
            max_entries: 0,
            idle_timeout: Duration::ZERO,
            refresh_backoff_base: Duration::ZERO,
            refresh_backoff_max: Duration::ZERO,
            ..CachePolicy::default()
        }
        .sanitized();
        assert_eq!(p.min_margin_fraction, 0.1);
        assert_eq!(p.refresh_fraction, 1.0);
        assert_eq!(p.jitter, 0.0);
        assert_eq!(p.max_entries, 1);
        assert_eq!(p.idle_timeout, Duration::from_secs(1));
        assert_eq!(p.refresh_backoff_base, Duration::from_millis(1));
        assert_eq!(p.refresh_backoff_max, Duration::from_millis(1));
    }
}
