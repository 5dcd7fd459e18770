//! One upstream call per key at a time, however many callers (RELIABILITY 12, 13).

use std::sync::Arc;
use std::time::Duration;

use agentmint_cache::CachePolicy;
use agentmint_entra::{Hop, HopCache};
use futures::future::join_all;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_callers_on_a_cold_key_share_one_call() {
    let h = Harness::new(CachePolicy::default());
    let upstream = Upstream::gated(&h);
    let key = agent_key(1);
    let callers: Vec<_> = (0..1000)
        .map(|_| tokio::spawn(h.caches.get_or_mint(key.clone(), upstream.minter())))
        .collect();
    tokio::time::timeout(Duration::from_secs(10), async {
        while h.caches.stats().hop(Hop::AgentIdentity).waits < 1000 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("every caller is waiting");
    assert_eq!(upstream.calls(), 1);

    upstream.release(1);
    let mut tokens = Vec::new();
    for caller in callers {
        tokens.push(within(caller).await.unwrap().unwrap());
    }
    assert_eq!(upstream.calls(), 1);
    assert!(
        tokens
            .iter()
            .all(|m| Arc::ptr_eq(&m.token, &tokens[0].token))
    );
    assert!(tokens.iter().all(|m| !m.cache_hit));
}

#[tokio::test]
async fn a_failed_call_reaches_every_waiter_and_the_next_request_starts_afresh() {
    let h = Harness::new(CachePolicy::default());
    let upstream = Upstream::gated(&h);
    let key = agent_key(1);
    let waiters = tokio::spawn(join_all(
        (0..1000).map(|_| h.caches.get_or_mint(key.clone(), upstream.minter())),
    ));
    settle().await;
    assert_eq!(upstream.calls(), 1);

    upstream.fail_with(Some(transient()));
    upstream.release(1);
    let results = within(waiters).await.unwrap();
    assert!(
        results
            .iter()
            .all(|r| r.as_ref().unwrap_err() == &transient())
    );
    assert!(h.caches.is_empty());

    upstream.fail_with(None);
    upstream.release(1);
    let minted = h.get(&key, &upstream).await.unwrap();
    assert_eq!(upstream.calls(), 2);
    assert_eq!(token_of(&minted), "token-2");
}

#[tokio::test]
async fn a_caller_that_gives_up_does_not_cancel_the_call_for_the_others() {
    let h = Harness::new(CachePolicy::default());
    let upstream = Upstream::gated(&h);
    let key = agent_key(1);
    let impatient = tokio::spawn(h.caches.get_or_mint(key.clone(), upstream.minter()));
    let patient = tokio::spawn(h.caches.get_or_mint(key.clone(), upstream.minter()));
    settle().await;
    impatient.abort();
    settle().await;

    upstream.release(1);
    let minted = within(patient).await.unwrap().unwrap();
    assert_eq!(token_of(&minted), "token-1");
    assert_eq!(upstream.calls(), 1);
    assert!(h.get(&key, &upstream).await.unwrap().cache_hit);
}

#[tokio::test]
async fn callers_needing_a_token_join_a_refresh_in_progress() {
    let (h, upstream, key) = one_token_behind_a_gate().await;

    // The refresh starts at 45 min and hangs; at 55 min the token enters its margin.
    h.advance_to(45 * MIN).await;
    assert_eq!(upstream.calls(), 2);
    h.advance_to(55 * MIN).await;
    let waiters = tokio::spawn(join_all(
        (0..10).map(|_| h.caches.get_or_mint(key.clone(), upstream.minter())),
    ));
    settle().await;
    assert!(!waiters.is_finished());

    upstream.release(1);
    let results = within(waiters).await.unwrap();
    assert_eq!(upstream.calls(), 2);
    for minted in results {
        let minted = minted.unwrap();
        assert_eq!(token_of(&minted), "token-2");
        assert!(!minted.cache_hit);
    }
}
