//! Runs the benchmarks without the CLI: `cargo run --release -p agentmint-bench --example bench --
//! [--smoke] [--out FILE]`. Handy for profiling (a smaller binary than `agentmint`); the supported
//! command is `agentmint bench`.

use std::path::PathBuf;
use std::process::ExitCode;

use agentmint_bench::BenchOptions;

#[tokio::main]
async fn main() -> ExitCode {
    let mut options = BenchOptions::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--smoke" => options.smoke = true,
            "--out" => options.out = args.next().map(PathBuf::from),
            other => {
                eprintln!("unknown argument {other:?}; expected [--smoke] [--out FILE]");
                return ExitCode::from(2);
            }
        }
    }
    match agentmint_bench::run(options).await {
        Ok(report) => {
            println!("{}", report.table());
            if report.passed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(err) => {
            eprintln!("bench: {err}");
            ExitCode::from(1)
        }
    }
}
