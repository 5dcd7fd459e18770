//! The load generator: a fixed number of requests spread over `concurrency` workers, each on its own
//! keep-alive connection, timed into an HDR histogram, within a time bound.
//!
//! Every figure of the hot-path scenarios is a ratio against a floor measured by this same generator
//! in the same run, so the generator's own cost cancels out as far as it can: both sides pay it
//! equally. Connections are opened and warmed before the clock starts, so the figures measure steady
//! state, not handshakes.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::Serialize;
use tokio::sync::Barrier;

use crate::error::{BenchError, ProbeError};

/// The highest latency the histogram resolves (anything slower is recorded as this).
const MAX_LATENCY: Duration = Duration::from_secs(30);

/// One worker's request: the generator times each call.
pub trait Probe: Send + 'static {
    /// Sends one request and waits for the whole answer; `Ok` only for the expected success.
    fn call(&mut self) -> impl Future<Output = Result<(), ProbeError>> + Send;
}

/// Opens one worker's probe (its own connection). Any `FnMut() -> impl Future<Output =
/// Result<impl Probe, ProbeError>>` is one, so callers pass a closure.
pub trait Connect {
    type Probe: Probe;
    type Connecting: Future<Output = Result<Self::Probe, ProbeError>>;
    fn connect(&mut self) -> Self::Connecting;
}

impl<P, F, Fut> Connect for F
where
    P: Probe,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<P, ProbeError>>,
{
    type Probe = P;
    type Connecting = Fut;

    fn connect(&mut self) -> Fut {
        self()
    }
}

/// How much load to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadSpec {
    /// Workers, each with its own connection and at most one request in flight.
    pub concurrency: usize,
    /// Timed requests in total, shared by the workers.
    pub requests: u64,
    /// Untimed requests per worker before the clock starts (connection and cache warm-up).
    pub warmup: u64,
    /// The clock stops here even if requests remain; the result says it was truncated.
    pub time_limit: Duration,
    /// Each worker starts at most one request per `pace` (constant load); `None`: back to back.
    pub pace: Option<Duration>,
}

impl LoadSpec {
    /// Back-to-back load with a small warm-up.
    pub fn closed(concurrency: usize, requests: u64, time_limit: Duration) -> Self {
        Self {
            concurrency,
            requests,
            warmup: 2,
            time_limit,
            pace: None,
        }
    }
}

/// What one load run measured.
#[derive(Debug, Clone)]
pub struct LoadResult {
    pub concurrency: usize,
    /// Latency of every successful timed request, in nanoseconds.
    pub latency: Histogram<u64>,
    pub errors: u64,
    /// The first failure, to say what went wrong without flooding the report.
    pub first_error: Option<String>,
    /// From the start barrier to the last worker's end.
    pub elapsed: Duration,
    /// True when the time limit stopped the run before every request was sent.
    pub truncated: bool,
}

/// A [`LoadResult`] reduced to the figures the report prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoadSummary {
    pub concurrency: usize,
    pub completed: u64,
    pub errors: u64,
    pub truncated: bool,
    pub elapsed_secs: f64,
    pub requests_per_sec: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub p999_us: f64,
    pub max_us: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
}

impl LoadResult {
    /// Successful timed requests.
    pub fn completed(&self) -> u64 {
        self.latency.len()
    }

    /// Successful requests per second of wall time.
    pub fn requests_per_sec(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.completed() as f64 / secs
        } else {
            0.0
        }
    }

    /// The latency at `quantile` (0..=1), in microseconds.
    pub fn quantile_us(&self, quantile: f64) -> f64 {
        self.latency.value_at_quantile(quantile) as f64 / 1_000.0
    }

    pub fn summary(&self) -> LoadSummary {
        LoadSummary {
            concurrency: self.concurrency,
            completed: self.completed(),
            errors: self.errors,
            truncated: self.truncated,
            elapsed_secs: self.elapsed.as_secs_f64(),
            requests_per_sec: self.requests_per_sec(),
            p50_us: self.quantile_us(0.50),
            p99_us: self.quantile_us(0.99),
            p999_us: self.quantile_us(0.999),
            max_us: self.latency.max() as f64 / 1_000.0,
            first_error: self.first_error.clone(),
        }
    }
}

/// One worker's share of the result.
struct WorkerResult {
    latency: Histogram<u64>,
    errors: u64,
    first_error: Option<String>,
    truncated: bool,
}

fn new_histogram() -> Result<Histogram<u64>, BenchError> {
    let high = u64::try_from(MAX_LATENCY.as_nanos()).unwrap_or(u64::MAX);
    Histogram::new_with_bounds(1, high, 3)
        .map_err(|e| BenchError::Invalid(format!("histogram bounds: {e}")))
}

/// Applies `spec` with probes from `connect` (called once per worker, before the clock starts).
pub async fn run(spec: LoadSpec, mut connect: impl Connect) -> Result<LoadResult, BenchError> {
    if spec.concurrency == 0 {
        return Err(BenchError::Invalid("concurrency must be at least 1".into()));
    }
    let mut probes = Vec::with_capacity(spec.concurrency);
    for _ in 0..spec.concurrency {
        probes.push(connect.connect().await.map_err(BenchError::Connect)?);
    }
    let remaining = Arc::new(AtomicU64::new(spec.requests));
    let start = Arc::new(Barrier::new(spec.concurrency + 1));
    let mut workers = Vec::with_capacity(spec.concurrency);
    for probe in probes {
        let histogram = new_histogram()?;
        let remaining = remaining.clone();
        let start = start.clone();
        workers.push(tokio::spawn(worker(
            probe, spec, histogram, remaining, start,
        )));
    }
    start.wait().await;
    let began = Instant::now();
    let mut latency = new_histogram()?;
    let mut errors = 0;
    let mut first_error = None;
    let mut truncated = false;
    for worker in workers {
        let part = worker.await?;
        latency
            .add(&part.latency)
            .map_err(|e| BenchError::Invalid(format!("histogram merge: {e:?}")))?;
        errors += part.errors;
        first_error = first_error.or(part.first_error);
        truncated |= part.truncated;
    }
    Ok(LoadResult {
        concurrency: spec.concurrency,
        latency,
        errors,
        first_error,
        elapsed: began.elapsed(),
        truncated,
    })
}

async fn worker<P: Probe>(
    mut probe: P,
    spec: LoadSpec,
    mut latency: Histogram<u64>,
    remaining: Arc<AtomicU64>,
    start: Arc<Barrier>,
) -> WorkerResult {
    let mut errors = 0;
    let mut first_error = None;
    let mut fail = |err: ProbeError| {
        errors += 1;
        if first_error.is_none() {
            first_error = Some(err.to_string());
        }
    };
    for _ in 0..spec.warmup {
        if let Err(err) = probe.call().await {
            fail(err);
        }
    }
    start.wait().await;
    let deadline = Instant::now() + spec.time_limit;
    let mut pace = spec.pace.map(|every| {
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        interval
    });
    let mut truncated = false;
    while take_one(&remaining) {
        if let Some(interval) = pace.as_mut() {
            interval.tick().await;
        }
        if Instant::now() >= deadline {
            truncated = true;
            break;
        }
        let sent = Instant::now();
        match probe.call().await {
            Ok(()) => {
                let nanos = u64::try_from(sent.elapsed().as_nanos()).unwrap_or(u64::MAX);
                latency.saturating_record(nanos.max(1));
            }
            Err(err) => fail(err),
        }
    }
    WorkerResult {
        latency,
        errors,
        first_error,
        truncated,
    }
}

/// Claims one request from the shared budget; false when none is left.
fn take_one(remaining: &AtomicU64) -> bool {
    remaining
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
        .is_ok()
}

/// Runs the floor and the measured system alternately, `rounds` times each with a `rounds`-th of
/// the requests, and keeps each side's fastest round. On a shared machine a burst of outside load
/// then slows one round of each side, not one whole side, and each round re-draws which worker
/// threads the connections' tasks land on (at concurrency 1 that alone moves throughput by a factor
/// of several on a VM with slow cross-thread wake-ups): the ratio compares each side at its best.
pub async fn paired(
    spec: LoadSpec,
    rounds: u32,
    mut floor: impl Connect,
    mut measured: impl Connect,
) -> Result<(LoadResult, LoadResult), BenchError> {
    let rounds = rounds.max(1);
    let round = LoadSpec {
        requests: (spec.requests / u64::from(rounds)).max(1),
        ..spec
    };
    let faster = |best: Option<LoadResult>, next: LoadResult| match best {
        Some(best) if best.requests_per_sec() >= next.requests_per_sec() => Some(best),
        _ => Some(next),
    };
    let (mut best_floor, mut best_measured) = (None, None);
    for _ in 0..rounds {
        best_floor = faster(best_floor, run(round, || floor.connect()).await?);
        best_measured = faster(best_measured, run(round, || measured.connect()).await?);
    }
    match (best_floor, best_measured) {
        (Some(f), Some(m)) => Ok((f, m)),
        _ => Err(BenchError::Invalid("no round ran".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::floors::BareHttp;
    use crate::http_client::{HttpProbe, HttpTarget};
    use bytes::Bytes;

    async fn floor_target(body: &'static [u8]) -> (crate::floors::Floor, HttpTarget) {
        let floor = BareHttp::start(Bytes::from_static(body)).await.unwrap();
        let target = HttpTarget {
            addr: floor.addr,
            path_and_query: "/token?scope=x".into(),
            headers: vec![(
                http::HeaderName::from_static("metadata"),
                http::HeaderValue::from_static("true"),
            )],
        };
        (floor, target)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_request_of_the_budget_lands_in_the_histogram() {
        let (floor, target) = floor_target(br#"{"access_token":"x"}"#).await;
        let spec = LoadSpec::closed(4, 203, Duration::from_secs(20));
        let result = run(spec, || HttpProbe::connect(&target)).await.unwrap();
        assert_eq!(result.errors, 0, "{:?}", result.first_error);
        assert!(!result.truncated);
        assert_eq!(result.completed(), 203);
        let summary = result.summary();
        assert_eq!(summary.completed, 203);
        assert!(summary.requests_per_sec > 0.0);
        assert!(summary.p50_us > 0.0 && summary.p50_us <= summary.p99_us);
        assert!(summary.p99_us <= summary.p999_us && summary.p999_us <= summary.max_us);
        floor.stop().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_floor_answers_the_exact_body() {
        let body = br#"{"access_token":"abc","expires_in":3600}"#;
        let (floor, target) = floor_target(body).await;
        let mut probe = HttpProbe::connect(&target).await.unwrap();
        assert_eq!(&probe.fetch_ok().await.unwrap()[..], &body[..]);
        // The same connection serves the next request (keep-alive).
        assert_eq!(&probe.fetch_ok().await.unwrap()[..], &body[..]);
        floor.stop().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn failures_are_counted_not_timed() {
        let (floor, target) = floor_target(b"{}").await;
        let mut probe = HttpProbe::connect(&target).await.unwrap();
        probe.fetch_ok().await.unwrap();
        floor.stop().await;
        let spec = LoadSpec {
            warmup: 0,
            ..LoadSpec::closed(1, 5, Duration::from_secs(5))
        };
        let mut probe = Some(probe);
        let result = run(spec, || {
            let probe = probe.take();
            async move { probe.ok_or_else(|| ProbeError::Io(std::io::ErrorKind::Other.into())) }
        })
        .await
        .unwrap();
        assert_eq!(result.completed(), 0);
        assert_eq!(result.errors, 5);
        assert!(result.first_error.is_some());
    }

    #[tokio::test]
    async fn the_time_limit_truncates_a_run() {
        let (floor, target) = floor_target(b"{}").await;
        let spec = LoadSpec {
            pace: Some(Duration::from_millis(50)),
            ..LoadSpec::closed(1, 1_000, Duration::from_millis(300))
        };
        let result = run(spec, || HttpProbe::connect(&target)).await.unwrap();
        assert!(result.truncated);
        assert!(result.completed() < 1_000);
        floor.stop().await;
    }
}
