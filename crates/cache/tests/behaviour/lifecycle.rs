//! Statistics (background refresh failures and evictions included), invalidation, shutdown and
//! drop.

use std::sync::Arc;
use std::time::Duration;

use agentmint_cache::{CachePolicy, Clock, HopStats};
use agentmint_entra::{Hop, HopCache};
use futures::future::join_all;

use crate::support::*;

#[tokio::test]
async fn statistics_are_counted_per_hop() {
    let h = Harness::exact();
    let upstream = Upstream::new(&h);
    let gated = Upstream::gated(&h);

    h.get(&exchange_key(), &upstream).await.unwrap();
    h.get(&exchange_key(), &upstream).await.unwrap();
    let user = user_key("agent-1", &["User.Read"]);
    let waiters = tokio::spawn(join_all(
        (0..3).map(|_| h.caches.get_or_mint(user.clone(), gated.minter())),
    ));
    settle().await;
    gated.release(1);
    within(waiters).await.unwrap();
    h.advance_to(45 * MIN).await;

    let stats = h.caches.stats();
    assert_eq!(
        *stats.hop(Hop::Blueprint),
        HopStats {
            hits: 1,
            misses: 1,
            waits: 1,
            refreshes_ok: 1,
            refreshes_failed: 0,
            evictions: 0,
            entries: 1,
        }
    );
    let user_hop = stats.hop(Hop::AgentUser);
    assert_eq!((user_hop.misses, user_hop.waits, user_hop.hits), (3, 3, 0));
    // The user refresh is held at the gate: neither succeeded nor failed yet.
    assert_eq!((user_hop.refreshes_ok, user_hop.refreshes_failed), (0, 0));
    assert_eq!(user_hop.entries, 1);
    for hop in [Hop::AgentIdentity, Hop::App, Hop::ManagedIdentity] {
        assert_eq!(*stats.hop(hop), HopStats::default());
    }
    assert_eq!(stats.total().entries, 2);
}

#[tokio::test]
async fn background_refresh_failures_and_evictions_are_counted() {
    let h = Harness::new(CachePolicy {
        jitter: 0.0,
        idle_timeout: 3 * HOUR,
        ..CachePolicy::default()
    });
    let upstream = Upstream::new(&h);
    let key = agent_key(1);
    let hop = |h: &Harness| *h.caches.stats().hop(Hop::AgentIdentity);
    h.get(&key, &upstream).await.unwrap();

    upstream.fail_with(Some(transient()));
    h.advance_to(45 * MIN).await;
    assert_eq!(hop(&h).refreshes_failed, 1);
    assert_eq!(hop(&h).evictions, 0);
    // The transient failure keeps the current token served until its margin (55 minutes).
    h.advance_to(55 * MIN - SEC).await;
    assert!(h.get(&key, &upstream).await.unwrap().cache_hit);

    upstream.fail_with(Some(permanent()));
    h.advance(MIN).await;
    let after = hop(&h);
    assert_eq!(after.refreshes_failed, 2, "{after:?}");
    // The permanent failure evicts the key: nothing is served any more.
    assert_eq!(after.evictions, 1);
    assert_eq!(after.entries, 0);
}

#[tokio::test]
async fn invalidation_drops_only_the_matching_keys() {
    let h = Harness::new(CachePolicy::default());
    let upstream = Upstream::new(&h);
    h.fill(&upstream, 3).await;
    let dropped = h.caches.invalidate_where(|key| *key == agent_key(1));
    assert_eq!(dropped, 1);
    assert_eq!(h.caches.len(), 2);
    settle().await;
    assert_eq!(h.clock.pending_sleepers(), 2);

    assert!(h.get(&agent_key(0), &upstream).await.unwrap().cache_hit);
    assert!(!h.get(&agent_key(1), &upstream).await.unwrap().cache_hit);
    // Invalidation is not an eviction.
    assert_eq!(h.caches.stats().hop(Hop::AgentIdentity).evictions, 0);
}

#[tokio::test]
async fn dropping_the_caches_stops_every_refresher() {
    let h = Harness::new(CachePolicy::default());
    let upstream = Upstream::new(&h);
    h.fill(&upstream, 3).await;
    settle().await;
    assert_eq!(h.clock.pending_sleepers(), 3);
    // Each refresher holds a minter, hence the endpoint.
    assert_eq!(Arc::strong_count(&upstream), 4);

    let Harness { clock, caches, .. } = h;
    drop(caches);
    settle().await;
    assert_eq!(clock.pending_sleepers(), 0);
    assert_eq!(Arc::strong_count(&upstream), 1);
    clock.advance(10 * HOUR);
    settle().await;
    assert_eq!(upstream.calls(), 3);
}

#[tokio::test]
async fn shutdown_stops_every_refresher_and_later_requests_mint_directly() {
    let h = Harness::new(CachePolicy::default());
    let upstream = Upstream::new(&h);
    let key = agent_key(1);
    h.get(&key, &upstream).await.unwrap();
    settle().await;
    assert_eq!(h.clock.pending_sleepers(), 1);

    h.caches.shutdown();
    settle().await;
    assert_eq!(h.clock.pending_sleepers(), 0);
    assert!(h.caches.is_empty());

    let minted = h.get(&key, &upstream).await.unwrap();
    assert!(!minted.cache_hit);
    assert_eq!(minted.expires_at_unix, h.clock.unix_now() + 3600);
    assert!(!h.get(&key, &upstream).await.unwrap().cache_hit);
    assert_eq!(upstream.calls(), 3);
    assert!(h.caches.is_empty());
    h.advance(Duration::from_secs(10 * 3600)).await;
    assert_eq!(upstream.calls(), 3);
}
