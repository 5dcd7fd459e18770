//! The README's first command, and the demo's agent-command mode.

use std::time::Duration;

use crate::support;

#[test]
fn demo_fetches_both_token_kinds_and_exits_zero() {
    let (code, out, err) = support::run(&["demo"], &[], Duration::from_secs(120));
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("demo-agent USER_PRINCIPAL"), "{out}");
    assert!(out.contains("ok: app-only appid = Agent Identity"), "{out}");
    assert!(out.contains("The Teams-bot mistake, caught"), "{out}");
    assert!(out.contains("appid"), "{out}");
}

#[test]
fn demo_runs_the_given_command_as_the_agent_and_exits_with_its_status() {
    let (code, out, err) = support::run(
        &[
            "demo",
            "--",
            "sh",
            "-c",
            "test -n \"$AGENTMINT_TOKEN_URL\" && test -n \"$AGENTMINT_EMULATOR_URL\" && exit 7",
        ],
        &[],
        Duration::from_secs(120),
    );
    assert_eq!(code, 7, "stdout:\n{out}\nstderr:\n{err}");
}

#[test]
fn demo_agent_environment_carries_token_urls_and_no_credentials() {
    let (code, out, err) = support::run(
        &["demo", "--", "env"],
        &[
            ("AZURE_CLIENT_SECRET", "leaked-secret-value"),
            ("AZURE_FEDERATED_TOKEN_FILE", "/tmp/x"),
        ],
        Duration::from_secs(120),
    );
    assert_eq!(code, 0, "{err}");
    for var in [
        "AGENTMINT_TOKEN_URL=",
        "AGENTMINT_USER_TOKEN_URL=",
        "IDENTITY_ENDPOINT=",
        "IDENTITY_HEADER=",
        "OPENSHELL_MICROSOFT_AGENT_S2S_TOKEN_URL=",
        "A365_TOKEN_PROVIDER_URL=",
    ] {
        assert!(out.contains(var), "{var} missing:\n{out}");
    }
    assert!(!out.contains("leaked-secret-value"), "{out}");
    assert!(!out.contains("AZURE_FEDERATED_TOKEN_FILE"), "{out}");
}
