//! The typed key is the cache identity (RELIABILITY 10, 11).

use agentmint_cache::CachePolicy;
use agentmint_entra::HopKey;

use crate::support::*;

/// Fills `a` then `b` from two endpoints and checks each is served its own token afterwards.
async fn assert_apart(a: HopKey, b: HopKey) {
    assert_ne!(a, b);
    let h = Harness::new(CachePolicy::default());
    let (up_a, up_b) = (Upstream::named(&h, "a"), Upstream::named(&h, "b"));
    h.get(&a, &up_a).await.unwrap();
    let first_b = h.get(&b, &up_b).await.unwrap();
    assert!(!first_b.cache_hit);
    assert_eq!(token_of(&first_b), "b-1");
    assert_eq!(token_of(&h.get(&a, &up_a).await.unwrap()), "a-1");
    assert_eq!(token_of(&h.get(&b, &up_b).await.unwrap()), "b-1");
    assert_eq!(h.caches.len(), 2);
}

#[tokio::test]
async fn scope_sets_that_concatenate_alike_stay_apart() {
    assert_apart(
        HopKey::AgentIdentity(resource("agent-1", &["ab", "cd"])),
        HopKey::AgentIdentity(resource("agent-1", &["a", "bcd"])),
    )
    .await;
}

#[tokio::test]
async fn a_user_token_is_never_served_for_an_app_only_request() {
    let scopes = ["https://graph.microsoft.com/.default"];
    assert_apart(
        HopKey::AgentIdentity(resource("agent-1", &scopes)),
        user_key("agent-1", &scopes),
    )
    .await;
}

#[tokio::test]
async fn an_agent_identity_token_and_an_app_token_of_one_client_stay_apart() {
    let scopes = ["https://graph.microsoft.com/.default"];
    assert_apart(
        HopKey::AgentIdentity(resource("client-1", &scopes)),
        HopKey::App(resource("client-1", &scopes)),
    )
    .await;
}

#[tokio::test]
async fn keys_differing_in_any_field_stay_apart() {
    let base = resource("agent-1", &["User.Read"]);
    let mut tenant = base.clone();
    tenant.tenant = "tenant-2".into();
    let mut authority = base.clone();
    authority.authority_host = "https://login.microsoftonline.us".into();
    assert_apart(
        HopKey::AgentIdentity(base.clone()),
        HopKey::AgentIdentity(tenant),
    )
    .await;
    assert_apart(
        HopKey::AgentIdentity(base),
        HopKey::AgentIdentity(authority),
    )
    .await;
}

#[tokio::test]
async fn scope_sets_that_normalise_alike_share_an_entry() {
    let h = Harness::new(CachePolicy::default());
    let upstream = Upstream::new(&h);
    let a = HopKey::AgentIdentity(resource("agent-1", &["b", "a"]));
    let b = HopKey::AgentIdentity(resource("agent-1", &["a b", "a"]));
    h.get(&a, &upstream).await.unwrap();
    assert!(h.get(&b, &upstream).await.unwrap().cache_hit);
}
