//! RELIABILITY 8, 12, 13, 28: many callers, one upstream call per hop and key, errors not cached.

use std::time::Duration;

use crate::support::*;
use agentmint_emulator::Knobs;
use agentmint_proto::TokenKind;
use tonic::Code;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_cold_requests_make_one_upstream_request_per_hop() {
    let h = start().await;
    let client = connect(&h).await;
    let mut tasks = Vec::new();
    for _ in 0..1000 {
        let mut client = client.clone();
        tasks.push(tokio::spawn(async move {
            mint(
                &mut client,
                CRED_A,
                "agent",
                TokenKind::UserPrincipal,
                &[USER_READ],
            )
            .await
        }));
    }
    let mut tokens = std::collections::HashSet::new();
    for t in tasks {
        tokens.insert(t.await.unwrap().unwrap().access_token);
    }
    assert_eq!(tokens.len(), 1, "every caller got the same token");
    assert_eq!(upstream(&h, "blueprint", "ok"), 1);
    assert_eq!(upstream(&h, "agent_identity", "ok"), 1);
    assert_eq!(upstream(&h, "agent_user", "ok"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_from_two_sandboxes_get_their_own_providers_tokens() {
    let h = start().await;
    let client = connect(&h).await;
    let w = &h.world;
    let mut tasks = Vec::new();
    for i in 0..200 {
        let mut client = client.clone();
        let (cred, provider) = if i % 2 == 0 {
            (CRED_A, "agent")
        } else {
            (CRED_B, "second")
        };
        let kind = if i % 4 < 2 {
            TokenKind::AppOnly
        } else {
            TokenKind::UserPrincipal
        };
        let scope = if kind == TokenKind::AppOnly {
            GRAPH
        } else {
            USER_READ
        };
        tasks.push(tokio::spawn(async move {
            (
                provider,
                kind,
                mint(&mut client, cred, provider, kind, &[scope])
                    .await
                    .unwrap(),
            )
        }));
    }
    for t in tasks {
        let (provider, kind, response) = t.await.unwrap();
        let c = claims(&response.access_token);
        let (ai, user_oid) = if provider == "agent" {
            (&w.agent_identity_app_id, &w.agent_user_object_id)
        } else {
            (
                &w.second_agent_identity_app_id,
                &w.second_agent_user_object_id,
            )
        };
        assert_eq!(c["tid"], w.tenant_id.as_str());
        let app = c.get("appid").or_else(|| c.get("azp")).unwrap();
        assert_eq!(app, ai.as_str(), "{provider} {kind:?}");
        if kind == TokenKind::UserPrincipal {
            assert_eq!(c["oid"], user_oid.as_str());
            assert_eq!(c["idtyp"], "user");
        } else {
            assert_eq!(c["idtyp"], "app");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiters_on_a_failing_call_all_get_the_error_and_the_next_request_tries_again() {
    let h = start_with(Knobs {
        fail_fraction: 1.0,
        ..Knobs::default()
    })
    .await;
    let client = connect(&h).await;
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let mut client = client.clone();
        tasks.push(tokio::spawn(async move {
            tokio::time::timeout(
                Duration::from_secs(30),
                mint(&mut client, CRED_A, "agent", TokenKind::AppOnly, &[GRAPH]),
            )
            .await
        }));
    }
    for t in tasks {
        let err = t
            .await
            .unwrap()
            .expect("answered before the deadline")
            .unwrap_err();
        assert_eq!(err.code(), Code::Unavailable);
        assert!(
            detail(&err).retry_after.is_some(),
            "a transient failure carries RetryInfo"
        );
    }
    let failed_attempts = h.emulator.stats().total();
    assert!(failed_attempts >= 1);
    // Bounded: the retries of one flight, not one per waiter.
    assert!(
        failed_attempts <= 5,
        "{failed_attempts} upstream attempts for 50 waiters"
    );

    h.emulator.set_knobs(Knobs {
        fail_fraction: 0.0,
        ..Knobs::default()
    });
    let mut client = connect(&h).await;
    let ok = minted_a(&mut client, "agent", TokenKind::AppOnly, &[GRAPH]).await;
    assert!(
        !ok.cache_hit,
        "the error was not cached; a fresh attempt succeeded"
    );
}
