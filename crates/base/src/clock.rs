//! Injected time, one trait for every client-side crate.
//!
//! Two clocks, because they answer different questions. Expiry and refresh of cached tokens are
//! measured on the monotonic [`Clock::now`]: a token lives `expires_in` from the moment it was
//! received, whatever the wall clock does afterwards (RELIABILITY 21). Assertion times, certificate
//! validity and the Unix expiry reported to callers read the wall clock, [`Clock::wall`], because
//! that is what Entra and the certificate speak.
//!
//! Behaviour that depends on time takes a [`SharedClock`], so tests move time with
//! [`crate::ManualClock`] instead of sleeping.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// A timer's future, as [`Clock::sleep_until`] returns it.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// A source of monotonic and wall-clock time, and of timers that follow it.
pub trait Clock: Send + Sync + 'static {
    /// Monotonic now: every expiry and refresh time is measured on this clock.
    fn now(&self) -> Instant;
    /// Wall-clock now: assertion `iat`/`exp`, certificate validity, expiry reported to callers.
    fn wall(&self) -> SystemTime;
    /// Resolves once [`Clock::now`] has reached `deadline`.
    fn sleep_until(&self, deadline: Instant) -> Sleep;

    /// [`Clock::wall`] in whole Unix seconds (0 before 1970), as callers are told expiry times.
    fn unix_now(&self) -> i64 {
        self.wall()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }
}

/// The real clocks, with Tokio timers.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn wall(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep_until(&self, deadline: Instant) -> Sleep {
        Box::pin(tokio::time::sleep_until(tokio::time::Instant::from_std(
            deadline,
        )))
    }
}

/// The handle that components keep.
pub type SharedClock = Arc<dyn Clock>;

/// The real clock as a [`SharedClock`]: the default where no clock is injected.
pub fn system() -> SharedClock {
    Arc::new(SystemClock)
}
