//! Unmodified Azure SDKs inside a sandbox: `agentmint sandbox --managed-identity ... -- CMD` gives the
//! agent IDENTITY_ENDPOINT + IDENTITY_HEADER, and Python azure-identity, Python msal and JS
//! @azure/identity get the agent's token through the real gateway, with the claims checked.

use std::time::Duration;

use crate::support;
use crate::support::interop::interop;
use crate::support::stack::{Stack, StackOptions};

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

#[test]
fn python_azure_identity_gets_the_agent_identitys_app_token() {
    let i = interop();
    let stack = Stack::start(StackOptions {
        sandbox_providers: None,
        ..Default::default()
    });
    let script = i.root.join("tests/interop/sdk/azure_identity_check.py");
    let (code, out, err) = sandbox_run(
        &stack,
        "app",
        &[i.python.to_str().unwrap(), script.to_str().unwrap()],
        &[
            ("EXPECT_APPID", &stack.world.agent_identity_app_id),
            ("EXPECT_IDTYP", "app"),
        ],
    );
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
}

#[test]
fn python_azure_identity_gets_the_agent_users_token_in_user_mode() {
    let i = interop();
    let stack = Stack::start(StackOptions {
        sandbox_providers: None,
        ..Default::default()
    });
    let script = i.root.join("tests/interop/sdk/azure_identity_check.py");
    let (code, out, err) = sandbox_run(
        &stack,
        "user",
        &[i.python.to_str().unwrap(), script.to_str().unwrap()],
        &[
            ("EXPECT_APPID", &stack.world.agent_identity_app_id),
            ("EXPECT_IDTYP", "user"),
            ("EXPECT_OID", &stack.world.agent_user_object_id),
            // Managed-identity clients name a resource, which becomes `{resource}/.default`: for
            // the Agent User, every delegated scope consented for Graph.
        ],
    );
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
}

#[test]
fn js_azure_identity_gets_the_agent_identitys_app_token() {
    let i = interop();
    let node_dir = i
        .node_dir
        .as_ref()
        .expect("npm is needed for the JS interop test");
    let stack = Stack::start(StackOptions {
        sandbox_providers: None,
        ..Default::default()
    });
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
