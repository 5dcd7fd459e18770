//! The background refresher: one task per cached token that renews it before callers would have to
//! wait.
//!
//! The task sleeps until the earliest of the refresh time, the end of the serving window and the idle
//! deadline, then looks at the key again under the hop's lock and decides: refresh (a flight that
//! callers may join), keep sleeping, or stop. It holds the cache only through a `Weak` and upgrades
//! it for that brief look, never across a sleep or an upstream call, so dropping the cache ends it.
//! It keeps the [`Minter`] of the call that first filled the key; callers' later minters are not
//! stored in the cache, because a minter for a later hop usually holds the cache itself and would
//! make a cycle that nothing breaks.
//!
//! It stops when the key is idle (dropped), when the token entered its safety margin without a
//! successful refresh (dropped: callers then wait for a fresh mint), or when the key is removed
//! (eviction, a permanent failure, invalidation, shutdown: its slot aborts it).

use std::sync::{Arc, Weak};
use std::time::Instant;

use agentmint_entra::{HopKey, Minter};
use tokio::sync::Notify;
use tokio::task::AbortHandle;
use tracing::Instrument;

use crate::caches::HopCaches;
use crate::flight::{self, Flight, FlightKind};
use crate::observer::{Events, Eviction};
use agentmint_base::Clock;

/// What the refresher does next.
pub(crate) enum Step {
    Sleep(Instant),
    Wait(Flight),
    Stop,
}

/// Starts the refresher of slot `slot_id` of `key`.
pub(crate) fn spawn(
    caches: Weak<HopCaches>,
    clock: Arc<dyn Clock>,
    key: HopKey,
    slot_id: u64,
    minter: Minter,
    reschedule: Arc<Notify>,
) -> AbortHandle {
    tokio::spawn(
        async move {
            loop {
                let step = {
                    let Some(caches) = caches.upgrade() else {
                        return;
                    };
                    caches.refresh_step(&key, slot_id, &minter)
                };
                match step {
                    Step::Stop => return,
                    Step::Wait(flight) => {
                        // The outcome is handled by the flight itself; only its end matters here.
                        let _ = flight.await;
                    }
                    Step::Sleep(deadline) => {
                        tokio::select! {
                            () = clock.sleep_until(deadline) => {}
                            () = reschedule.notified() => {}
                        }
                    }
                }
            }
        }
        .instrument(tracing::Span::current()),
    )
    .abort_handle()
}

impl HopCaches {
    /// Looks at `key` for its refresher and decides what to do next.
    pub(crate) fn refresh_step(&self, key: &HopKey, slot_id: u64, minter: &Minter) -> Step {
        let mut events = Events::default();
        let step = {
            let mut guard = self.lock_hop(key.hop());
            let map = &mut *guard;
            let now = self.clock.now();
            let Some(slot) = map.slots.get_mut(key).filter(|s| s.id == slot_id) else {
                return Step::Stop;
            };
            let idle_at = slot
                .last_used
                .checked_add(self.policy.idle_timeout)
                .unwrap_or(now);
            if let Some(flight) = &slot.flight {
                Step::Wait(flight.clone())
            } else if now >= idle_at {
                map.remove(key, Some(Eviction::Idle), &mut events);
                Step::Stop
            } else {
                match &slot.token {
                    None => Step::Stop,
                    Some(token) if !token.servable(now) => {
                        // Keep the key (without its token) only to hold an open Retry-After window.
                        if slot.throttle.as_ref().is_some_and(|t| now < t.until) {
                            slot.drop_token();
                            map.stats.evictions += 1;
                            events.evicted(key, Eviction::Expired);
                        } else {
                            map.remove(key, Some(Eviction::Expired), &mut events);
                        }
                        Step::Stop
                    }
                    Some(token) if now >= token.next_refresh => {
                        let flight = flight::spawn(
                            self.this.clone(),
                            self.clock.clone(),
                            key.clone(),
                            slot_id,
                            minter.clone(),
                            FlightKind::Refresh,
                        );
                        slot.flight = Some(flight.clone());
                        Step::Wait(flight)
                    }
                    Some(token) => {
                        Step::Sleep(token.next_refresh.min(token.serve_until).min(idle_at))
                    }
                }
            }
        };
        events.deliver(self.observer());
        step
    }
}
