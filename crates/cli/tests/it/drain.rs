//! RELIABILITY 37 with the real binary: SIGTERM turns the gateway's `/readyz` to 503 at once,
//! tokens keep being served through the drain grace (the default, 5 s), and then the process exits
//! 0; the resolver in front of it then answers 503 with `Retry-After`. A sidecar resolver given a
//! drain grace does the same on its local `/readyz`.

use std::time::Duration;

use agentmint_config::DEFAULT_DRAIN_GRACE_SECONDS;

use crate::support::stack::{GRAPH_DEFAULT, Stack, StackOptions, wait_for_status};

async fn agent_get(stack: &Stack) -> reqwest::Response {
    Stack::http()
        .get(stack.url("agent", "token"))
        .query(&[("scope", GRAPH_DEFAULT)])
        .header("Metadata", "true")
        .send()
        .await
        .expect("the resolver answers")
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_turns_readyz_first_serves_through_the_grace_then_exits_0() {
    // The resolver keeps no copy of an answer, so every agent request reaches the gateway.
    let mut stack = Stack::start(StackOptions {
        sandbox_args: vec!["--token-cache-secs".into(), "0".into()],
        ..StackOptions::default()
    });
    let readyz = format!("{}/readyz", stack.admin_url);
    assert!(
        wait_for_status(&readyz, 200, 1).await,
        "ready before the stop"
    );
    assert_eq!(agent_get(&stack).await.status(), 200);

    stack.gateway.sigterm();
    assert!(
        wait_for_status(&readyz, 503, 300).await,
        "/readyz never turned 503\n{}",
        stack.gateway.output()
    );
    // Within the grace: still served (from the gateway's cache, through the resolver's connection).
    let during = agent_get(&stack).await;
    assert_eq!(during.status(), 200, "{:?}", during.text().await);

    let grace = Duration::from_secs(DEFAULT_DRAIN_GRACE_SECONDS);
    let code = tokio::task::block_in_place(|| stack.gateway.exit_code(grace * 4));
    assert_eq!(code, 0, "{}", stack.gateway.output());
    assert!(
        stack.gateway.output().contains("drain grace over"),
        "{}",
        stack.gateway.output()
    );

    // Gone: the resolver tells the agent to come back later, in its own words.
    let after = agent_get(&stack).await;
    assert_eq!(after.status(), 503);
    assert!(after.headers().contains_key("retry-after"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sidecar_resolver_turns_readyz_503_on_sigterm_and_serves_through_its_grace() {
    let mut stack = Stack::start(StackOptions {
        sandbox_args: vec![
            "--token-cache-secs".into(),
            "0".into(),
            "--drain-grace-secs".into(),
            "5".into(),
        ],
        ..StackOptions::default()
    });
    let sandbox = stack.sandbox.as_mut().expect("a sidecar resolver");
    let listen = sandbox.ready["listen"].as_str().unwrap().to_owned();
    let readyz = format!("http://{listen}/readyz");
    assert!(
        wait_for_status(&readyz, 200, 1).await,
        "ready before the stop"
    );

    sandbox.sigterm();
    assert!(
        wait_for_status(&readyz, 503, 300).await,
        "the resolver's /readyz never turned 503"
    );
    assert_eq!(agent_get(&stack).await.status(), 200, "served in the grace");
    let sandbox = stack.sandbox.as_mut().unwrap();
    let code = tokio::task::block_in_place(|| sandbox.exit_code(Duration::from_secs(20)));
    assert_eq!(code, 0, "{}", sandbox.output());
}
