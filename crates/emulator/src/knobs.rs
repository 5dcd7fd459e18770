//! Runtime knobs: added latency, injected faults and token lifetimes.
//!
//! Fractions are applied *deterministically*, so tests can count exactly: each fault kind keeps an
//! accumulator that grows by its fraction on every token or managed-identity request and fires
//! when it reaches 1. A fraction of 0.25 fires on requests 4, 8, 12, ...; 1.0 on every request.
//! When several fire on the same request the first of hang, throttle, fail wins. Changing the
//! knobs restarts the schedule.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Behaviour knobs, settable at start-up and at runtime (`PUT /_emulator/knobs`,
/// [`Emulator::set_knobs`](crate::Emulator::set_knobs)). JSON form: `latency_ms`,
/// `throttle_fraction`, `retry_after_secs`, `fail_fraction`, `hang_fraction`,
/// `token_lifetime_secs`, `refresh_in_secs` (null for Entra's rule); missing fields take defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "KnobsJson", try_from = "KnobsJson")]
pub struct Knobs {
    /// The least time every token or managed-identity request takes, counted from its arrival
    /// (the emulator's own work is part of it, as a real round trip's server time would be).
    pub latency: Duration,
    /// Share of requests answered 429 with `Retry-After`.
    pub throttle_fraction: f64,
    /// The `Retry-After` seconds of throttled answers.
    pub retry_after_secs: u64,
    /// Share of requests answered 503 with an Entra error body.
    pub fail_fraction: f64,
    /// Share of requests never answered (until the client gives up or the server shuts down).
    pub hang_fraction: f64,
    /// Lifetime of issued tokens (`expires_in`).
    pub token_lifetime: Duration,
    /// `refresh_in` of token responses. `None` follows Entra: half the lifetime when the lifetime
    /// is 2 hours or more, absent otherwise.
    pub refresh_in: Option<Duration>,
}

impl Default for Knobs {
    /// No latency, no faults, Entra's usual one-hour tokens.
    fn default() -> Self {
        Self {
            latency: Duration::ZERO,
            throttle_fraction: 0.0,
            retry_after_secs: 1,
            fail_fraction: 0.0,
            hang_fraction: 0.0,
            token_lifetime: Duration::from_secs(3600),
            refresh_in: None,
        }
    }
}

/// A knob value out of range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KnobsError {
    #[error("{name} must be between 0 and 1, got {value}")]
    Fraction { name: &'static str, value: f64 },
    #[error("token_lifetime must be at least one second")]
    Lifetime,
}

impl Knobs {
    /// Checks ranges: fractions in [0, 1], a lifetime of at least a second.
    pub fn validate(&self) -> Result<(), KnobsError> {
        for (name, value) in [
            ("throttle_fraction", self.throttle_fraction),
            ("fail_fraction", self.fail_fraction),
            ("hang_fraction", self.hang_fraction),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err(KnobsError::Fraction { name, value });
            }
        }
        if self.token_lifetime < Duration::from_secs(1) {
            return Err(KnobsError::Lifetime);
        }
        Ok(())
    }

    /// The `refresh_in` seconds to put in a token response, if any.
    pub(crate) fn refresh_in_secs(&self) -> Option<u64> {
        match self.refresh_in {
            Some(d) => Some(d.as_secs()),
            None if self.token_lifetime >= Duration::from_secs(2 * 3600) => {
                Some(self.token_lifetime.as_secs() / 2)
            }
            None => None,
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct KnobsJson {
    latency_ms: u64,
    throttle_fraction: f64,
    retry_after_secs: u64,
    fail_fraction: f64,
    hang_fraction: f64,
    token_lifetime_secs: u64,
    refresh_in_secs: Option<u64>,
}

impl Default for KnobsJson {
    fn default() -> Self {
        Knobs::default().into()
    }
}

impl From<Knobs> for KnobsJson {
    fn from(k: Knobs) -> Self {
        Self {
            latency_ms: u64::try_from(k.latency.as_millis()).unwrap_or(u64::MAX),
            throttle_fraction: k.throttle_fraction,
            retry_after_secs: k.retry_after_secs,
            fail_fraction: k.fail_fraction,
            hang_fraction: k.hang_fraction,
            token_lifetime_secs: k.token_lifetime.as_secs(),
            refresh_in_secs: k.refresh_in.map(|d| d.as_secs()),
        }
    }
}

impl TryFrom<KnobsJson> for Knobs {
    type Error = KnobsError;

    fn try_from(j: KnobsJson) -> Result<Self, KnobsError> {
        let knobs = Knobs {
            latency: Duration::from_millis(j.latency_ms),
            throttle_fraction: j.throttle_fraction,
            retry_after_secs: j.retry_after_secs,
            fail_fraction: j.fail_fraction,
            hang_fraction: j.hang_fraction,
            token_lifetime: Duration::from_secs(j.token_lifetime_secs),
            refresh_in: j.refresh_in_secs.map(Duration::from_secs),
        };
        knobs.validate()?;
        Ok(knobs)
    }
}

/// The fault injected into one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    Hang,
    Throttle,
    Fail,
}

/// The deterministic schedule described in the module docs.
#[derive(Debug, Default)]
pub(crate) struct FaultSchedule {
    hang: f64,
    throttle: f64,
    fail: f64,
}

impl FaultSchedule {
    /// Advances every accumulator by one request and returns the fault to inject, if any.
    pub(crate) fn next(&mut self, knobs: &Knobs) -> Option<Fault> {
        let hang = step(&mut self.hang, knobs.hang_fraction);
        let throttle = step(&mut self.throttle, knobs.throttle_fraction);
        let fail = step(&mut self.fail, knobs.fail_fraction);
        [
            (hang, Fault::Hang),
            (throttle, Fault::Throttle),
            (fail, Fault::Fail),
        ]
        .into_iter()
        .find_map(|(fired, fault)| fired.then_some(fault))
    }
}

/// Tolerance so that e.g. ten steps of 0.1 fire on the tenth despite binary rounding.
const EPSILON: f64 = 1e-9;

fn step(accumulator: &mut f64, fraction: f64) -> bool {
    if fraction <= 0.0 {
        return false;
    }
    *accumulator += fraction;
    if *accumulator >= 1.0 - EPSILON {
        *accumulator -= 1.0;
        true
    } else {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fired(knobs: &Knobs, requests: usize) -> Vec<Option<Fault>> {
        let mut schedule = FaultSchedule::default();
        (0..requests).map(|_| schedule.next(knobs)).collect()
    }

    #[test]
    fn a_quarter_fires_on_every_fourth_request() {
        let knobs = Knobs {
            throttle_fraction: 0.25,
            ..Knobs::default()
        };
        let hits: Vec<usize> = fired(&knobs, 12)
            .iter()
            .enumerate()
            .filter_map(|(i, f)| f.map(|_| i + 1))
            .collect();
        assert_eq!(hits, vec![4, 8, 12]);
    }

    #[test]
    fn a_tenth_fires_exactly_once_in_ten_despite_rounding() {
        let knobs = Knobs {
            fail_fraction: 0.1,
            ..Knobs::default()
        };
        assert_eq!(fired(&knobs, 10).iter().flatten().count(), 1);
        assert_eq!(fired(&knobs, 10)[9], Some(Fault::Fail));
    }

    #[test]
    fn hang_wins_over_throttle_and_fail() {
        let knobs = Knobs {
            hang_fraction: 1.0,
            throttle_fraction: 1.0,
            fail_fraction: 1.0,
            ..Knobs::default()
        };
        assert_eq!(fired(&knobs, 1), vec![Some(Fault::Hang)]);
    }

    #[test]
    fn refresh_in_follows_entra_for_long_lifetimes_only() {
        let short = Knobs::default();
        assert_eq!(short.refresh_in_secs(), None);
        let long = Knobs {
            token_lifetime: Duration::from_secs(3 * 3600),
            ..Knobs::default()
        };
        assert_eq!(long.refresh_in_secs(), Some(3 * 1800));
        let explicit = Knobs {
            refresh_in: Some(Duration::from_secs(60)),
            ..Knobs::default()
        };
        assert_eq!(explicit.refresh_in_secs(), Some(60));
    }

    #[test]
    fn json_rejects_out_of_range_fractions() {
        let err = serde_json::from_str::<Knobs>(r#"{"fail_fraction": 1.5}"#).unwrap_err();
        assert!(err.to_string().contains("fail_fraction"), "{err}");
    }

    #[test]
    fn json_fills_missing_fields_with_defaults() {
        let knobs: Knobs = serde_json::from_str(r#"{"latency_ms": 25}"#).unwrap();
        assert_eq!(
            knobs,
            Knobs {
                latency: Duration::from_millis(25),
                ..Knobs::default()
            }
        );
    }
}
