//! One hop's keys, counters and random source, all behind that hop's lock.
//!
//! Least-recently-used eviction scans for the oldest key. That is O(n) per insertion into a full
//! map, but an insertion always comes with an upstream call that costs orders of magnitude more than
//! scanning ten thousand entries, while a hit, the hot path, only bumps a counter. A linked LRU list
//! would tax every hit to speed up the rare case.

use std::collections::HashMap;
use std::time::Instant;

use agentmint_entra::HopKey;
use rand::rngs::StdRng;

use crate::entry::Slot;
use crate::events::{Events, Eviction};
use crate::stats::HopStats;

pub(crate) struct HopMap {
    pub(crate) slots: HashMap<HopKey, Slot>,
    /// Counters; `entries` is computed at snapshot time.
    pub(crate) stats: HopStats,
    /// Jitter and backoff draws for this hop.
    pub(crate) rng: StdRng,
    /// Request sequence number, for recency.
    tick: u64,
}

impl HopMap {
    pub(crate) fn new(rng: StdRng) -> Self {
        Self {
            slots: HashMap::new(),
            stats: HopStats::default(),
            rng,
            tick: 0,
        }
    }

    /// The next request sequence number.
    pub(crate) fn next_tick(&mut self) -> u64 {
        self.tick += 1;
        self.tick
    }

    /// Removes `key`, stopping its refresher (the slot's `Drop`). With a `cause`, the removal counts
    /// as an eviction and is reported.
    pub(crate) fn remove(&mut self, key: &HopKey, cause: Option<Eviction>, events: &mut Events) {
        let removed = self.slots.remove(key).is_some();
        if let (true, Some(cause)) = (removed, cause) {
            self.stats.evictions += 1;
            events.evicted(key, cause);
        }
    }

    /// Makes room for one more key: drops slots that hold nothing, then, if the map is still full,
    /// the least recently used key.
    pub(crate) fn make_room(&mut self, max_entries: usize, now: Instant, events: &mut Events) {
        if self.slots.len() < max_entries {
            return;
        }
        self.slots.retain(|_, slot| !slot.is_empty(now));
        while self.slots.len() >= max_entries {
            let Some(victim) = self
                .slots
                .iter()
                .min_by_key(|(_, slot)| slot.recency)
                .map(|(key, _)| key.clone())
            else {
                return;
            };
            self.remove(&victim, Some(Eviction::Capacity), events);
        }
    }

    /// The counters with the current number of cached tokens.
    pub(crate) fn snapshot(&self) -> HopStats {
        HopStats {
            entries: self.slots.values().filter(|s| s.token.is_some()).count() as u64,
            ..self.stats
        }
    }

    /// Cached tokens.
    pub(crate) fn tokens(&self) -> usize {
        self.slots.values().filter(|s| s.token.is_some()).count()
    }
}
