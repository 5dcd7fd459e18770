//! Constant load on a few warm keys for a set time: what the expiry and throttling scenarios share.
//!
//! Each key gets its own paced workers (a fixed request rate, not as fast as possible), because the
//! question is what callers of a warm key experience while tokens expire and refresh underneath
//! them, not how much the machine can take.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use agentmint_emulator::Stats;
use agentmint_proto::TokenKind;

use crate::error::BenchError;
use crate::generator::{self, LoadResult, LoadSpec};
use crate::grpc_client::{GrpcCounters, GrpcProbe, GrpcTarget};
use crate::stack::{APP_SCOPE, Stack, USER_SCOPE};

/// Workers per key.
const WORKERS_PER_KEY: usize = 2;
/// Warm-up attempts per key (a throttled emulator may refuse the first ones).
const WARMUP_ATTEMPTS: usize = 30;

/// What callers saw and the emulator counted during the load.
pub struct SteadyOutcome {
    /// One result per key (app, user).
    pub results: Vec<LoadResult>,
    /// Answers with `cache_hit == false` during the load (not the warm-up).
    pub waited: u64,
    /// The emulator's counts at the start and the end of the load.
    pub before: Stats,
    pub after: Stats,
    /// How long the load actually ran.
    pub elapsed: Duration,
}

impl SteadyOutcome {
    pub fn completed(&self) -> u64 {
        self.results.iter().map(LoadResult::completed).sum()
    }

    pub fn errors(&self) -> u64 {
        self.results.iter().map(|r| r.errors).sum()
    }

    pub fn first_error(&self) -> Option<&str> {
        self.results.iter().find_map(|r| r.first_error.as_deref())
    }
}

/// The two keys every steady load runs on: one app-only, one user (which also keeps T1 and T2 hot).
pub fn targets(stack: &Stack) -> Vec<GrpcTarget> {
    vec![
        stack.grpc_target(TokenKind::AppOnly, vec![APP_SCOPE.to_owned()]),
        stack.grpc_target(TokenKind::UserPrincipal, vec![USER_SCOPE.to_owned()]),
    ]
}

/// Warms every key, then holds `rate` requests per second per key for `duration`.
pub async fn run(
    stack: &Stack,
    rate: u32,
    duration: Duration,
) -> Result<SteadyOutcome, BenchError> {
    let targets = targets(stack);
    for target in &targets {
        warm(target).await?;
    }
    let counters = Arc::new(GrpcCounters::default());
    let per_worker = Duration::from_secs_f64(WORKERS_PER_KEY as f64 / f64::from(rate.max(1)));
    let spec = LoadSpec {
        concurrency: WORKERS_PER_KEY,
        requests: (f64::from(rate) * duration.as_secs_f64()).ceil() as u64,
        warmup: 0,
        time_limit: duration + duration / 4 + Duration::from_secs(2),
        pace: Some(per_worker),
    };
    let before = stack.upstream();
    let loads = targets.iter().map(|target| {
        let counters = counters.clone();
        generator::run(spec, move || GrpcProbe::connect(target, counters.clone()))
    });
    let results = futures::future::try_join_all(loads).await?;
    let after = stack.upstream();
    let elapsed = results.iter().map(|r| r.elapsed).max().unwrap_or_default();
    Ok(SteadyOutcome {
        results,
        waited: counters.misses.load(Ordering::Relaxed),
        before,
        after,
        elapsed,
    })
}

/// Mints the target's token once, retrying while the emulator refuses.
async fn warm(target: &GrpcTarget) -> Result<(), BenchError> {
    let mut probe = GrpcProbe::connect(target, Arc::new(GrpcCounters::default())).await?;
    let mut last = None;
    for _ in 0..WARMUP_ATTEMPTS {
        match probe.mint().await {
            Ok(_) => return Ok(()),
            Err(err) => last = Some(err),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(last.map_or_else(
        || BenchError::Invalid("warm-up never succeeded".into()),
        BenchError::Probe,
    ))
}
