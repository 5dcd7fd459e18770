//! What the cache reports about work nobody is waiting on: background refresh failures and
//! evictions, logged through `tracing` (and counted in [`crate::HopStats`]). A failure a caller
//! waits on reaches that caller as its error; these would otherwise go unseen until a token ran out.
//!
//! Events are gathered while a hop's lock is held and logged after it is released, so logging never
//! happens under the lock.

use std::time::Instant;

use agentmint_entra::{EntraError, HopKey};
use tracing::{debug, warn};

/// Why a key left the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Eviction {
    /// The hop held `max_entries` keys and this one was the least recently used.
    Capacity,
    /// Nobody asked for it within `idle_timeout`.
    Idle,
    /// Its token entered the safety margin with no successful refresh.
    Expired,
    /// A refresh failed permanently (bad credential, FIC mismatch, consent missing, ...).
    Failed,
}

impl Eviction {
    /// A stable lower-case name for logs and metric labels.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Eviction::Capacity => "capacity",
            Eviction::Idle => "idle",
            Eviction::Expired => "expired",
            Eviction::Failed => "failed",
        }
    }
}

/// Events gathered under a lock, to deliver once it is released.
#[derive(Default)]
pub(crate) struct Events(Vec<Event>);

enum Event {
    RefreshFailed {
        key: HopKey,
        error: EntraError,
        served_stale_until: Option<Instant>,
    },
    Evicted {
        key: HopKey,
        cause: Eviction,
    },
}

impl Events {
    pub(crate) fn refresh_failed(
        &mut self,
        key: &HopKey,
        error: &EntraError,
        served_stale_until: Option<Instant>,
    ) {
        self.0.push(Event::RefreshFailed {
            key: key.clone(),
            error: error.clone(),
            served_stale_until,
        });
    }

    pub(crate) fn evicted(&mut self, key: &HopKey, cause: Eviction) {
        self.0.push(Event::Evicted {
            key: key.clone(),
            cause,
        });
    }

    /// Logs every event. Logs name the hop and the error (whose `Display`
    /// carries no secret and no upstream text), never the key: keys can hold user names.
    pub(crate) fn deliver(self) {
        for event in self.0 {
            match event {
                Event::RefreshFailed {
                    key,
                    error,
                    served_stale_until,
                } => {
                    warn!(
                        hop = %key.hop(),
                        reason = %error.reason,
                        transient = error.is_transient(),
                        still_serving = served_stale_until.is_some(),
                        "background token refresh failed: {error}"
                    );
                }
                Event::Evicted { key, cause } => {
                    debug!(hop = %key.hop(), cause = cause.as_str(), "cache key evicted");
                }
            }
        }
    }
}
