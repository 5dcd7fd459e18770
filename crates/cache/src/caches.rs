//! [`HopCaches`]: the gateway's per-hop token caches behind `agentmint_entra::HopCache`.

use agentmint_entra::{EntraError, Hop, HopCache, HopKey, Minted, Minter};
use futures::future::BoxFuture;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, Weak};

use crate::entry::{Cached, Slot, Throttle};
use crate::events::{Events, Eviction};
use crate::flight::{self, Flight, FlightKind, FlightResult, Landed};
use crate::map::HopMap;
use crate::policy::CachePolicy;
use crate::refresh::{self, Step};
use crate::stats::{CacheStats, hop_index};
use agentmint_base::Clock;

/// One token cache per hop, with single flight, refresh ahead, a size bound and idle eviction.
///
/// Build it with [`HopCaches::new`] and hand it to the chains as their `HopCache`. It must be used
/// from within a Tokio runtime: upstream calls and refreshers are Tokio tasks.
///
/// Minters for later hops usually hold the cache themselves (hop 2's minter asks it for T1), and a
/// refresher owns its minter, so dropping the last outside handle does not end running refreshers at
/// once: they end when their key goes idle. Call [`HopCaches::shutdown`] to end them now.
pub struct HopCaches {
    /// Replaced on reload ([`HopCaches::set_policy`]); read under no hop lock for long.
    policy: RwLock<CachePolicy>,
    pub(crate) clock: Arc<dyn Clock>,
    hops: [Mutex<HopMap>; Hop::ALL.len()],
    closed: AtomicBool,
    next_slot_id: AtomicU64,
    /// Handed to flights and refreshers, which must never keep the cache alive.
    pub(crate) this: Weak<HopCaches>,
}

/// What a request found.
enum Lookup {
    Ready(FlightResult),
    Wait(Flight),
    Closed,
}

impl HopCaches {
    /// Empty caches. Nothing is spawned until the first request. With `rng_seed`, jitter and backoff
    /// draws are reproducible (tests); without, they are seeded from the OS.
    pub fn new(policy: CachePolicy, clock: Arc<dyn Clock>, rng_seed: Option<u64>) -> Arc<Self> {
        let hops = std::array::from_fn(|i| {
            let rng = match rng_seed {
                Some(seed) => StdRng::seed_from_u64(seed.wrapping_add(i as u64)),
                None => StdRng::from_os_rng(),
            };
            Mutex::new(HopMap::new(rng))
        });
        Arc::new_cyclic(|this| Self {
            policy: RwLock::new(policy.sanitized()),
            clock,
            hops,
            closed: AtomicBool::new(false),
            next_slot_id: AtomicU64::new(0),
            this: this.clone(),
        })
    }

    /// The policy in force.
    pub fn policy(&self) -> CachePolicy {
        self.policy
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the policy (a reload that changed `[gateway.cache]`). Tokens cached from now on
    /// follow it, and so do size and idle decisions; tokens already cached keep the serve window
    /// and refresh time they were given.
    pub fn set_policy(&self, policy: CachePolicy) {
        *self.policy.write().unwrap_or_else(PoisonError::into_inner) = policy.sanitized();
    }

    /// Every hop's counters.
    pub fn stats(&self) -> CacheStats {
        CacheStats::new(Hop::ALL.map(|hop| self.lock_hop(hop).snapshot()))
    }

    /// Tokens cached now, over every hop.
    pub fn len(&self) -> usize {
        Hop::ALL
            .into_iter()
            .map(|hop| self.lock_hop(hop).tokens())
            .sum()
    }

    /// True when no token is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops every key for which `pred` holds, with its token and refresher (a config reload retires
    /// a changed provider this way). Calls already in flight still answer their waiters but store
    /// nothing. Returns how many keys were dropped.
    pub fn invalidate_where(&self, pred: impl Fn(&HopKey) -> bool) -> usize {
        let mut dropped = 0;
        for hop in Hop::ALL {
            let mut map = self.lock_hop(hop);
            let before = map.slots.len();
            map.slots.retain(|key, _| !pred(key));
            dropped += before - map.slots.len();
        }
        dropped
    }

    /// Renews every key for which `pred` holds in the background, as soon as possible, while its
    /// current token keeps being served until the new one arrives (a reload that changed a
    /// provider's credential retires its tokens this way). A key whose upstream call is in flight
    /// is renewed again once that call lands, since the call may have started before the change.
    /// Returns how many keys were marked.
    pub fn refresh_where(&self, pred: impl Fn(&HopKey) -> bool) -> usize {
        let now = self.clock.now();
        let mut marked = 0;
        for hop in Hop::ALL {
            let mut map = self.lock_hop(hop);
            for (_, slot) in map.slots.iter_mut().filter(|(key, _)| pred(key)) {
                marked += 1;
                if slot.flight.is_some() {
                    slot.renew_after_landing = true;
                } else if let Some(token) = slot.token.as_mut() {
                    token.next_refresh = now;
                    slot.reschedule.notify_one();
                }
            }
        }
        marked
    }

    /// Drops every key and stops every refresher. Calls in flight still answer their waiters. Later
    /// requests mint directly, without caching, so requests racing a graceful shutdown still finish.
    pub fn shutdown(&self) {
        self.closed.store(true, Ordering::Release);
        for hop in Hop::ALL {
            let slots = std::mem::take(&mut self.lock_hop(hop).slots);
            drop(slots);
        }
    }

    pub(crate) fn lock_hop(&self, hop: Hop) -> MutexGuard<'_, HopMap> {
        self.hops[hop_index(hop)]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Serves `key` from the cache, joins the call in progress, or starts one.
    fn lookup(&self, key: HopKey, minter: &Minter, events: &mut Events) -> Lookup {
        let mut guard = self.lock_hop(key.hop());
        // Checked under the lock, so that nothing is stored once `shutdown` has emptied the map.
        if self.closed.load(Ordering::Acquire) {
            return Lookup::Closed;
        }
        let map = &mut *guard;
        let now = self.clock.now();
        let tick = map.next_tick();
        // The hot path: one hash lookup, no allocation.
        if let Some(slot) = map.slots.get_mut(&key) {
            slot.last_used = now;
            slot.recency = tick;
            if let Some(token) = slot.servable(now) {
                map.stats.hits += 1;
                return Lookup::Ready(Ok(token.minted(true)));
            }
        } else {
            map.make_room(self.policy().max_entries, now, events);
            let id = self.next_slot_id.fetch_add(1, Ordering::Relaxed);
            map.slots.insert(key.clone(), Slot::new(id, now, tick));
        }
        map.stats.misses += 1;
        let Some(slot) = map.slots.get_mut(&key) else {
            // Present: found or inserted above under this lock. Were it missing, minting directly
            // (what `Closed` does) would still be a correct answer.
            return Lookup::Closed;
        };
        if let Some(flight) = &slot.flight {
            map.stats.waits += 1;
            return Lookup::Wait(flight.clone());
        }
        if let Some(refusal) = slot.throttle.as_ref().and_then(|t| t.refusal(now)) {
            return Lookup::Ready(Err(refusal));
        }
        slot.throttle = None;
        let flight = flight::spawn(
            self.this.clone(),
            self.clock.clone(),
            key,
            slot.id,
            minter.clone(),
            FlightKind::Foreground,
        );
        slot.flight = Some(flight.clone());
        map.stats.waits += 1;
        Lookup::Wait(flight)
    }

    /// A failed call: keep serving a still-valid token and back off (transient), or drop what is
    /// left (permanent, or nothing servable). Either way the error is never stored as a token.
    fn record_failure(
        &self,
        map: &mut HopMap,
        key: &HopKey,
        slot_id: u64,
        kind: FlightKind,
        error: &EntraError,
        events: &mut Events,
    ) {
        let now = self.clock.now();
        let refresh = kind == FlightKind::Refresh;
        if refresh {
            map.stats.refreshes_failed += 1;
        }
        let Some(slot) = map.slots.get_mut(key).filter(|s| s.id == slot_id) else {
            if refresh {
                events.refresh_failed(key, error, None);
            }
            return;
        };
        slot.flight = None;
        // The next attempt runs with whatever is in force by then.
        slot.renew_after_landing = false;
        if let Some(wait) = error.retry_after.filter(|d| !d.is_zero()) {
            slot.throttle = now.checked_add(wait).map(|until| Throttle {
                until,
                error: error.clone(),
            });
        }
        let stale_until = slot.servable(now).map(|t| t.serve_until);
        if let (true, Some(until)) = (error.is_transient(), stale_until) {
            slot.failures = slot.failures.saturating_add(1);
            let delay = self
                .policy()
                .backoff(slot.failures, map.rng.random::<f64>())
                .max(error.retry_after.unwrap_or_default());
            if let Some(token) = slot.token.as_mut() {
                token.next_refresh = now.checked_add(delay).unwrap_or(token.serve_until);
            }
            slot.reschedule.notify_one();
            if refresh {
                events.refresh_failed(key, error, Some(until));
            }
            return;
        }
        let cause = slot.token.as_ref().map(|_| {
            if error.is_transient() {
                Eviction::Expired
            } else {
                Eviction::Failed
            }
        });
        let throttled = slot.throttle.as_ref().is_some_and(|t| now < t.until);
        if throttled && error.is_transient() {
            // Keep the key, without its token, only to hold the Retry-After window.
            slot.drop_token();
            if let Some(cause) = cause {
                map.stats.evictions += 1;
                events.evicted(key, cause);
            }
        } else {
            map.remove(key, cause, events);
        }
        if refresh {
            events.refresh_failed(key, error, None);
        }
    }
}

impl flight::Landing for HopCaches {
    fn complete(&self, landed: Landed) -> FlightResult {
        let Landed {
            key,
            slot_id,
            kind,
            minter,
            result,
        } = landed;
        let mut events = Events::default();
        let outcome = {
            let mut guard = self.lock_hop(key.hop());
            let map = &mut *guard;
            match result {
                Ok(token) => {
                    let now = self.clock.now();
                    let jitter = map.rng.random_range(-1.0..=1.0);
                    let mut cached =
                        Cached::new(token, now, self.clock.unix_now(), &self.policy(), jitter);
                    let minted = cached.minted(false);
                    if kind == FlightKind::Refresh {
                        map.stats.refreshes_ok += 1;
                    }
                    if let Some(slot) = map.slots.get_mut(&key).filter(|s| s.id == slot_id) {
                        slot.flight = None;
                        slot.throttle = None;
                        slot.failures = 0;
                        if std::mem::take(&mut slot.renew_after_landing) {
                            cached.next_refresh = now;
                        }
                        slot.token = Some(cached);
                        if slot.refresher.is_some() {
                            slot.reschedule.notify_one();
                        } else {
                            slot.refresher = Some(refresh::spawn(
                                self.this.clone(),
                                self.clock.clone(),
                                key,
                                slot_id,
                                minter,
                                slot.reschedule.clone(),
                            ));
                        }
                    }
                    Ok(minted)
                }
                Err(error) => {
                    self.record_failure(map, &key, slot_id, kind, &error, &mut events);
                    Err(error)
                }
            }
        };
        events.deliver();
        outcome
    }
}

impl refresh::Decide for HopCaches {
    fn refresh_step(&self, key: &HopKey, slot_id: u64, minter: &Minter) -> Step {
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
                .checked_add(self.policy().idle_timeout)
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
        events.deliver();
        step
    }
}

impl HopCache for HopCaches {
    fn get_or_mint(
        &self,
        key: HopKey,
        mint: Minter,
    ) -> BoxFuture<'static, Result<Minted, EntraError>> {
        let caches = self.this.upgrade();
        let clock = self.clock.clone();
        let hop = key.hop();
        Box::pin(async move {
            let lookup = match &caches {
                Some(caches) => {
                    let mut events = Events::default();
                    let lookup = caches.lookup(key, &mint, &mut events);
                    events.deliver();
                    lookup
                }
                None => Lookup::Closed,
            };
            // A waiter does not keep the cache alive.
            drop(caches);
            match lookup {
                Lookup::Ready(result) => result,
                Lookup::Wait(flight) => flight.await,
                Lookup::Closed => flight::pass_through(clock, hop, mint).await,
            }
        })
    }
}
