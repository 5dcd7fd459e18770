//! `agentmint emulator`: the local Entra emulator as a process, for development, cross-process
//! tests and benchmarks. Prints one JSON ready line on stdout with its URL (and CA file when TLS is
//! on), then serves until SIGINT/SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use agentmint_emulator::directory::Cloud;
use agentmint_emulator::{Directory, Emulator, Knobs, pki};
use anyhow::Context;
use tokio::net::TcpListener;

use crate::signals;

#[derive(clap::Args)]
pub struct Args {
    /// The directory file (tenants, apps, agent identities, users, certificates, FICs).
    #[arg(long)]
    pub directory: Option<PathBuf>,
    /// Generate a demo universe into this folder (directory.toml, keys, certificates) and serve it.
    #[arg(long, conflicts_with = "directory")]
    pub generate: Option<PathBuf>,
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Serve https with a freshly generated CA written to DIR/ca.pem.
    #[arg(long)]
    pub tls_dir: Option<PathBuf>,
    /// Added latency per token or managed-identity request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Fraction of requests answered 429 with Retry-After.
    #[arg(long, default_value_t = 0.0)]
    pub throttle_fraction: f64,
    /// Retry-After seconds on throttled answers.
    #[arg(long, default_value_t = 1)]
    pub retry_after_secs: u64,
    /// Fraction of requests answered 503.
    #[arg(long, default_value_t = 0.0)]
    pub fail_fraction: f64,
    /// Fraction of requests never answered.
    #[arg(long, default_value_t = 0.0)]
    pub hang_fraction: f64,
    /// Lifetime of issued tokens, in seconds.
    #[arg(long)]
    pub token_lifetime_secs: Option<u64>,
    /// Play a sovereign cloud: its token exchange audience (`api://AzureADTokenExchangeUSGov`,
    /// `api://AzureADTokenExchangeChina`) replaces the public one. Overrides the directory's `cloud`.
    #[arg(long, value_enum)]
    pub cloud: Option<CloudArg>,
}

/// `--cloud`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum CloudArg {
    Public,
    UsGovernment,
    China,
}

pub async fn run(args: Args) -> anyhow::Result<u8> {
    let mut directory = match (&args.directory, &args.generate) {
        (Some(path), _) => {
            Directory::load(path).with_context(|| format!("loading {}", path.display()))?
        }
        (None, Some(dir)) => {
            std::fs::create_dir_all(dir)?;
            let world = agentmint_emulator::world::World::generate(dir)?;
            Directory::load(&world.directory_path)?
        }
        (None, None) => anyhow::bail!("give --directory FILE or --generate DIR"),
    };
    if let Some(cloud) = args.cloud {
        directory.cloud = match cloud {
            CloudArg::Public => Cloud::Public,
            CloudArg::UsGovernment => Cloud::UsGovernment,
            CloudArg::China => Cloud::China,
        };
    }
    let mut knobs = Knobs {
        latency: Duration::from_millis(args.latency_ms),
        throttle_fraction: args.throttle_fraction,
        retry_after_secs: args.retry_after_secs,
        fail_fraction: args.fail_fraction,
        hang_fraction: args.hang_fraction,
        ..Knobs::default()
    };
    if let Some(secs) = args.token_lifetime_secs {
        knobs.token_lifetime = Duration::from_secs(secs);
    }
    let emulator = Emulator::new(directory, knobs)?;
    let listener = TcpListener::bind(args.listen).await?;
    let addr = listener.local_addr()?;
    let (tls, url, ca) = match &args.tls_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            let (ca_pem, identity) = pki::generate_ca_and_server(&["localhost", "127.0.0.1"])?;
            let ca_path = dir.join("ca.pem");
            std::fs::write(&ca_path, ca_pem.as_bytes())?;
            (Some(identity), format!("https://{addr}"), Some(ca_path))
        }
        None => (None, format!("http://{addr}"), None),
    };
    let terminate = signals::terminate();
    let ready = serde_json::json!({ "event": "ready", "url": url, "ca": ca });
    println!("{ready}");
    agentmint_emulator::serve(listener, emulator, tls, terminate).await?;
    Ok(0)
}
