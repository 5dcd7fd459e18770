//! `agentmint bench`: the benchmarks of docs/benchmarks.md against the emulator, in this process,
//! on loopback. Prints a table and writes JSON.

use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Tiny counts: checks that every scenario works, not how fast (used by CI).
    #[arg(long)]
    pub smoke: bool,
    /// Where to write the JSON report.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub async fn run(args: Args) -> anyhow::Result<u8> {
    let report = agentmint_bench::run(agentmint_bench::BenchOptions {
        smoke: args.smoke,
        out: args.out,
    })
    .await?;
    println!("{}", report.table());
    Ok(0)
}
