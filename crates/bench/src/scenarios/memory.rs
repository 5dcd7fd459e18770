//! Scenario 6: resident memory of a gateway holding 10,000 cached user tokens (10,000 keys: one
//! Agent User, 10,000 distinct sets of consented scopes, see [`crate::keys`]).
//!
//! The gateway runs in this process, beside the emulator and the load generator, so its memory
//! cannot be read apart from theirs. The figure judged is an upper bound: the process's RSS when
//! the run started (runtime, libraries, the binary's touched pages: what any gateway process pays)
//! plus everything the process grew by from just before the emulator and gateway were started to
//! after the fill (the gateway, its tokens, and also the emulator's directory, its signing and its
//! allocator slack, which a real gateway would not carry). This scenario runs first, before the
//! load scenarios leave freed heap behind that the fill could reuse unseen.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use agentmint_cache::CachePolicy;
use agentmint_entra::Hop;
use agentmint_proto::{MintTokenRequest, TokenKind};

use crate::error::BenchError;
use crate::grpc_client::{GrpcCounters, GrpcProbe};
use crate::keys::key_sets;
use crate::plan::Plan;
use crate::report::{Row, Unit};
use crate::scenarios::Findings;
use crate::stack::{Stack, StackOptions, USER_SCOPE};

pub const NAME: &str = "6 memory";

const MIB: f64 = 1024.0 * 1024.0;
/// The bar, in MiB.
const BAR_MIB: f64 = 64.0;
/// Concurrent mints while filling, over this many channels.
const FILLERS: usize = 16;
const CHANNELS: usize = 4;

/// The process's resident set size, from /proc/self/status.
pub fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

pub async fn run(
    plan: &Plan,
    rss_at_start: u64,
    findings: &mut Findings,
) -> Result<(), BenchError> {
    let keys = plan.memory_keys;
    let sets = key_sets(keys)?;
    let max_entries = CachePolicy::default().max_entries.max(keys * 2);
    let rss_before_stack = rss_bytes().ok_or_else(no_rss)?;
    let stack = Stack::start(StackOptions {
        cache_max_entries: Some(max_entries),
        extra_user_scopes: sets.scopes,
        ..StackOptions::default()
    })
    .await?;
    let result = fill(&stack, sets.sets).await;
    let rss_after = rss_bytes().ok_or_else(no_rss);
    let entries = stack.state.caches.stats().hop(Hop::AgentUser).entries;
    stack.shutdown().await;
    let filled = result?;
    let rss_after = rss_after?;
    let rss_warm = filled.rss_warm;
    if let Some(first) = &filled.first_error {
        findings.note(format!(
            "{NAME}: {} of {keys} mints failed; first: {first}",
            filled.failed
        ));
    }

    let estimate = rss_at_start + rss_after.saturating_sub(rss_before_stack);
    let growth = rss_after.saturating_sub(rss_warm);
    findings.judged(
        Row::info(
            NAME,
            format!("gateway RSS with {keys} user tokens (upper bound)"),
            estimate as f64 / MIB,
            Unit::MiB,
        ),
        format!("≤ {BAR_MIB} MiB"),
        (estimate as f64 / MIB) <= BAR_MIB,
    );
    findings.row(Row::info(
        NAME,
        format!("RSS growth while caching {keys} tokens"),
        growth as f64 / MIB,
        Unit::MiB,
    ));
    findings.row(Row::info(
        NAME,
        "RSS growth per cached token, bytes",
        growth as f64 / keys.max(1) as f64,
        Unit::Count,
    ));
    findings.row(Row::info(
        NAME,
        "whole process RSS (gateway + emulator + harness)",
        rss_after as f64 / MIB,
        Unit::MiB,
    ));
    findings.judged(
        Row::info(NAME, "user tokens cached", entries as f64, Unit::Count),
        format!("≥ {keys}"),
        entries >= keys as u64 && filled.failed == 0,
    );
    findings.note(format!(
        "{NAME}: gateway RSS = process VmRSS at the start of the run ({:.1} MiB) + growth from \
         before the emulator and gateway started to after the fill ({:.1} MiB); the growth includes \
         the in-process emulator, so the figure overstates the gateway",
        rss_at_start as f64 / MIB,
        rss_after.saturating_sub(rss_before_stack) as f64 / MIB
    ));
    Ok(())
}

fn no_rss() -> BenchError {
    BenchError::Invalid("cannot read VmRSS from /proc/self/status".into())
}

/// What the fill left behind.
struct Filled {
    /// RSS after the warm-up mint, before the fill.
    rss_warm: u64,
    failed: usize,
    first_error: Option<String>,
}

/// Mints one token for the default scope (warm-up), then one per scope set.
async fn fill(stack: &Stack, sets: Vec<Vec<String>>) -> Result<Filled, BenchError> {
    let keys = sets.len();
    let sets = Arc::new(sets);
    let target = stack.grpc_target(TokenKind::UserPrincipal, vec![USER_SCOPE.to_owned()]);
    let counters = Arc::new(GrpcCounters::default());
    let mut channels = Vec::with_capacity(CHANNELS);
    for _ in 0..CHANNELS {
        channels.push(GrpcProbe::connect(&target, counters.clone()).await?);
    }
    channels[0].mint().await?;
    let rss_warm = rss_bytes().ok_or_else(no_rss)?;
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::with_capacity(FILLERS);
    for f in 0..FILLERS {
        let mut probe = channels[f % CHANNELS].clone();
        let next = next.clone();
        let base = target.request.clone();
        let sets = sets.clone();
        tasks.push(tokio::spawn(async move {
            let mut failed = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= keys {
                    return failed;
                }
                let request = MintTokenRequest {
                    scopes: sets[i].clone(),
                    ..base.clone()
                };
                if let Err(err) = probe.send(request).await {
                    failed.push(err);
                }
            }
        }));
    }
    let mut failed = Vec::new();
    for task in tasks {
        failed.extend(task.await?);
    }
    if let Some(first) = failed.first()
        && failed.len() == keys
    {
        return Err(BenchError::Invalid(format!(
            "every mint failed; first: {first}"
        )));
    }
    Ok(Filled {
        rss_warm,
        failed: failed.len(),
        first_error: failed.first().map(ToString::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_is_readable_on_linux() {
        assert!(rss_bytes().is_some_and(|b| b > 0));
    }
}
