//! A clock that moves only when a test tells it to, for the tests of every crate that takes a
//! [`Clock`].
//!
//! [`ManualClock::advance`] moves monotonic and wall time together and wakes every sleeper whose
//! deadline has passed before it returns, so a test decides exactly when a background refresh becomes
//! due and never sleeps for real. [`ManualClock::set_wall`] jumps the wall clock alone, as an NTP
//! step or an operator would.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::oneshot;

use crate::clock::{Clock, Sleep};

/// A clock that moves only when told to.
#[derive(Debug)]
pub struct ManualClock {
    state: Mutex<ManualState>,
}

#[derive(Debug)]
struct ManualState {
    now: Instant,
    wall: SystemTime,
    sleepers: Vec<(Instant, oneshot::Sender<()>)>,
}

impl ManualClock {
    /// The wall-clock time a [`ManualClock::new`] clock starts at (2023-11-14T22:13:20Z).
    pub const START_UNIX: i64 = 1_700_000_000;

    /// A clock at an arbitrary monotonic instant and [`ManualClock::START_UNIX`].
    pub fn new() -> Self {
        Self::starting_at(UNIX_EPOCH + Duration::from_secs(Self::START_UNIX.unsigned_abs()))
    }

    /// A clock whose wall time starts at `wall` (monotonic time at an arbitrary instant).
    pub fn starting_at(wall: SystemTime) -> Self {
        Self {
            state: Mutex::new(ManualState {
                now: Instant::now(),
                wall,
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
            state.wall += by;
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

    /// Sets the wall clock alone (which may go back: wall clocks jump); monotonic time is unchanged.
    pub fn set_wall(&self, to: SystemTime) {
        self.lock().wall = to;
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

    fn wall(&self) -> SystemTime {
        self.lock().wall
    }

    fn sleep_until(&self, deadline: Instant) -> Sleep {
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
        let day = Duration::from_secs(86_400);
        clock.set_wall(clock.wall() - day);
        assert_eq!(clock.now(), before);
        assert_eq!(clock.unix_now(), ManualClock::START_UNIX - 86_400);

        clock.advance(Duration::from_secs(5));
        assert_eq!(clock.now(), before + Duration::from_secs(5));
        assert_eq!(clock.unix_now(), ManualClock::START_UNIX - 86_395);
    }

    #[test]
    fn a_clock_starts_where_it_is_told() {
        let at = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let clock = ManualClock::starting_at(at);
        assert_eq!(clock.wall(), at);
        assert_eq!(clock.unix_now(), 1_000_000);
        clock.advance(Duration::from_millis(1500));
        assert_eq!(clock.wall(), at + Duration::from_millis(1500));
    }
}
