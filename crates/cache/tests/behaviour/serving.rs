//! What is served, and until when (RELIABILITY 19, 20, 21).

use std::time::Duration;

use agentmint_cache::{CachePolicy, ManualClock};
use agentmint_entra::{ErrorClass, Hop, Reason};

use crate::support::*;

#[tokio::test]
async fn a_warm_key_is_served_without_waiting_with_the_expiry_from_receipt() {
    let h = Harness::new(CachePolicy::default());
    let upstream = Upstream::new(&h);
    let key = agent_key(1);

    let first = h.get(&key, &upstream).await.unwrap();
    assert!(!first.cache_hit);
    assert_eq!(first.expires_at_unix, ManualClock::START_UNIX + 3600);

    h.advance(10 * MIN).await;
    let second = h.get(&key, &upstream).await.unwrap();
    assert!(second.cache_hit);
    assert_eq!(token_of(&second), "token-1");
    assert_eq!(second.expires_at_unix, ManualClock::START_UNIX + 3600);
    assert_eq!(upstream.calls(), 1);
}

#[tokio::test]
async fn a_token_inside_the_safety_margin_is_never_served() {
    let (h, upstream, key) = one_token_cached().await;
    // Refreshes fail from here on, so token-1 is the only token there is.
    upstream.fail_with(Some(transient()));

    h.advance_to(55 * MIN - SEC).await;
    let last_served = h.get(&key, &upstream).await.unwrap();
    assert_eq!(token_of(&last_served), "token-1");
    assert!(last_served.cache_hit);

    h.advance(SEC).await;
    let calls = upstream.calls();
    assert!(h.get(&key, &upstream).await.is_err());
    assert_eq!(upstream.calls(), calls + 1);

    upstream.fail_with(None);
    let fresh = h.get(&key, &upstream).await.unwrap();
    assert_ne!(token_of(&fresh), "token-1");
    assert!(!fresh.cache_hit);
}

#[tokio::test]
async fn a_short_lifetime_gets_a_proportionally_short_margin() {
    let h = Harness::exact();
    let upstream = Upstream::new(&h);
    upstream.set_lifetime(Duration::from_secs(60));
    let key = agent_key(1);
    h.get(&key, &upstream).await.unwrap();
    upstream.fail_with(Some(transient()));

    // Margin: 10% of 60 s, not 5 minutes.
    h.advance_to(Duration::from_secs(53)).await;
    assert!(h.get(&key, &upstream).await.unwrap().cache_hit);
    h.advance_to(Duration::from_secs(54)).await;
    assert!(h.get(&key, &upstream).await.is_err());
}

#[tokio::test]
async fn a_wall_clock_jump_changes_nothing() {
    let (h, upstream, key) = one_token_behind_a_gate().await;

    h.clock
        .set_wall(unix(ManualClock::START_UNIX + 30 * 86_400));
    let after_forward = h.get(&key, &upstream).await.unwrap();
    assert!(after_forward.cache_hit);
    assert_eq!(
        after_forward.expires_at_unix,
        ManualClock::START_UNIX + 3600
    );

    h.clock
        .set_wall(unix(ManualClock::START_UNIX - 30 * 86_400));
    h.advance_to(45 * MIN).await;
    h.advance_to(55 * MIN - SEC).await;
    assert!(h.get(&key, &upstream).await.unwrap().cache_hit);
    // The refresh started at 45 min on the monotonic clock, whatever the wall clock said.
    assert_eq!(upstream.calls(), 2);
    assert_eq!(upstream.times()[1] - h.start, 45 * MIN);
}

#[tokio::test]
async fn a_token_with_no_lifetime_is_never_cached() {
    let h = Harness::new(CachePolicy::default());
    let upstream = Upstream::new(&h);
    upstream.set_lifetime(Duration::ZERO);
    let key = agent_key(1);

    let error = h.get(&key, &upstream).await.unwrap_err();
    assert_eq!(error.class, ErrorClass::Permanent);
    assert_eq!(error.reason, Reason::InvalidResponse);
    assert_eq!(error.hop, Hop::AgentIdentity);
    assert!(h.caches.is_empty());

    assert!(h.get(&key, &upstream).await.is_err());
    assert_eq!(upstream.calls(), 2);
}

#[tokio::test]
async fn a_token_received_after_a_wall_clock_jump_reports_expiry_from_the_new_wall_time() {
    let h = Harness::new(CachePolicy::default());
    let upstream = Upstream::new(&h);
    h.clock.set_wall(unix(2_000_000_000));
    let minted = h.get(&agent_key(1), &upstream).await.unwrap();
    assert_eq!(minted.expires_at_unix, 2_000_000_000 + 3600);
}
