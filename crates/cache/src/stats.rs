//! Per-hop counters, for `/metrics` and for tests that count what the cache did.
//!
//! The counters live inside each hop's map and change only under its lock, so a snapshot of one hop
//! is consistent without atomics.

use agentmint_entra::Hop;

/// What one hop's cache has done since it was built. Counters only grow; `entries` is a gauge.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HopStats {
    /// Requests answered from a cached token, without waiting.
    pub hits: u64,
    /// Requests that found no servable token: they waited for an upstream call, or were refused at
    /// once inside a `Retry-After` window.
    pub misses: u64,
    /// Requests that waited on an upstream call (started by them, by another caller, or by a
    /// background refresh they joined).
    pub waits: u64,
    /// Background refreshes that brought a new token.
    pub refreshes_ok: u64,
    /// Background refreshes that failed (transient or permanent).
    pub refreshes_failed: u64,
    /// Keys dropped by the size bound, idleness, expiry or a permanent failure (not by invalidation
    /// or shutdown).
    pub evictions: u64,
    /// Tokens cached now.
    pub entries: u64,
}

/// A snapshot of every hop's [`HopStats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    hops: [HopStats; Hop::ALL.len()],
}

impl CacheStats {
    pub(crate) fn new(hops: [HopStats; Hop::ALL.len()]) -> Self {
        Self { hops }
    }

    /// One hop's counters.
    pub fn hop(&self, hop: Hop) -> &HopStats {
        &self.hops[hop_index(hop)]
    }

    /// Every hop with its counters, in [`Hop::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (Hop, &HopStats)> {
        Hop::ALL.into_iter().zip(self.hops.iter())
    }

    /// The counters summed over every hop.
    pub fn total(&self) -> HopStats {
        self.hops
            .iter()
            .fold(HopStats::default(), |sum, s| HopStats {
                hits: sum.hits + s.hits,
                misses: sum.misses + s.misses,
                waits: sum.waits + s.waits,
                refreshes_ok: sum.refreshes_ok + s.refreshes_ok,
                refreshes_failed: sum.refreshes_failed + s.refreshes_failed,
                evictions: sum.evictions + s.evictions,
                entries: sum.entries + s.entries,
            })
    }
}

/// The position of `hop` in [`Hop::ALL`], which indexes the per-hop maps and counters.
pub(crate) fn hop_index(hop: Hop) -> usize {
    match hop {
        Hop::Blueprint => 0,
        Hop::AgentIdentity => 1,
        Hop::AgentUser => 2,
        Hop::ManagedIdentity => 3,
        Hop::App => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_index_follows_hop_all() {
        for (i, hop) in Hop::ALL.into_iter().enumerate() {
            assert_eq!(hop_index(hop), i);
        }
    }

    #[test]
    fn total_sums_every_hop() {
        let mut hops = [HopStats::default(); Hop::ALL.len()];
        hops[0].hits = 2;
        hops[4].hits = 3;
        hops[1].entries = 1;
        let stats = CacheStats::new(hops);
        assert_eq!(stats.total().hits, 5);
        assert_eq!(stats.total().entries, 1);
        assert_eq!(stats.hop(Hop::App).hits, 3);
    }
}
