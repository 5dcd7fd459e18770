//! `agentmint gateway --config FILE`: load and validate the config (refusing to start on any
//! mistake), serve gRPC and the admin port, reload on SIGHUP or file change, drain on SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use agentmint_cache::{CachePolicy, SystemClock};
use agentmint_entra::ClientOptions;
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
    /// How often to check the config file for changes (seconds; 0 disables polling, SIGHUP still works).
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
    let cfg = loaded.config;
    let settings = &cfg.gateway;
    let mut client = ClientOptions::default();
    if let Some(ca) = &settings.ca_file {
        let pem = std::fs::read(ca).with_context(|| format!("reading ca_file {}", ca.display()))?;
        client.extra_root_certificates_pem.push(pem);
    }
    let cache = cache_policy(settings);
    let options = agentmint_gateway::GatewayOptions {
        clock: Arc::new(SystemClock),
        cache,
        client,
        config_path: Some(args.config.clone()),
        env: Box::new(|name| std::env::var(name).ok()),
    };
    let state = agentmint_gateway::build(&cfg, options)?;

    let grpc_addr = args.listen.unwrap_or(settings.listen);
    let admin_addr = args.admin_listen.unwrap_or(settings.admin_listen);
    let grpc = TcpListener::bind(grpc_addr)
        .await
        .with_context(|| format!("binding gRPC to {grpc_addr}"))?;
    let admin = TcpListener::bind(admin_addr)
        .await
        .with_context(|| format!("binding admin to {admin_addr}"))?;
    let ready = serde_json::json!({
        "event": "ready",
        "grpc": format!("{}://{}", if settings.tls.is_some() { "https" } else { "http" }, grpc.local_addr()?),
        "admin": format!("http://{}", admin.local_addr()?),
        "providers": cfg.providers.len(),
        "sandboxes": cfg.sandboxes.len(),
    });
    println!("{ready}");
    info!(grpc = %grpc.local_addr()?, admin = %admin.local_addr()?, "gateway ready");

    if args.reload_poll_seconds > 0 {
        agentmint_gateway::spawn_reload_watcher(
            state.clone(),
            Duration::from_secs(args.reload_poll_seconds),
        );
    }
    let reload_state = state.clone();
    tokio::spawn(async move {
        let Ok(mut hup) = signal(SignalKind::hangup()) else {
            return;
        };
        while hup.recv().await.is_some() {
            info!("SIGHUP: reloading the config");
            let _ = reload_state.reload();
        }
    });

    agentmint_gateway::serve(state, grpc, Some(admin), signals::terminate()).await?;
    info!("gateway stopped");
    Ok(0)
}

/// The cache policy from `[gateway.cache]`, defaults elsewhere.
pub fn cache_policy(settings: &agentmint_config::GatewaySettings) -> CachePolicy {
    let mut policy = CachePolicy::default();
    if let Some(secs) = settings.cache.safety_margin_seconds {
        policy.safety_margin = Duration::from_secs(secs);
    }
    if let Some(n) = settings.cache.max_entries {
        policy.max_entries = n;
    }
    if let Some(secs) = settings.cache.idle_timeout_seconds {
        policy.idle_timeout = Duration::from_secs(secs);
    }
    policy
}
