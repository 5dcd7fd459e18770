//! RELIABILITY 30 at the resolver: with every log of this thread captured at TRACE (the resolver's
//! own, tonic's client, hyper's server, h2), no 8-character piece of the sandbox credential, a
//! token, the path secret or the identity header appears.

use crate::common;
use agentmint_proto::{FailureDetails, Reason};
use common::{Behaviour, CREDENTIAL, FakeGateway, FakeState, Sandbox, get};
use tonic::Code;

const TOKEN: &str = "eyTOKEN.q9Zr4LmW8xKp2VbN6TcY.J3hF7sDg5aQe1RuI0oPl";

fn assert_absent(logs: &str, what: &str, secret: &str) {
    for start in 0..=secret.len().saturating_sub(8) {
        let piece = &secret[start..start + 8];
        assert!(
            !logs.contains(piece),
            "the logs contain {piece:?}, a piece of the {what}"
        );
    }
}

// A current-thread runtime: the resolver, its gateway client and its HTTP server all run on this
// thread, the one thread observed. The fake gateway runs on its own thread, unobserved, and so do
// the other tests of this binary.
#[tokio::test(flavor = "current_thread")]
async fn trace_logs_carry_no_credential_token_or_url_secret() {
    let captured = common::capture::observe_this_thread();

    let state = FakeState::new(Behaviour::Fixed(TOKEN.into()));
    let gateway = FakeGateway::start(state.clone());
    let sandbox = Sandbox::start(&gateway).await;
    assert_eq!(
        sandbox
            .get(&format!("{}?scope=api://x/.default", sandbox.app_path()))
            .await
            .status,
        200
    );
    let header = sandbox.identity_header();
    let mi = format!(
        "{}?api-version=2019-08-01&resource=api://x",
        sandbox.mi_path()
    );
    let reply = sandbox
        .send(&get(
            &mi,
            &sandbox.host(),
            &[("X-IDENTITY-HEADER", &header)],
        ))
        .await;
    assert_eq!(reply.status, 200);
    state.set(Behaviour::fail(
        Code::PermissionDenied,
        "denied",
        FailureDetails {
            reason: Reason::NotAttached.as_str().into(),
            ..FailureDetails::default()
        },
    ));
    assert_eq!(sandbox.get(&sandbox.user_path()).await.status, 403);
    assert_eq!(
        sandbox
            .get("/guess/providers/demo-agent/token")
            .await
            .status,
        404
    );
    drop(gateway);
    assert_eq!(sandbox.get(&sandbox.app_path()).await.status, 503);

    let logs = captured.text();
    assert!(logs.contains("token served"), "nothing was captured");
    assert_absent(&logs, "sandbox credential", CREDENTIAL);
    assert_absent(&logs, "token", TOKEN);
    let secret = sandbox.app_path().split('/').nth(1).unwrap().to_owned();
    assert_absent(&logs, "path secret", &secret);
    assert_absent(&logs, "identity header", &header);
}
