//! Unmodified Azure SDKs (Python azure-identity and msal, JS @azure/identity) get the agent's token
//! through the resolver's managed-identity endpoint, launched exactly as `agentmint sandbox -- CMD`
//! launches an agent. The fake gateway returns unsigned JWTs with the claims a real gateway's
//! tokens carry; the check scripts in tests/interop/sdk/ decode them and compare.
//!
//! Needs the SDKs installed: `scripts/test` runs `tests/interop/setup.sh`, which sets
//! `AGENTMINT_INTEROP_PYTHON` and `AGENTMINT_INTEROP_NODE_DIR`. Without them each test fails, unless
//! `AGENTMINT_SKIP_INTEROP=1` says the skip is deliberate (then it prints "skipped: ..." and passes).

use std::time::Duration;

use crate::common;
use agentmint_sandbox::ManagedIdentityMode;
use agentmint_sandbox::launcher::agent_env;
use common::{AGENT, Behaviour, FakeGateway, FakeState, Options, Sandbox, run_agent};
use serde_json::json;

const TENANT: &str = "7a1d5c3e-0000-4000-8000-00000000aaaa";
const AGENT_IDENTITY: &str = "2b9e4f10-0000-4000-8000-00000000bbbb";
const AGENT_USER: &str = "5c0a7d21-0000-4000-8000-00000000cccc";
const SCRIPTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/interop/sdk");

fn jwts() -> Behaviour {
    let exp = common::unix_now() + 3600;
    let base = |idtyp: &str, oid: &str| {
        json!({
            "aud": "https://graph.microsoft.com",
            "iss": format!("https://sts.windows.net/{TENANT}/"),
            "appid": AGENT_IDENTITY,
            "idtyp": idtyp,
            "oid": oid,
            "tid": TENANT,
            "exp": exp,
        })
    };
    Behaviour::Jwt {
        app: base("app", AGENT_IDENTITY),
        user: base("user", AGENT_USER),
    }
}

/// Starts a gateway and a resolver in `mode`, runs `program args` as the agent with `expect` added
/// to its environment, and returns its exit code and what the gateway saw.
async fn run_check(
    program: &str,
    args: &[String],
    mode: ManagedIdentityMode,
    extra_env: &[(&str, &str)],
) -> (u8, std::sync::Arc<FakeState>) {
    let state = FakeState::new(jwts());
    let gateway = FakeGateway::start(state.clone());
    let mut options = Options::new(gateway.url());
    options.managed_identity = mode;
    options.timeout = Duration::from_secs(10);
    let sandbox = Sandbox::start_with(options).await;
    let mut env = agent_env(std::env::vars(), &sandbox.urls);
    env.extend(
        extra_env
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned())),
    );
    let code = tokio::time::timeout(Duration::from_secs(120), run_agent(program, args, env))
        .await
        .expect("the check finishes")
        .expect("the check starts");
    (code, state)
}

fn app_mode() -> ManagedIdentityMode {
    ManagedIdentityMode::AppOnly {
        provider: AGENT.into(),
    }
}

fn user_mode() -> ManagedIdentityMode {
    ManagedIdentityMode::User {
        provider: AGENT.into(),
    }
}

fn python() -> Option<(String, Vec<String>)> {
    match std::env::var("AGENTMINT_INTEROP_PYTHON") {
        Ok(python) if !python.is_empty() => {
            Some((python, vec![format!("{SCRIPTS}/azure_identity_check.py")]))
        }
        _ => skip("AGENTMINT_INTEROP_PYTHON"),
    }
}

fn node() -> Option<(String, Vec<String>, String)> {
    match std::env::var("AGENTMINT_INTEROP_NODE_DIR") {
        Ok(dir) if !dir.is_empty() => Some((
            "node".to_owned(),
            vec![format!("{SCRIPTS}/azure_identity_check.mjs")],
            dir,
        )),
        _ => skip("AGENTMINT_INTEROP_NODE_DIR"),
    }
}

/// A missing SDK is a failure unless the skip was asked for: an interop test that silently passes
/// proves nothing.
fn skip<T>(variable: &str) -> Option<T> {
    assert!(
        std::env::var("AGENTMINT_SKIP_INTEROP").is_ok_and(|v| v == "1"),
        "{variable} is not set: run scripts/test, or eval \"$(bash tests/interop/setup.sh)\" first \
         (AGENTMINT_SKIP_INTEROP=1 skips the interop tests deliberately)"
    );
    println!("skipped: {variable} is not set and AGENTMINT_SKIP_INTEROP=1");
    None
}

/// At most one gateway call per client: some SDKs share a token cache between credentials
/// (msal-node's managed-identity cache is process-wide), so fewer is fine.
fn assert_every_call_asked_for_graph(state: &FakeState, clients: usize) {
    assert!(
        (1..=clients).contains(&state.calls()),
        "{} gateway calls for {clients} clients",
        state.calls()
    );
    for request in state.requests.lock().unwrap().iter() {
        assert_eq!(request.scopes, ["https://graph.microsoft.com/.default"]);
    }
}

/// The two SDK families, each with its check script.
#[derive(Clone, Copy)]
enum Sdk {
    Python,
    Js,
}

impl Sdk {
    fn name(self) -> &'static str {
        match self {
            Sdk::Python => "Python",
            Sdk::Js => "JS",
        }
    }

    /// How many credential clients its check builds, so at most that many gateway calls.
    fn clients(self) -> usize {
        match self {
            Sdk::Python => 3,
            Sdk::Js => 2,
        }
    }
}

/// Runs `sdk`'s check with `expect` in its environment; `None` when the SDK is deliberately
/// skipped.
async fn check(
    sdk: Sdk,
    mode: ManagedIdentityMode,
    expect: &[(&str, &str)],
) -> Option<(u8, std::sync::Arc<FakeState>)> {
    let (program, args, node_dir) = match sdk {
        Sdk::Python => {
            let (python, args) = python()?;
            (python, args, None)
        }
        Sdk::Js => {
            let (node, args, dir) = node()?;
            (node, args, Some(dir))
        }
    };
    let mut env = expect.to_vec();
    if let Some(dir) = &node_dir {
        env.push(("AGENTMINT_INTEROP_NODE_DIR", dir));
    }
    Some(run_check(&program, &args, mode, &env).await)
}

/// `sdk`'s check passes in `mode`: the token it got is the agent identity's, with `idtyp` and
/// `oid` as given, and every gateway call asked for Graph.
async fn assert_gets_token(sdk: Sdk, mode: ManagedIdentityMode, idtyp: &str, oid: &str) {
    let expect = [
        ("EXPECT_APPID", AGENT_IDENTITY),
        ("EXPECT_IDTYP", idtyp),
        ("EXPECT_OID", oid),
    ];
    let Some((code, state)) = check(sdk, mode, &expect).await else {
        return;
    };
    assert_eq!(
        code,
        0,
        "the {} check failed (its output is above)",
        sdk.name()
    );
    assert_every_call_asked_for_graph(&state, sdk.clients());
}

/// `sdk`'s check fails (exit 1) when the token is not the one `expect` describes.
async fn assert_check_fails(sdk: Sdk, expect: &[(&str, &str)]) {
    if let Some((code, _)) = check(sdk, app_mode(), expect).await {
        assert_eq!(code, 1);
    }
}

#[tokio::test]
async fn python_sdks_get_the_agent_identitys_app_token() {
    assert_gets_token(Sdk::Python, app_mode(), "app", AGENT_IDENTITY).await;
}

#[tokio::test]
async fn python_sdks_get_the_agent_users_token_in_user_mode() {
    assert_gets_token(Sdk::Python, user_mode(), "user", AGENT_USER).await;
}

#[tokio::test]
async fn the_python_check_fails_on_the_wrong_identity() {
    let expect = [("EXPECT_APPID", AGENT_IDENTITY), ("EXPECT_IDTYP", "user")];
    assert_check_fails(Sdk::Python, &expect).await;
}

#[tokio::test]
async fn js_sdk_gets_the_agent_identitys_app_token() {
    assert_gets_token(Sdk::Js, app_mode(), "app", AGENT_IDENTITY).await;
}

#[tokio::test]
async fn js_sdk_gets_the_agent_users_token_in_user_mode() {
    assert_gets_token(Sdk::Js, user_mode(), "user", AGENT_USER).await;
}

#[tokio::test]
async fn the_js_check_fails_on_the_wrong_identity() {
    let expect = [("EXPECT_APPID", "someone-else"), ("EXPECT_IDTYP", "app")];
    assert_check_fails(Sdk::Js, &expect).await;
}
