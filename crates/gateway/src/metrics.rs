//! Prometheus metrics, kept and rendered by the Prometheus project's own client,
//! `prometheus-client`: lock-free atomic counters per series, so counting a mint takes no lock
//! beyond the shared read lock of a series lookup.
//!
//! Series names and labels are those dashboards already use (`agentmint_mints_total{provider,
//! kind,result}`, `agentmint_upstream_requests_total{hop,status}`, ...). Label values are bounded:
//! configured provider names (or `unknown`), token kinds, hops, result codes and HTTP statuses;
//! never a token, a caller's scope or provider string, or anything secret. The caches' counters are
//! read at scrape time from a [`CacheStats`] snapshot.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use agentmint_cache::{CacheStats, HopStats};
use agentmint_entra::{EntraError, Hop, UpstreamObserver};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::text::{encode_eof, encode_registry};
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeLabelSet, EncodeLabelValue, EncodeMetric, LabelValueEncoder,
};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// The content type of [`Metrics::render`]'s output (OpenMetrics text, which Prometheus reads).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Upstream latency histogram buckets, in seconds.
const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// A provider label value: a configured provider's name, `unknown`, or empty (unauthenticated
/// callers). Shared, so labelling a mint clones a pointer instead of a string.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct ProviderLabel(Arc<str>);

impl ProviderLabel {
    /// The label of a configured provider.
    pub fn configured(name: &Arc<str>) -> Self {
        Self(name.clone())
    }

    /// The label of a request naming no configured provider: callers cannot mint new series.
    pub fn unknown() -> Self {
        Self(Arc::from("unknown"))
    }

    /// The label of a caller that did not authenticate.
    pub fn unauthenticated() -> Self {
        Self(Arc::from(""))
    }
}

impl EncodeLabelValue for ProviderLabel {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        EncodeLabelValue::encode(&&*self.0, encoder)
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MintLabels {
    provider: ProviderLabel,
    kind: &'static str,
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ExpiryLabels {
    provider: ProviderLabel,
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UpstreamLabels {
    hop: &'static str,
    /// The HTTP status, 0 when no response arrived.
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HopLabel {
    hop: &'static str,
}

type LatencyFamily = Family<HopLabel, Histogram, fn() -> Histogram>;

/// The gateway's metrics.
pub struct Metrics {
    registry: Registry,
    mints: Family<MintLabels, Counter>,
    upstream: Family<UpstreamLabels, Counter>,
    latency: LatencyFamily,
    expiry: Family<ExpiryLabels, Gauge>,
    /// The sum of `mints` over every series, for tests and benchmarks.
    mints_total: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        let mints = Family::<MintLabels, Counter>::default();
        let upstream = Family::<UpstreamLabels, Counter>::default();
        let latency: LatencyFamily = Family::new_with_constructor(|| Histogram::new(BUCKETS));
        let expiry = Family::<ExpiryLabels, Gauge>::default();
        let mut registry = Registry::default();
        registry.register(
            "agentmint_mints",
            "MintToken calls by provider, kind and result.",
            mints.clone(),
        );
        registry.register(
            "agentmint_upstream_requests",
            "Upstream HTTP attempts by hop and status (0 = no response).",
            upstream.clone(),
        );
        registry.register(
            "agentmint_upstream_duration_seconds",
            "Upstream attempt latency by hop.",
            latency.clone(),
        );
        registry.register(
            "agentmint_token_seconds_to_expiry",
            "Remaining lifetime of the last token served, by provider and kind.",
            expiry.clone(),
        );
        Self {
            registry,
            mints,
            upstream,
            latency,
            expiry,
            mints_total: AtomicU64::new(0),
        }
    }
}

impl Metrics {
    /// Counts one MintToken outcome (`ok`, or a gRPC code name).
    pub fn mint(&self, provider: ProviderLabel, kind: &'static str, result: &'static str) {
        self.mints
            .get_or_create(&MintLabels {
                provider,
                kind,
                result,
            })
            .inc();
        self.mints_total.fetch_add(1, Ordering::Relaxed);
    }

    /// Every MintToken call counted so far, whatever its outcome.
    pub fn mints_total(&self) -> u64 {
        self.mints_total.load(Ordering::Relaxed)
    }

    /// Records the remaining lifetime of the token just served.
    pub fn served(&self, provider: ProviderLabel, kind: &'static str, seconds_to_expiry: i64) {
        self.expiry
            .get_or_create(&ExpiryLabels { provider, kind })
            .set(seconds_to_expiry);
    }

    /// Renders every metric, including the caches' counters, in the OpenMetrics text format.
    pub fn render(&self, cache: &CacheStats) -> String {
        let mut caches = Registry::default();
        caches.register_collector(Box::new(CacheCollector(*cache)));
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = encode_registry(&mut out, &self.registry)
            .and_then(|()| encode_registry(&mut out, &caches))
            .and_then(|()| encode_eof(&mut out));
        out
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
        let hop = hop.as_str();
        self.upstream
            .get_or_create(&UpstreamLabels {
                hop,
                status: status.unwrap_or(0),
            })
            .inc();
        self.latency
            .get_or_create(&HopLabel { hop })
            .observe(elapsed.as_secs_f64());
    }
}

/// The per-hop cache counters of one scrape.
#[derive(Debug)]
struct CacheCollector(CacheStats);

/// A family of per-hop cache counters: name (without `_total`), help text, and what it reads.
type CacheFamily = (&'static str, &'static str, fn(&HopStats) -> u64);

const CACHE_COUNTERS: [CacheFamily; 6] = [
    ("agentmint_cache_hits", "Cache hits by hop.", |s| s.hits),
    ("agentmint_cache_misses", "Cache misses by hop.", |s| {
        s.misses
    }),
    (
        "agentmint_cache_waits",
        "Callers that waited on an upstream call, by hop.",
        |s| s.waits,
    ),
    (
        "agentmint_refreshes",
        "Successful background refreshes by hop.",
        |s| s.refreshes_ok,
    ),
    (
        "agentmint_refresh_failures",
        "Failed background refreshes by hop.",
        |s| s.refreshes_failed,
    ),
    (
        "agentmint_cache_evictions",
        "Cache evictions by hop.",
        |s| s.evictions,
    ),
];

impl Collector for CacheCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        for (name, help, get) in CACHE_COUNTERS {
            let mut family = encoder.encode_descriptor(
                name,
                help,
                None,
                ConstCounter::new(0u64).metric_type(),
            )?;
            for hop in Hop::ALL {
                let label = HopLabel { hop: hop.as_str() };
                ConstCounter::new(get(self.0.hop(hop))).encode(family.encode_family(&label)?)?;
            }
        }
        let mut family = encoder.encode_descriptor(
            "agentmint_cache_entries",
            "Cached tokens by hop.",
            None,
            ConstGauge::new(0i64).metric_type(),
        )?;
        for hop in Hop::ALL {
            let label = HopLabel { hop: hop.as_str() };
            let entries = i64::try_from(self.0.hop(hop).entries).unwrap_or(i64::MAX);
            ConstGauge::new(entries).encode(family.encode_family(&label)?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_keep_their_names_and_labels() {
        let m = Metrics::default();
        let agent: Arc<str> = Arc::from("agent");
        m.mint(ProviderLabel::configured(&agent), "app_only", "ok");
        m.mint(ProviderLabel::configured(&agent), "app_only", "ok");
        m.mint(ProviderLabel::unknown(), "unspecified", "not_found");
        m.served(ProviderLabel::configured(&agent), "app_only", 3599);
        m.on_attempt(Hop::Blueprint, Some(200), Duration::from_millis(7), None);
        m.on_attempt(Hop::Blueprint, None, Duration::from_secs(20), None);
        let text = m.render(&CacheStats::default());
        for line in [
            "agentmint_mints_total{provider=\"agent\",kind=\"app_only\",result=\"ok\"} 2",
            "agentmint_mints_total{provider=\"unknown\",kind=\"unspecified\",result=\"not_found\"} 1",
            "agentmint_token_seconds_to_expiry{provider=\"agent\",kind=\"app_only\"} 3599",
            "agentmint_upstream_requests_total{hop=\"blueprint\",status=\"200\"} 1",
            "agentmint_upstream_requests_total{hop=\"blueprint\",status=\"0\"} 1",
            "agentmint_upstream_duration_seconds_count{hop=\"blueprint\"} 2",
            "agentmint_upstream_duration_seconds_bucket{le=\"0.01\",hop=\"blueprint\"} 1",
            "agentmint_cache_hits_total{hop=\"blueprint\"} 0",
            "agentmint_cache_entries{hop=\"app\"} 0",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line} missing from\n{text}"
            );
        }
        assert!(text.ends_with("# EOF\n"), "{text}");
        assert_eq!(m.mints_total(), 3);
    }
}
