//! `agentmint`: the one binary. Each subcommand lives in `cmd/`.

#![forbid(unsafe_code)]

mod claims;
mod cmd;
mod logging;
mod signals;

use clap::{Parser, Subcommand};

/// Short-lived Microsoft Entra tokens for sandboxed AI agents.
#[derive(Parser)]
#[command(name = "agentmint", version, about)]
struct Cli {
    /// Log filter (tracing env-filter syntax), e.g. `info,agentmint_gateway=debug`. Without the flag:
    /// `AGENTMINT_LOG`, then the ecosystem's `RUST_LOG`, then `info` (`warn` for `bench`, whose
    /// timings a log line per request would distort).
    #[arg(long, global = true, env = "AGENTMINT_LOG")]
    log: Option<String>,
    /// Log as JSON lines.
    #[arg(long, global = true)]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway: holds credentials, runs the Entra chains, serves gRPC MintToken.
    Gateway(cmd::gateway::Args),
    /// Run a sandbox resolver (optionally launching the agent command after `--`).
    Sandbox(cmd::sandbox::Args),
    /// Run the local Entra emulator (development, tests, benchmarks).
    Emulator(cmd::emulator::Args),
    /// Run emulator + gateway + sandbox + an agent end to end on loopback.
    Demo(cmd::demo::Args),
    /// Mint a token through a gateway and print its decoded claims (operator debugging).
    Token(cmd::token::Args),
    /// Configuration tools.
    #[command(subcommand)]
    Config(cmd::config::Command),
    /// Run the benchmarks against the emulator.
    Bench(cmd::bench::Args),
    /// Health checks for images without a shell (Docker HEALTHCHECK, Kubernetes exec probes).
    #[command(subcommand)]
    Probe(cmd::probe::Command),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // One TLS crypto provider for every rustls user in the process (reqwest, the emulator).
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let default_filter = match cli.command {
        Command::Bench(_) | Command::Probe(_) => "warn",
        _ => "info",
    };
    // `--log` and `AGENTMINT_LOG` (ours) win over `RUST_LOG` (everyone's), which wins over the default.
    let rust_log = std::env::var("RUST_LOG")
        .ok()
        .filter(|value| !value.trim().is_empty());
    let filter = cli
        .log
        .as_deref()
        .or(rust_log.as_deref())
        .unwrap_or(default_filter);
    if let Err(err) = logging::init(filter, cli.log_json) {
        eprintln!("agentmint: {err}");
        return std::process::ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("agentmint: cannot start the async runtime: {err}");
            return std::process::ExitCode::from(2);
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Gateway(args) => cmd::gateway::run(args).await,
            Command::Sandbox(args) => cmd::sandbox::run(args).await,
            Command::Emulator(args) => cmd::emulator::run(args).await,
            Command::Demo(args) => cmd::demo::run(args).await,
            Command::Token(args) => cmd::token::run(args).await,
            Command::Config(command) => cmd::config::run(command).await,
            Command::Bench(args) => cmd::bench::run(args).await,
            Command::Probe(command) => cmd::probe::run(command).await,
        }
    });
    match result {
        Ok(code) => std::process::ExitCode::from(code),
        Err(err) => {
            eprintln!("agentmint: {err:#}");
            std::process::ExitCode::from(1)
        }
    }
}
