//! Single flight: one upstream call per key at a time, however many callers wait for it.
//!
//! A flight is a spawned task, not a future polled by its first caller: a caller that gives up (its
//! gRPC deadline passes) cancels only its own wait, never the call the others are waiting on. The
//! task stores its outcome in the cache itself (through [`Landing`], reached by a `Weak`, so a flight
//! never keeps a dropped cache alive), then hands the same outcome to every waiter through a
//! [`Shared`] future: one token, or one error cloned for each waiter. An error is never stored as a
//! token, so the next request after a failure starts a fresh call.

use std::sync::{Arc, Weak};

use agentmint_entra::{EntraError, ErrorClass, Hop, HopKey, IssuedToken, Minted, Minter, Reason};
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use tracing::Instrument;

use agentmint_base::Clock;

/// What every waiter on a flight receives.
pub(crate) type FlightResult = Result<Minted, EntraError>;

/// A handle on an upstream call in progress; clone it to wait on it.
pub(crate) type Flight = Shared<BoxFuture<'static, FlightResult>>;

/// Who started a flight: a caller with no servable token, or the background refresher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FlightKind {
    Foreground,
    Refresh,
}

/// Where a flight stores its outcome: the caches, which implement it. A trait, so that this file
/// does not depend on the caches that depend on it.
pub(crate) trait Landing: Send + Sync + 'static {
    /// Stores the outcome of a flight and returns what its waiters get.
    fn complete(&self, landed: Landed) -> FlightResult;
}

/// A finished upstream call: for slot `slot_id` of `key`, started as `kind` with `minter`.
pub(crate) struct Landed {
    pub(crate) key: HopKey,
    pub(crate) slot_id: u64,
    pub(crate) kind: FlightKind,
    pub(crate) minter: Minter,
    pub(crate) result: Result<IssuedToken, EntraError>,
}

/// Starts one upstream call for the slot `slot_id` of `key`.
pub(crate) fn spawn(
    caches: Weak<dyn Landing>,
    clock: Arc<dyn Clock>,
    key: HopKey,
    slot_id: u64,
    minter: Minter,
    kind: FlightKind,
) -> Flight {
    let hop = key.hop();
    // The task logs in the span of the caller that started it (the gateway's `mint` span names the
    // provider), and so do the refreshes it schedules.
    let task = tokio::spawn(
        async move {
            let result = minter().await.and_then(|token| usable(hop, token));
            match caches.upgrade() {
                Some(caches) => caches.complete(Landed {
                    key,
                    slot_id,
                    kind,
                    minter,
                    result,
                }),
                None => result.map(|token| uncached(&*clock, token)),
            }
        }
        .instrument(tracing::Span::current()),
    );
    task.map(move |joined| {
        joined.unwrap_or_else(|_| {
            Err(EntraError::new(
                hop,
                ErrorClass::Transient,
                Reason::Other,
                "the token request ended before it completed",
            ))
        })
    })
    .boxed()
    .shared()
}

/// Mints once without touching any cache (after shutdown).
pub(crate) async fn pass_through(clock: Arc<dyn Clock>, hop: Hop, minter: Minter) -> FlightResult {
    let token = minter().await.and_then(|token| usable(hop, token))?;
    Ok(uncached(&*clock, token))
}

/// Rejects a token that is already expired on arrival. `entra` validates `expires_in` first; this is
/// the cache's own defence, so that no arithmetic here ever rests on a zero lifetime.
fn usable(hop: Hop, token: IssuedToken) -> Result<IssuedToken, EntraError> {
    if token.expires_in.is_zero() {
        return Err(EntraError::new(
            hop,
            ErrorClass::Permanent,
            Reason::InvalidResponse,
            "the token endpoint returned a token with no lifetime",
        ));
    }
    Ok(token)
}

fn uncached(clock: &dyn Clock, token: IssuedToken) -> Minted {
    Minted {
        expires_at_unix: expires_at_unix(clock.unix_now(), &token),
        token: Arc::new(token),
        cache_hit: false,
    }
}

/// The wall-clock expiry reported to callers: the wall clock at receipt plus `expires_in`.
pub(crate) fn expires_at_unix(unix_at_receipt: i64, token: &IssuedToken) -> i64 {
    let secs = i64::try_from(token.expires_in.as_secs()).unwrap_or(i64::MAX);
    unix_at_receipt.saturating_add(secs)
}
