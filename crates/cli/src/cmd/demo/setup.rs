//! The demo's deployment: the shared stack (emulator over TLS, gateway, sandbox resolver) with a
//! Blueprint-based agent provider and a Teams-bot app provider, and the agent's environment.

use std::path::PathBuf;
use std::time::Duration;

use agentmint_sandbox::{LocalUrls, ManagedIdentityMode};
use agentmint_stack::{
    Blueprint, Layout, Provider, ResolverOptions, Sandbox, Stack, StackOptions, UserBy,
};
use anyhow::Context;

/// The agent provider (Blueprint → Agent Identity → Agent User).
pub const AGENT: &str = "demo-agent";
/// The plain app registration (a Teams bot with a managed identity).
pub const BOT: &str = "teams-bot";
pub use agentmint_stack::layout::{GRAPH_DEFAULT, USER_READ as USER_SCOPE};

/// Generates the universe in `dir` and starts every component.
pub async fn start(dir: PathBuf) -> anyhow::Result<Stack> {
    let layout = Layout {
        providers: vec![
            Provider::agent(
                AGENT,
                Blueprint::First,
                Some(UserBy::Upn),
                &[USER_SCOPE, agentmint_stack::layout::MAIL_READ],
            ),
            Provider::Bot { name: BOT.into() },
        ],
        sandboxes: vec![Sandbox::new("demo-sandbox", &[AGENT, BOT])],
        extra_config: String::new(),
    };
    let stack = Stack::start(StackOptions {
        dir: Some(dir),
        layout,
        emulator_tls: true,
        resolver: Some(ResolverOptions {
            sandbox: "demo-sandbox".into(),
            providers: vec![AGENT.into(), BOT.into()],
            managed_identity: ManagedIdentityMode::AppOnly {
                provider: AGENT.into(),
            },
            request_timeout: Duration::from_secs(10),
        }),
        ..StackOptions::default()
    })
    .await?;
    Ok(stack)
}

/// The sandbox resolver's local URLs.
pub fn urls(stack: &Stack) -> anyhow::Result<&LocalUrls> {
    Ok(&stack
        .resolver
        .as_ref()
        .context("the demo runs a sandbox resolver")?
        .urls)
}

/// The agent's environment: the sandbox's variables on top of `parent`, credentials stripped,
/// plus `AGENTMINT_EMULATOR_URL` (and its CA) so an agent can read the emulator's request counts.
pub fn agent_env(
    stack: &Stack,
    parent: impl Iterator<Item = (String, String)>,
) -> anyhow::Result<Vec<(String, String)>> {
    let mut env = agentmint_sandbox::launcher::agent_env(parent, urls(stack)?);
    env.push(("AGENTMINT_EMULATOR_URL".into(), stack.emulator_url.clone()));
    if let Some(ca) = &stack.emulator_ca {
        env.push(("AGENTMINT_EMULATOR_CA".into(), ca.display().to_string()));
    }
    Ok(env)
}
