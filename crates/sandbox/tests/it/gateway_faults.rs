//! How gateway failures reach the agent: RELIABILITY 27 (the gateway dies, the resolver answers 503
//! and heals) and 32 (errors carry a correlation id, never upstream text), and the code mapping.

use std::time::{Duration, Instant};

use crate::common;
use agentmint_proto::{FailureDetails, Reason};
use common::{Behaviour, FakeGateway, FakeState, Options, Sandbox, free_addr, text};
use tonic::Code;

fn reason(reason: Reason) -> FailureDetails {
    FailureDetails::new(reason)
}

#[tokio::test]
async fn a_gateway_that_is_down_gives_503_with_retry_after_and_the_resolver_recovers_when_it_starts()
 {
    let addr = free_addr().await;
    let mut options = Options::new(format!("http://{addr}"));
    options.timeout = Duration::from_secs(2);
    let sandbox = Sandbox::start_with(options).await;

    let started = Instant::now();
    let reply = sandbox.get(&sandbox.app_path()).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert_eq!(reply.header("retry-after"), Some("5"));
    assert_eq!(reply.json()["error"], "gateway_unavailable");

    let gateway = FakeGateway::start_at(FakeState::new(Behaviour::Token), addr);
    let reply = sandbox.get(&sandbox.app_path()).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(gateway.state.calls(), 1);
}

#[tokio::test]
async fn a_gateway_dying_mid_request_gives_503_and_its_restart_on_the_same_port_serves_again() {
    let state = FakeState::new(Behaviour::Hang);
    let gateway = FakeGateway::start(state.clone());
    let addr = gateway.addr;
    let mut options = Options::new(gateway.url());
    options.timeout = Duration::from_secs(5);
    let sandbox = Sandbox::start_with(options).await;

    let path = sandbox.app_path();
    let (target, sandbox_addr, host) = (path.clone(), sandbox.addr, sandbox.host());
    let in_flight = tokio::spawn(async move {
        let started = Instant::now();
        let reply = common::send(
            sandbox_addr,
            &common::get(&target, &host, &[("Metadata", "true")]),
        )
        .await;
        (reply, started.elapsed())
    });
    state.wait_for_calls(1).await;
    gateway.kill();
    let (reply, elapsed) = in_flight.await.unwrap();
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert!(reply.header("retry-after").is_some());
    assert!(
        elapsed < Duration::from_secs(5),
        "answered after {elapsed:?}, not before the timeout"
    );

    state.set(Behaviour::Token);
    let _restarted = FakeGateway::start_at(state.clone(), addr);
    let reply = sandbox.get(&path).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[tokio::test]
async fn a_gateway_that_never_answers_gives_503_at_the_request_timeout() {
    let gateway = FakeGateway::start(FakeState::new(Behaviour::Hang));
    let mut options = Options::new(gateway.url());
    options.timeout = Duration::from_millis(300);
    let sandbox = Sandbox::start_with(options).await;
    let started = Instant::now();
    let reply = sandbox.get(&sandbox.app_path()).await;
    let elapsed = started.elapsed();
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert!(reply.header("retry-after").is_some());
    assert!(
        elapsed >= Duration::from_millis(250) && elapsed < Duration::from_secs(2),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn errors_carry_the_gateways_correlation_id_hop_and_aadsts_but_never_its_message() {
    let upstream_text = "AADSTS70021: No matching federated identity record found for presented assertion. Trace ID: secret-trace";
    let detail = FailureDetails {
        hop: Some("blueprint".into()),
        upstream_status: Some(400),
        aadsts: Some("AADSTS70021".into()),
        correlation_id: Some("4c3f1a2b-0000-4000-8000-00000000c0de".into()),
        ..FailureDetails::new(Reason::FicMismatch)
    };
    let gateway = FakeGateway::start(FakeState::new(Behaviour::fail(
        Code::FailedPrecondition,
        upstream_text,
        detail,
    )));
    let sandbox = Sandbox::start(&gateway).await;
    let reply = sandbox.get(&sandbox.app_path()).await;
    assert_eq!(reply.status, 409);
    let body = reply.json();
    assert_eq!(
        body["correlation_id"],
        "4c3f1a2b-0000-4000-8000-00000000c0de"
    );
    assert_eq!(body["hop"], "blueprint");
    assert_eq!(body["aadsts"], "AADSTS70021");
    assert_eq!(body["error"], "failed_precondition");
    assert!(text(&body["error_description"]).contains("FIC_MISMATCH"));
    assert!(!reply.body.contains("No matching"), "{}", reply.body);
    assert!(!reply.body.contains("secret-trace"), "{}", reply.body);
}

#[tokio::test]
async fn errors_without_a_gateway_correlation_id_get_a_fresh_one() {
    let gateway = FakeGateway::start(FakeState::new(Behaviour::fail(
        Code::PermissionDenied,
        "no",
        reason(Reason::NotAttached),
    )));
    let sandbox = Sandbox::start(&gateway).await;
    let first = sandbox.get(&sandbox.app_path()).await.json();
    let second = sandbox.get(&sandbox.app_path()).await.json();
    let (a, b) = (
        first["correlation_id"].as_str().unwrap(),
        second["correlation_id"].as_str().unwrap(),
    );
    assert_eq!(a.len(), 36);
    assert_ne!(a, b);
    assert_eq!(first["hop"], serde_json::Value::Null);
}

#[tokio::test]
async fn gateway_codes_map_to_http_statuses() {
    let state = FakeState::new(Behaviour::Token);
    let gateway = FakeGateway::start(state.clone());
    let sandbox = Sandbox::start(&gateway).await;
    for (code, reason_code, status, error) in [
        (
            Code::Unauthenticated,
            Reason::Unauthenticated,
            500,
            "sandbox_credential_rejected",
        ),
        (
            Code::PermissionDenied,
            Reason::ScopeNotAllowed,
            403,
            "permission_denied",
        ),
        (Code::NotFound, Reason::UnknownProvider, 404, "not_found"),
        (
            Code::FailedPrecondition,
            Reason::NoAgentUser,
            409,
            "failed_precondition",
        ),
        (
            Code::InvalidArgument,
            Reason::InvalidScope,
            400,
            "invalid_request",
        ),
        (Code::Internal, Reason::ClaimsMismatch, 502, "bad_gateway"),
    ] {
        state.set(Behaviour::fail(code, "gateway words", reason(reason_code)));
        let reply = sandbox.get(&sandbox.user_path()).await;
        assert_eq!(reply.status, status, "{code:?}: {}", reply.body);
        assert_eq!(reply.json()["error"], error);
        assert!(reply.header("retry-after").is_none());
        assert!(!reply.body.contains("gateway words"));
    }
}

#[tokio::test]
async fn entra_unavailable_gives_503_with_the_gateways_retry_after() {
    let detail = FailureDetails {
        hop: Some("agent_identity".into()),
        upstream_status: Some(429),
        retry_after: Some(Duration::from_secs(7)),
        ..FailureDetails::new(Reason::Throttled)
    };
    let gateway = FakeGateway::start(FakeState::new(Behaviour::fail(
        Code::Unavailable,
        "throttled",
        detail,
    )));
    let sandbox = Sandbox::start(&gateway).await;
    let reply = sandbox.get(&sandbox.app_path()).await;
    assert_eq!(reply.status, 503);
    assert_eq!(reply.header("retry-after"), Some("7"));
    assert_eq!(reply.json()["error"], "temporarily_unavailable");
}
