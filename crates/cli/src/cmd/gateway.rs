//! `agentmint gateway --config FILE`: load and validate the config (refusing to start on any
//! mistake), serve gRPC and the admin port, reload on SIGHUP or when the config or any file it names
//! changes, reload revoking on SIGUSR1, drain on SIGTERM.
//!
//! SIGUSR1 is the operator's "this credential leaked" reload: providers whose credential changed
//! drop their cached tokens at once instead of serving them until new ones arrive. A signal keeps it
//! local to the host (only the gateway's user or root may send it), like SIGHUP.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use tracing::info;

use crate::signals;

#[derive(clap::Args)]
pub struct Args {
    /// The provider and sandbox records (TOML).
    #[arg(long, env = "AGENTMINT_CONFIG")]
    pub config: PathBuf,
    /// gRPC listen address; overrides `[gateway] listen`.
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Admin HTTP listen address; overrides `[gateway] admin_listen`.
    #[arg(long)]
    pub admin_listen: Option<SocketAddr>,
    /// How often to check the config file, and every file it names (keys, certificates, secrets,
    /// token files, sandbox credential files, CA files), for changes (seconds; 0 disables polling,
    /// SIGHUP still works).
    #[arg(long, default_value_t = 2)]
    pub reload_poll_seconds: u64,
}

pub async fn run(args: Args) -> anyhow::Result<u8> {
    let loaded = match agentmint_config::load(&args.config) {
        Ok(loaded) => loaded,
        Err(diagnostics) => {
            eprintln!("{diagnostics}");
            eprintln!("agentmint: the gateway refuses to start on an invalid config");
            return Ok(2);
        }
    };
    for warning in &loaded.warnings {
        tracing::warn!("{warning}");
    }
    let gateway = agentmint_gateway::Gateway::from_config(
        &loaded,
        agentmint_gateway::Overrides {
            reload_from: Some(args.config.clone()),
            listen: args.listen,
            admin_listen: args.admin_listen,
            ..Default::default()
        },
    )?;
    let grpc = TcpListener::bind(gateway.listen)
        .await
        .with_context(|| format!("binding gRPC to {}", gateway.listen))?;
    let admin = TcpListener::bind(gateway.admin_listen)
        .await
        .with_context(|| format!("binding admin to {}", gateway.admin_listen))?;
    // Before the ready line: a SIGTERM right after it must drain, not kill.
    let terminate = signals::terminate();
    // Also before it: the watcher's first snapshot and the SIGHUP/SIGUSR1 handlers, so a change or
    // a signal that follows the ready line is never missed (nor kills the process).
    let scheme = gateway.scheme();
    let drain = gateway.drain;
    let state = gateway.state;

    if args.reload_poll_seconds > 0 {
        agentmint_gateway::spawn_reload_watcher(
            state.clone(),
            Duration::from_secs(args.reload_poll_seconds),
        );
    }
    let reload_state = state.clone();
    let mut hup = signal(SignalKind::hangup()).context("installing the SIGHUP handler")?;
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            info!("SIGHUP: reloading the config");
            let _ = reload_state.reload();
        }
    });
    let revoke_state = state.clone();
    let mut usr1 = signal(SignalKind::user_defined1()).context("installing the SIGUSR1 handler")?;
    tokio::spawn(async move {
        while usr1.recv().await.is_some() {
            info!("SIGUSR1: reloading the config, revoking the tokens of changed providers");
            let _ = revoke_state.reload_with(agentmint_gateway::Revocation::Revoke);
        }
    });
    let ready = serde_json::json!({
        "event": "ready",
        "grpc": format!("{scheme}://{}", grpc.local_addr()?),
        "admin": format!("http://{}", admin.local_addr()?),
        "providers": loaded.config.providers.len(),
        "sandboxes": loaded.config.sandboxes.len(),
    });
    println!("{ready}");
    info!(grpc = %grpc.local_addr()?, admin = %admin.local_addr()?, "gateway ready");

    agentmint_gateway::serve(state, drain, grpc, Some(admin), terminate).await?;
    info!("gateway stopped");
    Ok(0)
}
