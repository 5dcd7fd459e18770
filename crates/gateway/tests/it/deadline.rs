//! One deadline story, across resolver and gateway: a caller whose deadline is shorter than a
//! throttled upstream gets a typed 503 with `Retry-After` (never a bare timeout), the mint goes on
//! as the one flight for its key, and the next request is served from the token it cached, with no
//! further upstream request.

use std::time::Duration;

use agentmint_emulator::Knobs;
use agentmint_sandbox::ManagedIdentityMode;
use agentmint_stack::{ResolverOptions, Stack, StackOptions};

use crate::support::{GRAPH, agent_get, upstream, upstream_total};

#[tokio::test]
async fn a_deadline_shorter_than_a_throttled_upstream_is_a_503_and_the_retry_is_served_from_the_mint_that_went_on()
 {
    // Every upstream request is throttled (Retry-After 3 s) until the knobs are reset below: the
    // flight's second attempt comes after the caller's 2 s are over.
    let stack = Stack::start(StackOptions {
        layout: crate::support::layout(),
        knobs: Knobs {
            throttle_fraction: 1.0,
            retry_after_secs: 3,
            ..Knobs::default()
        },
        resolver: Some(ResolverOptions {
            sandbox: "sandbox-a".into(),
            providers: vec!["agent".into()],
            managed_identity: ManagedIdentityMode::Off,
            request_timeout: Duration::from_secs(2),
        }),
        ..StackOptions::default()
    })
    .await
    .unwrap();
    let url = format!(
        "{}?scope={GRAPH}",
        stack.resolver.as_ref().unwrap().urls.providers[0].app_token_url
    );

    let first = agent_get(&url).await;
    assert_eq!(first.status, 503, "{}", first.body);
    assert_eq!(first.header("retry-after"), Some("1"), "{}", first.headers);
    let body = first.json();
    assert_eq!(body["error"], "temporarily_unavailable", "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("MINT_IN_PROGRESS"),
        "{body}"
    );
    assert!(upstream(&stack, "blueprint", "throttled") >= 1);

    // The upstream recovers; the mint the caller gave up on finishes by itself.
    stack.emulator.set_knobs(Knobs::default());
    let mut landed = false;
    for _ in 0..3000 {
        if upstream(&stack, "agent_identity", "ok") == 1 {
            landed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(landed, "the abandoned mint never finished");
    let before = upstream_total(&stack);

    let second = agent_get(&url).await;
    assert_eq!(second.status, 200, "{}", second.body);
    assert!(second.json()["access_token"].as_str().is_some());
    assert_eq!(
        upstream_total(&stack),
        before,
        "the retry went upstream again"
    );
    assert_eq!(upstream(&stack, "blueprint", "ok"), 1);
    assert_eq!(upstream(&stack, "agent_identity", "ok"), 1);
    stack.shutdown().await;
}
