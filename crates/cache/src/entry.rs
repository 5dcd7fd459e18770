//! One key's state: its token and when it stops being served and is refreshed, the upstream call in
//! progress, a `Retry-After` window, and the background refresher.

use std::sync::Arc;
use std::time::{Duration, Instant};

use agentmint_entra::{EntraError, IssuedToken, Minted};
use tokio::sync::Notify;
use tokio::task::AbortHandle;

use crate::flight::{Flight, expires_at_unix};
use crate::policy::{CachePolicy, MAX_LIFETIME};

/// A token with the instants that govern it, all on the monotonic clock.
pub(crate) struct Cached {
    token: Arc<IssuedToken>,
    expires_at_unix: i64,
    /// Served while `now < serve_until` (the lifetime minus the margin).
    pub(crate) serve_until: Instant,
    /// When the background refresher next calls upstream.
    pub(crate) next_refresh: Instant,
}

impl Cached {
    /// `token` as received at `received` (monotonic) and `unix` (wall clock), with its refresh placed
    /// by `jitter_unit` (a uniform draw in `-1.0..=1.0`).
    pub(crate) fn new(
        token: IssuedToken,
        received: Instant,
        unix: i64,
        policy: &CachePolicy,
        jitter_unit: f64,
    ) -> Self {
        let lifetime = token.expires_in.min(MAX_LIFETIME);
        let window = lifetime.saturating_sub(policy.margin(lifetime));
        let offset = policy.refresh_offset(lifetime, token.refresh_in, jitter_unit);
        let at = |offset: Duration| received.checked_add(offset).unwrap_or(received);
        Self {
            expires_at_unix: expires_at_unix(unix, &token),
            serve_until: at(window),
            next_refresh: at(offset),
            token: Arc::new(token),
        }
    }

    /// True while the token may be handed out.
    pub(crate) fn servable(&self, now: Instant) -> bool {
        now < self.serve_until
    }

    /// What a caller receives.
    pub(crate) fn minted(&self, cache_hit: bool) -> Minted {
        Minted {
            token: self.token.clone(),
            cache_hit,
            expires_at_unix: self.expires_at_unix,
        }
    }
}

/// Upstream asked (with `Retry-After`) not to be called for this key before `until`; requests meanwhile
/// get `error` at once.
pub(crate) struct Throttle {
    pub(crate) until: Instant,
    pub(crate) error: EntraError,
}

impl Throttle {
    /// The throttling error with `retry_after` shortened to what remains, if the window is open.
    pub(crate) fn refusal(&self, now: Instant) -> Option<EntraError> {
        let remaining = self.until.checked_duration_since(now)?;
        if remaining.is_zero() {
            return None;
        }
        let mut error = self.error.clone();
        error.retry_after = Some(remaining);
        Some(error)
    }
}

/// Everything the cache holds for one key.
pub(crate) struct Slot {
    /// Unique over the cache's life: a flight or refresher started for a slot that has since been
    /// removed (and maybe recreated) recognises that it no longer owns it.
    pub(crate) id: u64,
    pub(crate) token: Option<Cached>,
    /// Consecutive failed refreshes of the current token, for the backoff.
    pub(crate) failures: u32,
    /// The upstream call in progress, which every caller needing a token joins.
    pub(crate) flight: Option<Flight>,
    pub(crate) throttle: Option<Throttle>,
    /// The background refresher; present exactly while a token is held.
    pub(crate) refresher: Option<AbortHandle>,
    /// Tells the refresher its schedule changed.
    pub(crate) reschedule: Arc<Notify>,
    /// The last request, for idleness.
    pub(crate) last_used: Instant,
    /// The last request's sequence number within the hop, for least-recently-used eviction (ties
    /// on `last_used` are common with a clock that does not move between requests).
    pub(crate) recency: u64,
    /// Set when the key was asked to renew ([`crate::HopCaches::refresh_where`]) while a call was in
    /// flight: that call may have used what the renewal replaces, so its token is renewed at once.
    pub(crate) renew_after_landing: bool,
}

impl Slot {
    pub(crate) fn new(id: u64, now: Instant, recency: u64) -> Self {
        Self {
            id,
            token: None,
            failures: 0,
            flight: None,
            throttle: None,
            refresher: None,
            reschedule: Arc::new(Notify::new()),
            last_used: now,
            recency,
            renew_after_landing: false,
        }
    }

    /// The token, if it may be handed out at `now`.
    pub(crate) fn servable(&self, now: Instant) -> Option<&Cached> {
        self.token.as_ref().filter(|t| t.servable(now))
    }

    /// Forgets the token and stops its refresher.
    pub(crate) fn drop_token(&mut self) {
        self.token = None;
        self.failures = 0;
        if let Some(refresher) = self.refresher.take() {
            refresher.abort();
        }
    }

    /// True when the slot holds nothing worth keeping: no token, no call in progress, no open
    /// `Retry-After` window.
    pub(crate) fn is_empty(&self, now: Instant) -> bool {
        self.token.is_none()
            && self.flight.is_none()
            && self.throttle.as_ref().is_none_or(|t| t.until <= now)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(refresher) = self.refresher.take() {
            refresher.abort();
        }
    }
}
