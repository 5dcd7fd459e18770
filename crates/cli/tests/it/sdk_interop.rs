//! Unmodified Azure SDKs inside a sandbox: `agentmint sandbox --managed-identity ... -- CMD` gives the
//! agent IDENTITY_ENDPOINT + IDENTITY_HEADER, and Python azure-identity, Python msal and JS
//! @azure/identity get the agent's token through the real gateway, with the claims checked.

use std::time::Duration;

use crate::support;
use crate::support::interop::interop;
use crate::support::stack::Stack;

fn sandbox_run(
    stack: &Stack,
    mode: &str,
    command: &[&str],
    env: &[(&str, &str)],
) -> (i32, String, String) {
    let command_line = stack.sandbox_command();
    let mut args: Vec<&str> = command_line.iter().map(String::as_str).collect();
    args.extend(["--managed-identity", mode, "--"]);
    args.extend_from_slice(command);
    support::run(&args, env, Duration::from_secs(120))
}

/// Runs Python azure-identity in a sandbox whose managed-identity endpoint serves `mode` ("app" or
/// "user") tokens, and expects the token of that kind: the Agent Identity's app id, `idtyp` equal to
/// the mode, and for a user token the Agent User's object id. Managed-identity clients name a
/// resource, which becomes `{resource}/.default`: for the Agent User, every delegated scope
/// consented for Graph.
fn python_check(mode: &str) {
    let i = interop();
    let stack = Stack::without_sandbox();
    let script = i.root.join("tests/interop/sdk/azure_identity_check.py");
    let w = &stack.world;
    let mut expect = vec![
        ("EXPECT_APPID", w.agent_identity_app_id.as_str()),
        ("EXPECT_IDTYP", mode),
    ];
    if mode == "user" {
        expect.push(("EXPECT_OID", w.agent_user_object_id.as_str()));
    }
    let (code, out, err) = sandbox_run(
        &stack,
        mode,
        &[i.python.to_str().unwrap(), script.to_str().unwrap()],
        &expect,
    );
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
}

#[test]
fn python_azure_identity_gets_the_agent_identitys_app_token() {
    python_check("app");
}

#[test]
fn python_azure_identity_gets_the_agent_users_token_in_user_mode() {
    python_check("user");
}

#[test]
fn js_azure_identity_gets_the_agent_identitys_app_token() {
    let i = interop();
    let node_dir = i
        .node_dir
        .as_ref()
        .expect("npm is needed for the JS interop test");
    let stack = Stack::without_sandbox();
    let script = i.root.join("tests/interop/sdk/azure_identity_check.mjs");
    let node_path = node_dir.join("node_modules");
    let (code, out, err) = sandbox_run(
        &stack,
        "app",
        &["node", script.to_str().unwrap()],
        &[
            ("EXPECT_APPID", &stack.world.agent_identity_app_id),
            ("EXPECT_IDTYP", "app"),
            ("NODE_PATH", node_path.to_str().unwrap()),
            ("AGENTMINT_INTEROP_NODE_DIR", node_dir.to_str().unwrap()),
        ],
    );
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
}
