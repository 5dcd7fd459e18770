//! `agentmint sandbox`: the sandbox resolver. Without a command it runs as a sidecar until
//! signalled; with `-- CMD ARGS` it starts CMD with the token URLs in its environment (credentials
//! stripped), forwards signals, and exits with CMD's status.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use agentmint_sandbox::{
    ManagedIdentityMode, Resolver, SandboxConfig, SandboxCredential, launcher,
};
use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::signals;

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum MiMode {
    Off,
    App,
    User,
}

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub gateway: crate::cmd::gateway_conn::GatewayArgs,
    /// A provider attached to this sandbox; repeat for several. The first is the default.
    #[arg(long = "provider", required = true)]
    pub providers: Vec<String>,
    /// Where the local token URLs listen (loopback, or the sandbox namespace's host address).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Serve an App Service-style managed-identity endpoint (for unmodified Azure SDKs) with the
    /// first provider's app-only or user token.
    #[arg(long, value_enum, default_value = "off")]
    pub managed_identity: MiMode,
    /// Extra `Host` header values to accept (besides loopback names and the bound address).
    #[arg(long = "allow-host")]
    pub allow_hosts: Vec<String>,
    /// Deadline for one token request, including the gateway call (seconds).
    #[arg(long, default_value_t = 10)]
    pub timeout_secs: u64,
    /// How long the resolver reuses a gateway answer for the same provider, kind and scopes
    /// (seconds, at most 300; never more than a tenth of the token's remaining life). 0 sends every
    /// request to the gateway. Detaching a provider takes effect within this time.
    #[arg(long, default_value_t = 30)]
    pub token_cache_secs: u64,
    /// As a sidecar (no command): after SIGTERM, how long to keep serving token requests with
    /// `/readyz` already answering 503 (seconds). 0 (the default) suits a Kubernetes native
    /// sidecar or a systemd unit ordered before its agent: both stop the resolver only after the
    /// agent. With a command, the resolver stops once the command has exited, with no grace.
    #[arg(long, default_value_t = 0, conflicts_with = "command")]
    pub drain_grace_secs: u64,
    /// As a sidecar (no command): write the agent's variables (token URLs, aliases, the Azure SDK
    /// endpoint, NO_PROXY) to this file as `export NAME='value'` lines, for an agent in another
    /// container to source. The sandbox credential never goes in it.
    #[arg(long, conflicts_with = "command")]
    pub env_file: Option<PathBuf>,
    /// The agent command and its arguments.
    #[arg(last = true)]
    pub command: Vec<String>,
}

/// Builds the resolver's config from the arguments.
pub fn config(args: &Args) -> anyhow::Result<SandboxConfig> {
    let path = args.gateway.bearer_file();
    let credential = match &args.gateway.service_account_token_file {
        Some(_) => SandboxCredential::from_token_file(path),
        None => SandboxCredential::from_file(path),
    }
    .with_context(|| format!("reading the sandbox credential {}", path.display()))?;
    let first = args.providers[0].clone();
    Ok(SandboxConfig {
        gateway: args.gateway.gateway.clone(),
        gateway_tls: args.gateway.gateway_tls(),
        credential,
        providers: args.providers.clone(),
        managed_identity: match args.managed_identity {
            MiMode::Off => ManagedIdentityMode::Off,
            MiMode::App => ManagedIdentityMode::AppOnly { provider: first },
            MiMode::User => ManagedIdentityMode::User { provider: first },
        },
        allowed_hosts: args.allow_hosts.clone(),
        request_timeout: Duration::from_secs(args.timeout_secs),
        token_cache_ttl: Duration::from_secs(args.token_cache_secs),
        path_secret: None,
    })
}

pub async fn run(args: Args) -> anyhow::Result<u8> {
    let resolver =
        Resolver::new(config(&args)?)?.with_drain_grace(Duration::from_secs(args.drain_grace_secs));
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let bound = listener.local_addr()?;
    let urls = resolver.urls(bound);
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let server = tokio::spawn(resolver.serve(listener, async move {
        let _ = stop_rx.await;
    }));

    let code = if args.command.is_empty() {
        // Before the ready line: a SIGTERM right after it must drain, not kill.
        let terminate = signals::terminate();
        if let Some(path) = &args.env_file {
            write_env_file(path, &launcher::agent_env(std::iter::empty(), &urls))
                .with_context(|| format!("writing {}", path.display()))?;
        }
        // With an env file the URLs go there only: a sidecar's stdout is usually collected as logs.
        println!("{}", ready_event(bound, &urls, args.env_file.is_none()));
        terminate.await;
        0
    } else {
        let env = launcher::agent_env(std::env::vars(), &urls);
        launcher::run_agent(&args.command[0], &args.command[1..], env).await?
    };
    let _ = stop_tx.send(());
    server.await??;
    Ok(code)
}

/// The sidecar's one stdout line: the providers and, unless they went to an env file, the capability
/// URLs a co-located agent needs (they never reach a log line).
fn ready_event(
    bound: SocketAddr,
    urls: &agentmint_sandbox::LocalUrls,
    with_urls: bool,
) -> serde_json::Value {
    let mut ready = serde_json::json!({
        "event": "ready",
        "listen": bound.to_string(),
        "providers": urls.providers.iter().map(|p| p.provider.as_str()).collect::<Vec<_>>(),
    });
    if with_urls {
        let providers: serde_json::Map<String, serde_json::Value> = urls
            .providers
            .iter()
            .map(|p| {
                (
                    p.provider.clone(),
                    serde_json::json!({ "token_url": p.app_token_url, "user_token_url": p.user_token_url }),
                )
            })
            .collect();
        ready["urls"] = providers.into();
        ready["managed_identity"] = urls.managed_identity.as_ref().map(|mi| {
            serde_json::json!({ "IDENTITY_ENDPOINT": mi.endpoint, "IDENTITY_HEADER": mi.identity_header })
        }).into();
    }
    ready
}

/// Writes `vars` as shell `export` lines, atomically (a reader never sees half a file).
fn write_env_file(path: &std::path::Path, vars: &[(String, String)]) -> std::io::Result<()> {
    let mut text =
        String::from("# written by agentmint sandbox: source it before starting the agent\n");
    for (name, value) in vars {
        text.push_str(&format!(
            "export {name}='{}'\n",
            value.replace('\'', "'\\''")
        ));
    }
    let partial = path.with_extension("partial");
    std::fs::write(&partial, text)?;
    std::fs::rename(&partial, path)
}
