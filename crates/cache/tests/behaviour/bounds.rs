//! The size bound and idle eviction (RELIABILITY 14).

use std::time::Duration;

use agentmint_cache::CachePolicy;
use agentmint_entra::Hop;

use crate::support::*;

fn bounded(max_entries: usize) -> Harness {
    Harness::new(CachePolicy {
        max_entries,
        ..CachePolicy::default()
    })
}

fn idle_after(idle_timeout: Duration) -> Harness {
    Harness::new(CachePolicy {
        idle_timeout,
        ..CachePolicy::default()
    })
}

#[tokio::test]
async fn beyond_the_bound_the_least_recently_used_key_is_evicted() {
    let h = bounded(3);
    let upstream = Upstream::new(&h);
    h.fill(&upstream, 3).await;
    // Key 0 is used again, so key 1 is now the least recently used.
    assert!(h.get(&agent_key(0), &upstream).await.unwrap().cache_hit);
    h.get(&agent_key(3), &upstream).await.unwrap();
    assert_eq!(h.caches.len(), 3);
    assert_eq!(h.caches.stats().hop(Hop::AgentIdentity).evictions, 1);

    for n in [0, 2, 3] {
        assert!(h.get(&agent_key(n), &upstream).await.unwrap().cache_hit);
    }
    assert!(!h.get(&agent_key(1), &upstream).await.unwrap().cache_hit);
}

#[tokio::test]
async fn memory_stays_bounded_however_many_keys_arrive() {
    let h = bounded(5);
    let upstream = Upstream::new(&h);
    for n in 0..500 {
        h.get(&agent_key(n), &upstream).await.unwrap();
        assert!(h.caches.len() <= 5);
    }
    settle().await;
    // Evicted keys' refreshers are gone too.
    assert_eq!(h.clock.pending_sleepers(), 5);
    assert_eq!(h.caches.stats().hop(Hop::AgentIdentity).evictions, 495);
}

#[tokio::test]
async fn the_bound_is_per_hop() {
    let h = bounded(1);
    let upstream = Upstream::new(&h);
    h.get(&exchange_key(), &upstream).await.unwrap();
    h.get(&agent_key(1), &upstream).await.unwrap();
    h.get(&user_key("agent-1", &["User.Read"]), &upstream)
        .await
        .unwrap();
    assert_eq!(h.caches.len(), 3);
    assert!(h.get(&exchange_key(), &upstream).await.unwrap().cache_hit);
}

#[tokio::test]
async fn an_idle_key_stops_being_refreshed_and_is_dropped() {
    let h = idle_after(10 * MIN);
    let upstream = Upstream::new(&h);
    h.get(&agent_key(1), &upstream).await.unwrap();

    h.advance_to(10 * MIN - SEC).await;
    assert_eq!(h.caches.len(), 1);
    h.advance_to(10 * MIN).await;
    assert!(h.caches.is_empty());
    assert_eq!(h.caches.stats().hop(Hop::AgentIdentity).evictions, 1);

    for _ in 0..12 {
        h.advance(10 * MIN).await;
    }
    assert_eq!(upstream.calls(), 1);
    assert_eq!(h.clock.pending_sleepers(), 0);
}

#[tokio::test]
async fn a_key_in_use_is_kept_and_refreshed_past_the_idle_timeout() {
    let h = idle_after(10 * MIN);
    let upstream = Upstream::new(&h);
    let key = agent_key(1);
    h.get(&key, &upstream).await.unwrap();
    for _ in 0..24 {
        h.advance(5 * MIN).await;
        assert!(h.get(&key, &upstream).await.unwrap().cache_hit);
    }
    assert!(upstream.calls() >= 2);
    assert_eq!(h.caches.stats().hop(Hop::AgentIdentity).evictions, 0);
}
