//! The background refresher: one task per cached token that renews it before callers would have to
//! wait.
//!
//! The task sleeps until the earliest of the refresh time, the end of the serving window and the idle
//! deadline, then asks the caches ([`Decide`]) to look at the key again under the hop's lock and decide: refresh (a flight that
//! callers may join), keep sleeping, or stop. It holds the cache only through a `Weak` and upgrades
//! it for that brief look, never across a sleep or an upstream call, so dropping the cache ends it.
//! It keeps the [`Minter`] of the call that first filled the key; callers' later minters are not
//! stored in the cache, because a minter for a later hop usually holds the cache itself and would
//! make a cycle that nothing breaks. That is safe because a minter is not a snapshot: the chains'
//! minters look their provider up each time they run (`agentmint_entra::Live`), so a refresh after
//! a reload uses the credential in force, and `HopCaches::refresh_where` renews at once the keys a
//! reload retired.
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

use agentmint_base::Clock;

use crate::flight::Flight;

/// What the refresher does next.
pub(crate) enum Step {
    Sleep(Instant),
    Wait(Flight),
    Stop,
}

/// What decides a refresher's next step: the caches, which implement it under the hop's lock. A
/// trait, so that this file does not depend on the caches that depend on it.
pub(crate) trait Decide: Send + Sync + 'static {
    /// Looks at `key` for its refresher and decides what to do next.
    fn refresh_step(&self, key: &HopKey, slot_id: u64, minter: &Minter) -> Step;
}

/// Starts the refresher of slot `slot_id` of `key`.
pub(crate) fn spawn(
    caches: Weak<dyn Decide>,
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
