//! Injected time.
//!
//! Every expiry and refresh decision reads [`Clock::now`], a monotonic instant: a token lives
//! `expires_in` from the moment it was received, whatever the wall clock does afterwards
//! (RELIABILITY 21). The wall clock ([`Clock::unix_now`]) is read once per token, only to tell callers
//! when it expires in Unix seconds.
//!
//! [`ManualClock`] lets tests (here and in the gateway) move time by hand: `advance` wakes every
//! sleeper whose deadline has passed before it returns, so a test decides exactly when a background
//! refresh becomes due, and never sleeps for real.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::future::BoxFuture;
use tokio::sync::oneshot;

/// A source of monotonic and wall-clock time, and of timers that follow it.
pub trait Clock: Send + Sync + 'static {
    /// Monotonic now: every expiry and refresh time is measured on this clock.
    fn now(&self) -> Instant;
    /// Wall-clock now in Unix seconds, used only to report `expires_at_unix` to callers.
    fn unix_now(&self) -> i64;
    /// Resolves once [`Clock::now`] has reached `deadline`.
    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()>;
}

/// The real clocks, with Tokio timers.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn unix_now(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }

    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep_until(tokio::time::Instant::from_std(
            deadline,
        )))
    }
}

/// A clock that moves only when told to. Monotonic and wall time advance together through
/// [`ManualClock::advance`]; [`ManualClock::set_unix`] jumps the wall clock alone.
#[derive(Debug)]
pub struct ManualClock {
    state: Mutex<ManualState>,
}

#[derive(Debug)]
struct ManualState {
    now: Instant,
    unix: i64,
    sleepers: Vec<(Instant, oneshot::Sender<()>)>,
}

impl ManualClock {
    /// The wall-clock time a new `ManualClock` starts at (2023-11-14T22:13:20Z).
    pub const START_UNIX: i64 = 1_700_000_000;

    /// A clock at an arbitrary monotonic instant and [`ManualClock::START_UNIX`].
    pub fn new() -> Self {
        Self {
            state: Mutex::new(ManualState {
                now: Instant::now(),
                unix: Self::START_UNIX,
                sleepers: Vec::new(),
            }),
        }
    }

    /// Moves both clocks forward by `by` and wakes every sleeper whose deadline is now due. The
    /// woken tasks run the next time the runtime gets control (a test yields to let them).
    pub fn advance(&self, by: Duration) {
        let due = {
            let mut state = self.lock();
            state.now += by;
            let secs = i64::try_from(by.as_secs()).unwrap_or(i64::MAX);
            state.unix = state.unix.saturating_add(secs);
            let now = state.now;
            let (due, waiting) = std::mem::take(&mut state.sleepers)
                .into_iter()
                .partition(|(deadline, _)| *deadline <= now);
            state.sleepers = waiting;
            due
        };
        for (_, wake) in due {
            let _ = wake.send(());
        }
    }

    /// Sets the wall clock alone, as an NTP step or an operator would; monotonic time is unchanged.
    pub fn set_unix(&self, unix: i64) {
        self.lock().unix = unix;
    }

    /// Timers still waiting (their futures alive and not yet due). Tests use it to prove that no
    /// background task is left behind.
    pub fn pending_sleepers(&self) -> usize {
        let mut state = self.lock();
        state.sleepers.retain(|(_, wake)| !wake.is_closed());
        state.sleepers.len()
    }

    fn lock(&self) -> MutexGuard<'_, ManualState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.lock().now
    }

    fn unix_now(&self) -> i64 {
        self.lock().unix
    }

    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()> {
        let mut state = self.lock();
        if deadline <= state.now {
            return Box::pin(std::future::ready(()));
        }
        state.sleepers.retain(|(_, wake)| !wake.is_closed());
        let (wake, woken) = oneshot::channel();
        state.sleepers.push((deadline, wake));
        Box::pin(async move {
            if woken.await.is_err() {
                // The clock itself is gone: time no longer moves, so the deadline never comes.
                std::future::pending::<()>().await;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::FutureExt;

    #[test]
    fn advance_wakes_only_sleepers_that_are_due() {
        let clock = ManualClock::new();
        let start = clock.now();
        let mut soon = clock.sleep_until(start + Duration::from_secs(10));
        let mut late = clock.sleep_until(start + Duration::from_secs(20));
        assert!((&mut soon).now_or_never().is_none());

        clock.advance(Duration::from_secs(10));
        assert!((&mut soon).now_or_never().is_some());
        assert!((&mut late).now_or_never().is_none());
        assert_eq!(clock.pending_sleepers(), 1);

        clock.advance(Duration::from_secs(10));
        assert!(late.now_or_never().is_some());
        assert_eq!(clock.pending_sleepers(), 0);
    }

    #[test]
    fn a_past_deadline_is_ready_at_once() {
        let clock = ManualClock::new();
        assert!(clock.sleep_until(clock.now()).now_or_never().is_some());
    }

    #[test]
    fn dropped_sleepers_are_not_pending() {
        let clock = ManualClock::new();
        let sleep = clock.sleep_until(clock.now() + Duration::from_secs(1));
        assert_eq!(clock.pending_sleepers(), 1);
        drop(sleep);
        assert_eq!(clock.pending_sleepers(), 0);
    }

    #[test]
    fn a_wall_clock_jump_leaves_monotonic_time_alone() {
        let clock = ManualClock::new();
        let before = clock.now();
        clock.set_unix(ManualClock::START_UNIX - 86_400);
        assert_eq!(clock.now(), before);
        assert_eq!(clock.unix_now(), ManualClock::START_UNIX - 86_400);

        clock.advance(Duration::from_secs(5));
        assert_eq!(clock.now(), before + Duration::from_secs(5));
        assert_eq!(clock.unix_now(), ManualClock::START_UNIX - 86_395);
    }
}
