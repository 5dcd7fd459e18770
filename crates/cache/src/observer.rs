//! What the cache reports about work nobody is waiting on: background refresh failures and
//! evictions. A failure a caller waits on reaches that caller as its error; these would otherwise
//! go unseen until a token ran out.
//!
//! Events are gathered while a hop's lock is held and delivered after it is released, so an observer
//! may call back into the cache (for `stats()`, say) without deadlocking.

use std::sync::Arc;
use std::time::Instant;

use agentmint_entra::{EntraError, HopKey};
use tracing::{debug, warn};

/// Why a key left the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Eviction {
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
    pub fn as_str(self) -> &'static str {
        match self {
            Eviction::Capacity => "capacity",
            Eviction::Idle => "idle",
            Eviction::Expired => "expired",
            Eviction::Failed => "failed",
        }
    }
}

/// A hook for logging and metering what the caches do in the background. Both methods default to
/// doing nothing; the cache itself already logs each event through `tracing`.
pub trait CacheObserver: Send + Sync + 'static {
    /// A background refresh of `key` failed. `served_stale_until` is when the current token stops
    /// being served (it is still valid until then), or `None` when nothing is served any more.
    fn on_refresh_failed(
        &self,
        _key: &HopKey,
        _error: &EntraError,
        _served_stale_until: Option<Instant>,
    ) {
    }

    /// `key` was dropped from the cache.
    fn on_evicted(&self, _key: &HopKey, _cause: Eviction) {}
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

    /// Logs every event and hands it to `observer`. Logs name the hop and the error (whose `Display`
    /// carries no secret and no upstream text), never the key: keys can hold user names.
    pub(crate) fn deliver(self, observer: Option<Arc<dyn CacheObserver>>) {
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
                    if let Some(observer) = &observer {
                        observer.on_refresh_failed(&key, &error, served_stale_until);
                    }
                }
                Event::Evicted { key, cause } => {
                    debug!(hop = %key.hop(), cause = cause.as_str(), "cache key evicted");
                    if let Some(observer) = &observer {
                        observer.on_evicted(&key, cause);
                    }
                }
            }
        }
    }
}
