//! agentmint-bench: the benchmarks of BENCHMARKS.md, run in-process against the emulator on loopback.
//!
//! Shared machines are noisy, so no figure here is a bare time: every hot-path figure is a ratio to a
//! floor measured by the same load generator in the same run, and every upstream figure is a count
//! read from the emulator. [`run`] produces a [`Report`]; the CLI prints [`Report::table`] and the
//! JSON goes to [`BenchOptions::out`].
//!
//! - [`generator`], [`http_client`], [`grpc_client`]: the load generator and its two clients.
//! - [`floors`]: the bare HTTP and bare tonic servers the hot paths are compared with.
//! - [`stack`]: emulator + gateway + sandbox resolver in this process, as an operator wires them.
//! - [`scenarios`]: the seven scenarios; [`plan`]: their counts, full and smoke.
//! - [`report`], [`machine`]: rows, bars, and the machine stamp.

#![forbid(unsafe_code)]

pub mod error;
pub mod floors;
pub mod generator;
pub mod grpc_client;
pub mod http_client;
pub mod keys;
pub mod machine;
pub mod plan;
pub mod report;
pub mod scenarios;
pub mod stack;

use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub use error::{BenchError, ProbeError};
pub use machine::Machine;
pub use plan::Plan;
pub use report::{Outcome, Report, Row, Unit};

use scenarios::{Findings, cold_chain, expiry, hot_grpc, hot_http, memory, stampede, throttled};

/// What to run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BenchOptions {
    /// Tiny counts: checks that every scenario works and finishes in seconds; bars are not judged.
    pub smoke: bool,
    /// Where to write the JSON report (parent directories are created).
    pub out: Option<PathBuf>,
}

/// Runs every scenario and returns the report (also written to `options.out` when set).
///
/// A scenario that cannot produce its figures adds an error row and the run goes on: one broken
/// scenario should not hide the other six. Only a report that cannot be written is an `Err`.
pub async fn run(options: BenchOptions) -> Result<Report, BenchError> {
    let started = Instant::now();
    let started_unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let rss_at_start = memory::rss_bytes().unwrap_or(0);
    let plan = Plan::new(options.smoke);
    let limit = if plan.smoke {
        Duration::from_secs(60)
    } else {
        Duration::from_secs(180)
    };
    let mut f = Findings::new(plan.smoke);

    // Memory first: the load scenarios leave freed heap behind that would hide the fill's growth.
    let r = bounded(limit, memory::run(&plan, rss_at_start, &mut f)).await;
    record(&mut f, memory::NAME, r);
    let r = bounded(limit, hot_http::run(&plan, &mut f)).await;
    record(&mut f, hot_http::NAME, r);
    let r = bounded(limit, hot_grpc::run(&plan, &mut f)).await;
    record(&mut f, hot_grpc::NAME, r);
    let r = bounded(limit, cold_chain::run(&plan, &mut f)).await;
    record(&mut f, cold_chain::NAME, r);
    let r = bounded(limit, stampede::run(&plan, &mut f)).await;
    record(&mut f, stampede::NAME, r);
    let r = bounded(limit, expiry::run(&plan, &mut f)).await;
    record(&mut f, expiry::NAME, r);
    let r = bounded(limit, throttled::run(&plan, &mut f)).await;
    record(&mut f, throttled::NAME, r);

    let machine = Machine::detect();
    if machine.profile == "debug" {
        f.note("debug build: the figures say nothing about the daemon's speed; use --release");
    }
    // Scenario names start with their number, so a stable sort restores BENCHMARKS.md's order.
    f.rows.sort_by(|a, b| a.scenario.cmp(&b.scenario));
    let report = Report {
        machine,
        smoke: plan.smoke,
        started_unix,
        duration_secs: started.elapsed().as_secs_f64(),
        rows: f.rows,
        loads: f.loads,
        notes: f.notes,
    };
    if let Some(path) = &options.out {
        write_json(&report, path)?;
    }
    Ok(report)
}

/// Runs a scenario within `limit`, so that a hung component cannot hang the whole run.
async fn bounded(
    limit: Duration,
    scenario: impl Future<Output = Result<(), BenchError>>,
) -> Result<(), BenchError> {
    tokio::time::timeout(limit, scenario)
        .await
        .unwrap_or_else(|_| {
            Err(BenchError::Invalid(format!(
                "did not finish within {} s",
                limit.as_secs()
            )))
        })
}

fn record(findings: &mut Findings, scenario: &str, result: Result<(), BenchError>) {
    if let Err(err) = result {
        findings.row(Row::error(scenario, "scenario", err.to_string()));
    }
}

fn write_json(report: &Report, path: &std::path::Path) -> Result<(), BenchError> {
    let write_err = |source| BenchError::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(write_err)?;
    }
    let mut json = serde_json::to_string_pretty(report)?;
    json.push('\n');
    std::fs::write(path, json).map_err(write_err)
}
