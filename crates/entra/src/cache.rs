//! The interface through which the chains obtain each hop's token: the caller (the gateway) supplies
//! a cache; this crate holds none.
//!
//! A [`Minter`] is a factory, not a one-shot future: a cache that refreshes ahead of expiry calls it
//! again in the background, and the minter for a later hop asks the cache for the earlier hops'
//! tokens each time it runs, so a refresh of hop 2 reuses (or refreshes) T1 through the same cache.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use futures::future::BoxFuture;

use crate::error::EntraError;
use crate::keys::HopKey;
use crate::token::{IssuedToken, Minted};

/// One upstream call for one hop, returning the parsed, claim-checked token.
pub type MintFuture = BoxFuture<'static, Result<IssuedToken, EntraError>>;

/// A repeatable upstream call.
pub type Minter = Arc<dyn Fn() -> MintFuture + Send + Sync>;

/// Where the chains get each hop's token.
pub trait HopCache: Send + Sync + 'static {
    /// Returns a valid token for `key`, calling `mint` when there is none (at most one call per key
    /// at a time, however many callers wait).
    fn get_or_mint(
        &self,
        key: HopKey,
        mint: Minter,
    ) -> BoxFuture<'static, Result<Minted, EntraError>>;
}

/// A cache that caches nothing: every call mints. For tests and one-shot tools.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoCache;

impl HopCache for NoCache {
    fn get_or_mint(
        &self,
        _key: HopKey,
        mint: Minter,
    ) -> BoxFuture<'static, Result<Minted, EntraError>> {
        Box::pin(async move {
            let token = mint().await?;
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0);
            let expires_at_unix = now + token.expires_in.as_secs() as i64;
            Ok(Minted {
                token: Arc::new(token),
                cache_hit: false,
                expires_at_unix,
            })
        })
    }
}
