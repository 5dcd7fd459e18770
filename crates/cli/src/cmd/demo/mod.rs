//! `agentmint demo`: the whole system on loopback in a temporary directory.
//!
//! It generates an Entra universe for the emulator (tenant, Blueprint with a certificate, Agent
//! Identity, Agent User, a Teams-bot app registration trusting a managed identity), starts the
//! emulator over TLS, a gateway configured with real provider records pointing at it, and a sandbox
//! resolver; then runs an agent — the built-in one, or `-- CMD ARGS` — with the sandbox environment.
//! Every component is the production code path; only the authority host differs.

mod agent;
mod setup;

use std::path::PathBuf;

use anyhow::Context;
use tokio::sync::oneshot;

use crate::signals;

#[derive(clap::Args)]
pub struct Args {
    /// Keep everything running after the agent finishes, and print the URLs.
    #[arg(long)]
    pub keep_running: bool,
    /// Use this folder instead of a temporary one (kept afterwards).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Run CMD as the sandboxed agent instead of the built-in one.
    #[arg(last = true)]
    pub command: Vec<String>,
}

pub async fn run(args: Args) -> anyhow::Result<u8> {
    let temp;
    let dir = match &args.dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            dir.clone()
        }
        None => {
            temp = tempfile::tempdir().context("creating a temporary folder")?;
            temp.path().to_path_buf()
        }
    };
    let stack = setup::start(dir).await?;

    let code = if args.command.is_empty() {
        agent::run_builtin(&stack).await?
    } else {
        let env = setup::agent_env(&stack, std::env::vars())?;
        agentmint_sandbox::launcher::run_agent(&args.command[0], &args.command[1..], env).await?
    };

    if args.keep_running {
        println!("\nStill running (Ctrl-C to stop):");
        println!("  emulator      {}", stack.emulator_url);
        println!("  gateway gRPC  {}", stack.gateway_url);
        println!("  gateway admin {}", stack.admin_url);
        println!("  config        {}", stack.config_path.display());
        for (name, value) in setup::agent_env(&stack, std::iter::empty())? {
            if name.ends_with("TOKEN_URL") || name == "IDENTITY_ENDPOINT" {
                println!("  {name}={value}");
            }
        }
        let (_tx, rx) = oneshot::channel::<()>();
        tokio::select! {
            _ = signals::terminate() => {}
            _ = rx => {}
        }
    }
    stack.shutdown().await;
    Ok(code)
}
