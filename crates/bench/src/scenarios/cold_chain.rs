//! Scenario 3: the cold chain, with the emulator adding latency L to every upstream request.
//!
//! A cold USER_PRINCIPAL needs three round trips (T1, T2, user token), so it cannot beat 3L; a new
//! scope with T1 and T2 still cached needs one, so it cannot beat L. What the gateway adds is the
//! rest, and that is the figure: the value in ms and the value minus k·L.
//!
//! The caches are emptied between cold samples (the same gateway, the same channel), and every
//! sample checks with the emulator's counts that it really made k upstream requests.
//!
//! The emulator is not instant: it sleeps L (tokio's timer rounds up to the next millisecond), then
//! verifies the assertion and signs an RS256 token. So beside the judged latency the scenario
//! reports agentmint's own time (the latency minus the time the gateway's upstream latency
//! histogram says it spent waiting on answers) and the same mints at L = 0.

use std::sync::Arc;
use std::time::{Duration, Instant};

use agentmint_proto::{MintTokenRequest, TokenKind};

use crate::error::BenchError;
use crate::grpc_client::{GrpcCounters, GrpcProbe};
use crate::keys::key_sets;
use crate::plan::Plan;
use crate::report::{Row, Unit};
use crate::scenarios::Findings;
use crate::stack::{Stack, StackOptions, USER_SCOPE};

pub const NAME: &str = "3 cold chain";

/// What the gateway may add to the protocol's own round trips.
const ALLOWANCE: Duration = Duration::from_millis(5);

pub async fn run(plan: &Plan, findings: &mut Findings) -> Result<(), BenchError> {
    let new_scopes = key_sets(plan.cold_samples)?;
    let stack = Stack::start(StackOptions::cold(plan.cold_latency, new_scopes.scopes)).await?;
    let result = measure(&stack, plan, new_scopes.sets, findings).await;
    stack.shutdown().await;
    result
}

async fn measure(
    stack: &Stack,
    plan: &Plan,
    new_scopes: Vec<Vec<String>>,
    findings: &mut Findings,
) -> Result<(), BenchError> {
    let target = stack.grpc_target(TokenKind::UserPrincipal, vec![USER_SCOPE.to_owned()]);
    let mut probe = GrpcProbe::connect(&target, Arc::new(GrpcCounters::default())).await?;
    // The first mint opens the connections (gateway → emulator) and runs every code path once.
    probe.mint().await?;

    let mut cold = Vec::with_capacity(plan.cold_samples);
    for _ in 0..plan.cold_samples {
        stack.state.caches.invalidate_where(|_| true);
        let request = target.request.clone();
        cold.push(timed(stack, &mut probe, request, 3).await?);
    }
    let mut warm = Vec::with_capacity(plan.cold_samples);
    for scopes in &new_scopes {
        let request = MintTokenRequest {
            scopes: scopes.clone(),
            ..target.request.clone()
        };
        warm.push(timed(stack, &mut probe, request, 1).await?);
    }
    let l = plan.cold_latency;
    rows(findings, "cold USER_PRINCIPAL", 3, l, &mut cold);
    rows(findings, "new scope, warm T1/T2", 1, l, &mut warm);

    // The same at L = 0: what the round trips cost without the added latency (the emulator's own
    // work, RS256 signing included, plus the gateway's), to tell the reader where "− k·L" goes.
    let mut knobs = stack.emulator.knobs();
    knobs.latency = Duration::ZERO;
    stack.emulator.set_knobs(knobs);
    let mut cold0 = Vec::with_capacity(plan.cold_samples);
    let mut warm0 = Vec::with_capacity(plan.cold_samples);
    for scopes in &new_scopes {
        stack.state.caches.invalidate_where(|_| true);
        cold0.push(timed(stack, &mut probe, target.request.clone(), 3).await?);
        let request = MintTokenRequest {
            scopes: scopes.clone(),
            ..target.request.clone()
        };
        warm0.push(timed(stack, &mut probe, request, 1).await?);
    }
    for (what, samples) in [
        ("cold USER_PRINCIPAL at L = 0, median", &mut cold0),
        ("new scope, warm T1/T2, at L = 0, median", &mut warm0),
    ] {
        samples.sort();
        let median = samples
            .get(samples.len() / 2)
            .map(|s| s.elapsed)
            .unwrap_or_default();
        findings.row(Row::info(
            NAME,
            what,
            median.as_secs_f64() * 1_000.0,
            Unit::Millis,
        ));
    }
    findings.note(format!(
        "{NAME}: emulator latency L = {} ms per upstream request; medians of {} samples, each \
         checked to have made exactly k upstream requests",
        l.as_millis(),
        plan.cold_samples
    ));
    Ok(())
}

/// One timed mint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Sample {
    elapsed: Duration,
    /// The part of it the gateway spent waiting on upstream answers (its own upstream latency
    /// histogram), so that `elapsed − upstream` is agentmint's own time.
    upstream: Duration,
}

/// Times one mint that must make exactly `round_trips` upstream requests.
async fn timed(
    stack: &Stack,
    probe: &mut GrpcProbe,
    request: MintTokenRequest,
    round_trips: u64,
) -> Result<Sample, BenchError> {
    let before = stack.upstream_total();
    let upstream_before = upstream_seconds(stack);
    let started = Instant::now();
    let response = probe.send(request).await?;
    let elapsed = started.elapsed();
    let upstream = (upstream_seconds(stack) - upstream_before).max(0.0);
    let made = stack.upstream_total() - before;
    if response.cache_hit || made != round_trips {
        return Err(BenchError::Invalid(format!(
            "expected a miss with {round_trips} upstream requests, saw cache_hit={} and {made}",
            response.cache_hit
        )));
    }
    Ok(Sample {
        elapsed,
        upstream: Duration::from_secs_f64(upstream),
    })
}

/// Seconds the gateway has spent waiting on upstream answers, over every hop: the sum of its
/// `agentmint_upstream_duration_seconds` histograms, read the way a Prometheus scrape would.
fn upstream_seconds(stack: &Stack) -> f64 {
    let text = stack.state.metrics.render(&stack.state.caches.stats());
    text.lines()
        .filter(|l| l.starts_with("agentmint_upstream_duration_seconds_sum"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// The median (judged), the overhead beyond k·L, agentmint's own share of it, and the worst
/// sample.
fn rows(findings: &mut Findings, what: &str, k: u32, l: Duration, samples: &mut [Sample]) {
    let ms = |d: Duration| d.as_secs_f64() * 1_000.0;
    let median_of = |mut values: Vec<Duration>| {
        values.sort();
        values
            .get(values.len() / 2)
            .copied()
            .map(ms)
            .unwrap_or(f64::NAN)
    };
    let median = median_of(samples.iter().map(|s| s.elapsed).collect());
    let own = median_of(
        samples
            .iter()
            .map(|s| s.elapsed.saturating_sub(s.upstream))
            .collect(),
    );
    let worst = samples
        .iter()
        .map(|s| s.elapsed)
        .max()
        .map(ms)
        .unwrap_or(f64::NAN);
    let floor = ms(l * k);
    let bar = floor + ms(ALLOWANCE);
    let k_l = if k == 1 {
        "L".to_owned()
    } else {
        format!("{k}L")
    };
    findings.judged(
        Row::info(NAME, format!("{what}, median"), median, Unit::Millis).with_floor(floor),
        format!("≤ {k_l} + 5 ms = {bar:.0} ms"),
        median <= bar,
    );
    findings.row(Row::info(
        NAME,
        format!("{what}, median − {k_l}"),
        median - floor,
        Unit::Millis,
    ));
    findings.row(Row::info(
        NAME,
        format!("{what}, agentmint's own time (latency − upstream time), median"),
        own,
        Unit::Millis,
    ));
    findings.row(Row::info(NAME, format!("{what}, max"), worst, Unit::Millis).with_floor(floor));
}
