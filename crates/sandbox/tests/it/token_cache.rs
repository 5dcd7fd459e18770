//! The resolver's short-lived copy of gateway answers: repeated requests for the same token are
//! answered locally, anything else still goes to the gateway, failures are never kept, and a zero
//! time turns it off.

use std::time::Duration;

use crate::common;
use agentmint_proto::FailureDetails;
use common::{Behaviour, FakeGateway, FakeState, Options, Sandbox};
use tonic::Code;

async fn sandbox_with_ttl(gateway: &FakeGateway, ttl: Duration) -> Sandbox {
    let mut options = Options::new(gateway.url());
    options.token_cache_ttl = ttl;
    Sandbox::start_with(options).await
}

#[tokio::test]
async fn repeated_requests_for_one_token_make_one_gateway_call() {
    let gateway = FakeGateway::start(FakeState::new(Behaviour::Token));
    let sandbox = sandbox_with_ttl(&gateway, Duration::from_secs(30)).await;
    let target = format!("{}?scope=b&scope=a", sandbox.app_path());
    for _ in 0..5 {
        let reply = sandbox.get(&target).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.json()["access_token"], "token-demo-agent-APP_ONLY");
        assert!(reply.json()["expires_in"].as_i64().unwrap() > 3500);
    }
    // The same scopes in another order are the same token.
    let reordered = format!("{}?scope=a&scope=b", sandbox.app_path());
    assert_eq!(sandbox.get(&reordered).await.status, 200);
    assert_eq!(gateway.state.calls(), 1);
}

#[tokio::test]
async fn another_kind_scope_or_provider_goes_to_the_gateway() {
    let gateway = FakeGateway::start(FakeState::new(Behaviour::Token));
    let sandbox = sandbox_with_ttl(&gateway, Duration::from_secs(30)).await;
    let app = format!("{}?scope=a", sandbox.app_path());
    let user = format!("{}?scope=a", sandbox.user_path());
    let other_scope = format!("{}?scope=ab", sandbox.app_path());
    for target in [&app, &user, &other_scope, &app, &user] {
        assert_eq!(sandbox.get(target).await.status, 200);
    }
    assert_eq!(gateway.state.calls(), 3);
    let user_reply = sandbox.get(&user).await;
    assert_eq!(
        user_reply.json()["access_token"],
        "token-demo-agent-USER_PRINCIPAL",
        "a user request is never answered with the app-only copy"
    );
}

#[tokio::test]
async fn a_gateway_failure_is_not_kept() {
    let gateway = FakeGateway::start(FakeState::new(Behaviour::fail(
        Code::Unavailable,
        "down",
        FailureDetails::new(agentmint_proto::Reason::UpstreamUnavailable),
    )));
    let sandbox = sandbox_with_ttl(&gateway, Duration::from_secs(30)).await;
    assert_eq!(sandbox.get(&sandbox.app_path()).await.status, 503);
    gateway.state.set(Behaviour::Token);
    assert_eq!(sandbox.get(&sandbox.app_path()).await.status, 200);
    assert_eq!(gateway.state.calls(), 2);
}

#[tokio::test]
async fn a_zero_ttl_sends_every_request_to_the_gateway() {
    let gateway = FakeGateway::start(FakeState::new(Behaviour::Token));
    let sandbox = sandbox_with_ttl(&gateway, Duration::ZERO).await;
    for _ in 0..3 {
        assert_eq!(sandbox.get(&sandbox.app_path()).await.status, 200);
    }
    assert_eq!(gateway.state.calls(), 3);
}

#[tokio::test]
async fn the_kept_answer_expires_after_the_ttl() {
    let gateway = FakeGateway::start(FakeState::new(Behaviour::Token));
    let sandbox = sandbox_with_ttl(&gateway, Duration::from_millis(200)).await;
    assert_eq!(sandbox.get(&sandbox.app_path()).await.status, 200);
    assert_eq!(sandbox.get(&sandbox.app_path()).await.status, 200);
    assert_eq!(gateway.state.calls(), 1);
    // Bounded: one short sleep past a 200 ms ttl.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sandbox.get(&sandbox.app_path()).await.status, 200);
    assert_eq!(gateway.state.calls(), 2);
}
