//! The gateway's errors decode in a standard gRPC client: Python grpcio + grpcio-status, with no
//! generated stubs, calls the real gateway binary and reads the refusal's `google.rpc.ErrorInfo`
//! (and `RetryInfo` when there is one) from the status details, as any gRPC client would.

use std::time::Duration;

use serde_json::Value;

use crate::support::interop::interop;
use crate::support::run_program;
use crate::support::stack::{GRAPH_DEFAULT, Stack};

/// Runs tests/interop/grpc/rich_error.py against the stack's gateway, as its sandbox, asking for
/// `provider` with a deadline of `timeout_secs`; returns what it decoded.
fn decoded_refusal(stack: &Stack, provider: &str, timeout_secs: &str) -> Value {
    let i = interop();
    let script = i.root.join("tests/interop/grpc/rich_error.py");
    let target = stack
        .gateway_url
        .strip_prefix("http://")
        .expect("a plaintext gateway");
    let (code, out, err) = run_program(
        &i.python,
        &[script.to_str().unwrap()],
        &[
            ("AGENTMINT_GRPC_TARGET", target),
            ("AGENTMINT_BEARER", stack.credential.as_str()),
            ("AGENTMINT_PROVIDER", provider),
            ("AGENTMINT_SCOPE", GRAPH_DEFAULT),
            ("AGENTMINT_TIMEOUT_SECS", timeout_secs),
        ],
        Duration::from_secs(60),
    );
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    serde_json::from_str(out.trim()).unwrap_or_else(|_| panic!("not JSON: {out}"))
}

#[test]
fn python_grpcio_decodes_the_error_info_of_a_refusal() {
    let stack = Stack::without_sandbox();
    let decoded = decoded_refusal(&stack, "no-such-provider", "20");
    assert_eq!(decoded["code"], "PERMISSION_DENIED", "{decoded}");
    assert_eq!(decoded["error_info"]["reason"], "NOT_ATTACHED", "{decoded}");
    assert_eq!(
        decoded["error_info"]["domain"], "agentmint.dev",
        "{decoded}"
    );
    assert!(
        decoded.get("retry_delay_seconds").is_none(),
        "a refusal is not retryable: {decoded}"
    );
    assert!(
        !decoded.to_string().contains(&stack.credential),
        "the credential never comes back"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn python_grpcio_decodes_the_retry_info_of_a_mint_that_outlives_its_deadline() {
    let stack = Stack::without_sandbox();
    // Entra throttles every request (Retry-After 3 s): the cold mint's attempts run past the
    // caller's 4 s.
    stack
        .set_knobs(serde_json::json!({ "throttle_fraction": 1.0, "retry_after_secs": 3 }))
        .await;
    let decoded = tokio::task::spawn_blocking(move || {
        let decoded = decoded_refusal(&stack, "agent", "4");
        drop(stack);
        decoded
    })
    .await
    .unwrap();
    assert_eq!(decoded["code"], "UNAVAILABLE", "{decoded}");
    assert_eq!(
        decoded["error_info"]["reason"], "MINT_IN_PROGRESS",
        "{decoded}"
    );
    assert_eq!(decoded["retry_delay_seconds"], 1, "{decoded}");
}
