//! Refresh ahead, jitter, backoff and `Retry-After` (RELIABILITY 15-18, 22).

use std::collections::BTreeMap;
use std::time::Duration;

use agentmint_cache::CachePolicy;
use agentmint_entra::Hop;

use crate::support::*;

#[tokio::test]
async fn under_steady_load_no_caller_waits_after_warm_up_and_each_token_is_minted_once() {
    let h = Harness::new(CachePolicy::default());
    let upstream = Upstream::new(&h);
    let key = agent_key(1);
    assert!(!h.get(&key, &upstream).await.unwrap().cache_hit);

    // Ten one-hour lifetimes, a request every minute.
    for _ in 0..600 {
        h.advance(MIN).await;
        assert!(h.get(&key, &upstream).await.unwrap().cache_hit);
    }

    let stats = h.caches.stats();
    let hop = stats.hop(Hop::AgentIdentity);
    assert_eq!(hop.waits, 1);
    assert_eq!(hop.misses, 1);
    assert_eq!(hop.hits, 600);
    // One call per refresh interval: 45 min ± 10% jitter, seen at minute granularity.
    let times = upstream.times();
    for pair in times.windows(2) {
        let interval = pair[1] - pair[0];
        assert!(interval >= Duration::from_secs(2430), "{interval:?}");
        assert!(interval <= Duration::from_secs(2970) + MIN, "{interval:?}");
    }
    assert!(times.len() >= 12, "{} calls", times.len());
    assert_eq!(hop.refreshes_ok as usize, times.len() - 1);
}

#[tokio::test]
async fn refresh_in_sets_the_refresh_time() {
    let h = Harness::exact();
    let upstream = Upstream::new(&h);
    upstream.set_refresh_in(Some(10 * MIN));
    let key = agent_key(1);
    h.get(&key, &upstream).await.unwrap();

    h.advance_to(10 * MIN - SEC).await;
    assert_eq!(upstream.calls(), 1);
    h.advance_to(10 * MIN).await;
    assert_eq!(upstream.calls(), 2);
    assert_eq!(token_of(&h.get(&key, &upstream).await.unwrap()), "token-2");
}

#[tokio::test]
async fn tokens_issued_together_refresh_spread_out() {
    let h = Harness::new(CachePolicy::default());
    let upstream = Upstream::new(&h);
    h.fill(&upstream, 100).await;

    h.advance_to(40 * MIN).await;
    assert_eq!(upstream.calls(), 100);
    for _ in 0..60 {
        h.advance(10 * SEC).await;
    }
    assert_eq!(upstream.calls(), 200);

    // Count refreshes per 10-second step: 100 refreshes over a 9-minute band, no burst.
    let mut per_step: BTreeMap<u64, usize> = BTreeMap::new();
    for at in &upstream.times()[100..] {
        let secs = (*at - h.start).as_secs();
        assert!((2430..=2980).contains(&secs), "refresh at {secs} s");
        *per_step.entry(secs / 10).or_default() += 1;
    }
    assert!(
        per_step.len() >= 30,
        "only {} distinct steps",
        per_step.len()
    );
    assert!(per_step.values().all(|&n| n <= 10), "{per_step:?}");
}

#[tokio::test]
async fn a_transient_refresh_failure_keeps_serving_the_valid_token_and_backs_off() {
    let (h, upstream, key) = one_token_cached().await;
    upstream.fail_with(Some(transient()));

    h.advance_to(45 * MIN).await;
    assert_eq!(upstream.calls(), 2);
    for _ in 0..300 {
        let minted = h.get(&key, &upstream).await.unwrap();
        assert!(minted.cache_hit);
        assert_eq!(token_of(&minted), "token-1");
        h.advance(SEC).await;
    }

    // Five minutes of failures: a handful of retries spaced by growing, jittered delays, no storm.
    let times = upstream.times();
    let retries = times.len() - 2;
    assert!(
        (4..=30).contains(&retries),
        "{retries} retries in 5 minutes"
    );
    let gaps: Vec<Duration> = times[1..].windows(2).map(|w| w[1] - w[0]).collect();
    for (failures, gap) in (1u32..).zip(&gaps) {
        let cap = (SEC * 2u32.saturating_pow(failures - 1)).min(MIN);
        assert!(*gap <= cap + SEC, "retry {failures} after {gap:?}");
    }
    assert!(gaps.windows(2).any(|w| w[0] != w[1]), "{gaps:?}");
    assert_eq!(
        h.caches.stats().hop(Hop::AgentIdentity).refreshes_failed as usize,
        times.len() - 1
    );

    upstream.fail_with(None);
    h.advance(MIN).await;
    let minted = h.get(&key, &upstream).await.unwrap();
    assert!(minted.cache_hit);
    assert_ne!(token_of(&minted), "token-1");
}

#[tokio::test]
async fn a_permanent_refresh_failure_evicts_the_key_and_stops_refreshing() {
    let (h, upstream, key) = one_token_cached().await;
    upstream.fail_with(Some(permanent()));

    h.advance_to(45 * MIN).await;
    assert_eq!(upstream.calls(), 2);
    assert!(h.caches.is_empty());
    let hop = *h.caches.stats().hop(Hop::AgentIdentity);
    assert_eq!(hop.evictions, 1);
    assert_eq!(hop.refreshes_failed, 1);

    // No retries in the background, ever.
    for _ in 0..24 {
        h.advance(10 * MIN).await;
    }
    assert_eq!(upstream.calls(), 2);

    // The next caller makes one fresh attempt and gets its error.
    assert_eq!(h.get(&key, &upstream).await.unwrap_err(), permanent());
    assert_eq!(upstream.calls(), 3);
}

#[tokio::test]
async fn a_transient_failure_lasting_into_the_margin_makes_callers_wait_for_a_fresh_token() {
    let (h, upstream, key) = one_token_behind_a_gate().await;
    upstream.fail_with(Some(transient()));
    upstream.release(1000);

    h.advance_to(55 * MIN - SEC).await;
    assert!(h.get(&key, &upstream).await.unwrap().cache_hit);
    h.advance(SEC).await;
    assert!(h.caches.is_empty());

    upstream.fail_with(None);
    let calls = upstream.calls();
    let minted = h.get(&key, &upstream).await.unwrap();
    assert!(!minted.cache_hit);
    assert_eq!(upstream.calls(), calls + 1);
    assert_eq!(h.caches.stats().hop(Hop::AgentIdentity).waits, 2);
}

#[tokio::test]
async fn retry_after_on_a_failed_refresh_delays_the_next_attempt() {
    let (h, upstream, key) = one_token_cached().await;
    upstream.fail_with(Some(throttled(2 * MIN)));

    h.advance_to(45 * MIN).await;
    assert_eq!(upstream.calls(), 2);
    upstream.fail_with(None);
    h.advance_to(47 * MIN - SEC).await;
    assert_eq!(upstream.calls(), 2);
    assert!(h.get(&key, &upstream).await.unwrap().cache_hit);
    h.advance_to(47 * MIN).await;
    assert_eq!(upstream.calls(), 3);
    assert_eq!(token_of(&h.get(&key, &upstream).await.unwrap()), "token-3");
}

#[tokio::test]
async fn retry_after_on_a_failed_mint_refuses_requests_until_it_passes() {
    let h = Harness::new(CachePolicy::default());
    let upstream = Upstream::new(&h);
    let key = agent_key(1);
    upstream.fail_with(Some(throttled(30 * SEC)));
    assert!(h.get(&key, &upstream).await.is_err());

    // Inside the window: the same error at once, with the time that remains, and no call.
    h.advance(10 * SEC).await;
    let refused = h.get(&key, &upstream).await.unwrap_err();
    assert_eq!(refused.retry_after, Some(20 * SEC));
    assert_eq!(upstream.calls(), 1);

    upstream.fail_with(None);
    h.advance(20 * SEC).await;
    assert_eq!(token_of(&h.get(&key, &upstream).await.unwrap()), "token-2");
}

#[tokio::test]
async fn a_key_marked_for_renewal_keeps_serving_its_token_until_the_new_one_lands() {
    let h = Harness::exact();
    let upstream = Upstream::gated(&h);
    let key = agent_key(1);
    upstream.release(1);
    within(h.get(&key, &upstream)).await.unwrap();

    assert_eq!(h.caches.refresh_where(|k| *k == key), 1);
    settle().await;
    assert_eq!(
        upstream.calls(),
        2,
        "the renewal started at once, in the background"
    );
    let served = within(h.get(&key, &upstream)).await.unwrap();
    assert!(served.cache_hit);
    assert_eq!(
        token_of(&served),
        "token-1",
        "the old token is served meanwhile"
    );

    upstream.release(1);
    settle().await;
    assert_eq!(
        token_of(&within(h.get(&key, &upstream)).await.unwrap()),
        "token-2"
    );
    assert_eq!(upstream.calls(), 2, "one renewal, then served from cache");
}

#[tokio::test]
async fn a_key_marked_while_its_call_is_in_flight_is_renewed_again_once_it_lands() {
    let h = Harness::exact();
    let upstream = Upstream::gated(&h);
    let key = agent_key(1);
    let first = {
        let (caches, minter, key) = (h.caches.clone(), upstream.minter(), key.clone());
        tokio::spawn(
            async move { agentmint_entra::HopCache::get_or_mint(&*caches, key, minter).await },
        )
    };
    settle().await;
    assert_eq!(h.caches.refresh_where(|k| *k == key), 1);
    upstream.release(1);
    within(first).await.unwrap().unwrap();
    settle().await;
    assert_eq!(
        upstream.calls(),
        2,
        "the call that raced the mark is renewed at once"
    );
    upstream.release(1);
    settle().await;
    assert_eq!(
        token_of(&within(h.get(&key, &upstream)).await.unwrap()),
        "token-2"
    );
}
