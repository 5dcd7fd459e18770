//! agentmint-cache: the gateway's per-hop token caches (DESIGN.md, "Caching and refresh").
//!
//! [`HopCaches`] implements `agentmint_entra::HopCache`: the chains ask it for each hop's token and
//! it answers from memory, or makes the one upstream call for that key that every concurrent caller
//! then shares. What it guarantees, and where:
//!
//! - **Single flight** (`flight`): at most one upstream call per key at a time; its
//!   token, or its error, goes to every waiter; errors are never cached as tokens.
//! - **Serve window** ([`CachePolicy`]): a token is served only while more than the safety margin
//!   (5 minutes, scaled down for short lifetimes) remains, measured on the monotonic [`Clock`].
//! - **Refresh ahead** (`refresh`): at `refresh_in` or a fraction of the lifetime, with jitter, a
//!   background task renews the token while callers keep being served the current one. Transient
//!   failures back off (full jitter, `Retry-After` honoured) and keep serving the valid token;
//!   permanent failures evict the key and stop.
//! - **Bounds** (`map`): `max_entries` keys per hop with least-recently-used eviction; keys idle for
//!   `idle_timeout` stop being refreshed and are dropped.
//!
//! Files depend one way: `caches` uses `refresh`, `flight`, `entry`, `map` and `events`; a flight and
//! a refresher reach the caches back only through the small traits they declare (`flight::Landing`,
//! `refresh::Decide`), held by `Weak`. Background failures and evictions are logged (`events`) and
//! counted in [`HopStats`].
//!
//! # Why not moka
//!
//! moka brings size bounds, idle expiry and a coalescing `get_with`, but the hard parts here are
//! elsewhere: refreshing ahead while still serving the old value, per-key backoff state that
//! outlives a failed call, `Retry-After` windows, and every decision following an injected clock so
//! that tests control time exactly. moka reads its own clock, its loaders cannot serve stale values
//! while reloading, and bending it to do so would leave two sources of truth. A `HashMap` per hop
//! behind a `std::sync::Mutex` (held only for map operations, never across an await), with a spawned
//! task per upstream call and per refresher, does all of it in a few hundred lines whose behaviour is
//! visible in one place.

#![forbid(unsafe_code)]
// `EntraError` (144 bytes) is the error of the `HopCache` contract; boxing it here would only add a
// conversion at every boundary. It travels on the slow path (a failed upstream call) only.
#![allow(clippy::result_large_err)]

mod caches;
mod entry;
mod events;
mod flight;
mod map;
mod policy;
mod refresh;
mod stats;

pub use caches::HopCaches;
// The clock is agentmint-base's, re-exported so that the cache's users name one clock.
pub use agentmint_base::{Clock, ManualClock, SystemClock};
pub use policy::CachePolicy;
pub use stats::{CacheStats, HopStats};
