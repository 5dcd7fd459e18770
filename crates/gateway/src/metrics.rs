//! Prometheus metrics, rendered in the text exposition format.
//!
//! A handful of labelled counters and one latency histogram do not justify a metrics framework; this
//! module keeps them in maps behind one mutex (touched once per mint and once per upstream attempt,
//! never per cache probe) and renders them on scrape. Labels are provider names, kinds, hops, results
//! and HTTP statuses: never a token, a scope value from a caller, or anything secret.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

use agentmint_cache::CacheStats;
use agentmint_entra::{EntraError, Hop, UpstreamObserver};

/// Upstream latency histogram buckets, in seconds.
const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Default)]
struct Inner {
    /// (provider, kind, result) → count.
    /// Nested so that counting an existing series allocates nothing (the hot path counts every
    /// mint).
    mints: BTreeMap<String, BTreeMap<&'static str, BTreeMap<String, u64>>>,
    /// (hop, status) → count.
    upstream: BTreeMap<(&'static str, String), u64>,
    /// hop → latency.
    latency: BTreeMap<&'static str, Histogram>,
    /// (provider, kind) → seconds to expiry of the last token served.
    expiry: BTreeMap<String, BTreeMap<&'static str, i64>>,
}

/// The gateway's metrics registry.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut guard)
    }

    /// Counts one MintToken outcome (`ok`, or a gRPC code name).
    pub fn mint(&self, provider: &str, kind: &'static str, result: &str) {
        self.with(|m| {
            let by_kind = match m.mints.get_mut(provider) {
                Some(by_kind) => by_kind,
                None => m.mints.entry(provider.to_owned()).or_default(),
            };
            let by_result = by_kind.entry(kind).or_default();
            match by_result.get_mut(result) {
                Some(n) => *n += 1,
                None => {
                    by_result.insert(result.to_owned(), 1);
                }
            }
        });
    }

    /// Every MintToken call counted so far, whatever its outcome.
    pub fn mints_total(&self) -> u64 {
        self.with(|m| {
            m.mints
                .values()
                .flat_map(BTreeMap::values)
                .flat_map(BTreeMap::values)
                .sum()
        })
    }

    /// Records the remaining lifetime of the token just served.
    pub fn served(&self, provider: &str, kind: &'static str, seconds_to_expiry: i64) {
        self.with(|m| {
            let by_kind = match m.expiry.get_mut(provider) {
                Some(by_kind) => by_kind,
                None => m.expiry.entry(provider.to_owned()).or_default(),
            };
            by_kind.insert(kind, seconds_to_expiry);
        });
    }

    /// Renders every metric, including the caches' counters, in Prometheus text format.
    pub fn render(&self, cache: &CacheStats) -> String {
        let mut out = String::new();
        self.with(|m| {
            out.push_str("# HELP agentmint_mints_total MintToken calls by provider, kind and result.\n");
            out.push_str("# TYPE agentmint_mints_total counter\n");
            for (provider, by_kind) in &m.mints {
                for (kind, by_result) in by_kind {
                    for (result, n) in by_result {
                        let _ = writeln!(
                            out,
                            "agentmint_mints_total{{provider=\"{}\",kind=\"{kind}\",result=\"{}\"}} {n}",
                            escape(provider),
                            escape(result)
                        );
                    }
                }
            }
            out.push_str("# HELP agentmint_upstream_requests_total Upstream HTTP attempts by hop and status (0 = no response).\n");
            out.push_str("# TYPE agentmint_upstream_requests_total counter\n");
            for ((hop, status), n) in &m.upstream {
                let _ = writeln!(
                    out,
                    "agentmint_upstream_requests_total{{hop=\"{hop}\",status=\"{status}\"}} {n}"
                );
            }
            out.push_str("# HELP agentmint_upstream_duration_seconds Upstream attempt latency by hop.\n");
            out.push_str("# TYPE agentmint_upstream_duration_seconds histogram\n");
            for (hop, h) in &m.latency {
                let mut cumulative = 0;
                for (i, le) in BUCKETS.iter().enumerate() {
                    cumulative += h.counts[i];
                    let _ = writeln!(
                        out,
                        "agentmint_upstream_duration_seconds_bucket{{hop=\"{hop}\",le=\"{le}\"}} {cumulative}"
                    );
                }
                let _ = writeln!(
                    out,
                    "agentmint_upstream_duration_seconds_bucket{{hop=\"{hop}\",le=\"+Inf\"}} {}",
                    h.count
                );
                let _ = writeln!(out, "agentmint_upstream_duration_seconds_sum{{hop=\"{hop}\"}} {}", h.sum);
                let _ = writeln!(out, "agentmint_upstream_duration_seconds_count{{hop=\"{hop}\"}} {}", h.count);
            }
            out.push_str("# HELP agentmint_token_seconds_to_expiry Remaining lifetime of the last token served, by provider and kind.\n");
            out.push_str("# TYPE agentmint_token_seconds_to_expiry gauge\n");
            for (provider, by_kind) in &m.expiry {
                for (kind, secs) in by_kind {
                    let _ = writeln!(
                        out,
                        "agentmint_token_seconds_to_expiry{{provider=\"{}\",kind=\"{kind}\"}} {secs}",
                        escape(provider)
                    );
                }
            }
        });
        render_cache(&mut out, cache);
        out
    }
}

/// A metric family of per-hop cache counters: name, help text, and the counter it reads.
type CacheFamily = (
    &'static str,
    &'static str,
    fn(&agentmint_cache::HopStats) -> u64,
);

fn render_cache(out: &mut String, cache: &CacheStats) {
    let families: [CacheFamily; 6] = [
        ("agentmint_cache_hits_total", "Cache hits by hop.", |s| {
            s.hits
        }),
        (
            "agentmint_cache_misses_total",
            "Cache misses by hop.",
            |s| s.misses,
        ),
        (
            "agentmint_cache_waits_total",
            "Callers that waited on an upstream call, by hop.",
            |s| s.waits,
        ),
        (
            "agentmint_refreshes_total",
            "Successful background refreshes by hop.",
            |s| s.refreshes_ok,
        ),
        (
            "agentmint_refresh_failures_total",
            "Failed background refreshes by hop.",
            |s| s.refreshes_failed,
        ),
        (
            "agentmint_cache_evictions_total",
            "Cache evictions by hop.",
            |s| s.evictions,
        ),
    ];
    for (name, help, get) in families {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
        for hop in Hop::ALL {
            let _ = writeln!(out, "{name}{{hop=\"{hop}\"}} {}", get(cache.hop(hop)));
        }
    }
    let _ = writeln!(
        out,
        "# HELP agentmint_cache_entries Cached tokens by hop.\n# TYPE agentmint_cache_entries gauge"
    );
    for hop in Hop::ALL {
        let _ = writeln!(
            out,
            "agentmint_cache_entries{{hop=\"{hop}\"}} {}",
            cache.hop(hop).entries
        );
    }
}

impl UpstreamObserver for Metrics {
    fn on_attempt(
        &self,
        hop: Hop,
        status: Option<u16>,
        elapsed: Duration,
        _error: Option<&EntraError>,
    ) {
        let status = status.map(|s| s.to_string()).unwrap_or_else(|| "0".into());
        let secs = elapsed.as_secs_f64();
        self.with(|m| {
            *m.upstream.entry((hop.as_str(), status)).or_default() += 1;
            let h = m.latency.entry(hop.as_str()).or_default();
            for (i, le) in BUCKETS.iter().enumerate() {
                if secs <= *le {
                    h.counts[i] += 1;
                    break;
                }
            }
            h.sum += secs;
            h.count += 1;
        });
    }
}

/// Escapes a label value (backslash, quote, newline) per the exposition format.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
