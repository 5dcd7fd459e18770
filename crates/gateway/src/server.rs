//! Building and running the gateway: [`Gateway::from_config`] turns a validated config into a
//! gateway (the whole `[gateway]` section is read here, so no caller assembles one by hand), and
//! [`serve`] runs the gRPC port (TokenBroker + health) and the admin port.
//!
//! `serve` takes already-bound listeners and a shutdown future, so tests run the real server on port
//! 0 and stop it when they choose. On shutdown the gateway drains ([`crate::drain`]): `/readyz` and
//! gRPC health say NOT_SERVING at once, it serves on for the grace, then both servers stop accepting
//! and finish the requests in flight within a bound.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use agentmint_cache::{CachePolicy, Clock, HopCaches, SystemClock};
use agentmint_config as config;
use agentmint_entra::{Chain, ClientOptions, EntraClient};
use agentmint_proto::TokenBrokerServer;
use futures::FutureExt;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tonic::transport::server::TcpIncoming;

use crate::drain::{Drain, REQUEST_BOUND};
use crate::metrics::Metrics;
use crate::registry::{Current, Registry, RegistryError};
use crate::service::Broker;
use crate::state::{Env, GatewayState};

/// What a caller may set that `[gateway]` does not say: everything else comes from the config.
#[derive(Default)]
pub struct Overrides {
    /// The clock of the caches (default: the system clock).
    pub clock: Option<Arc<dyn Clock>>,
    /// The environment as the gateway sees it (default: the process environment). Injected so
    /// tests never touch the process env.
    pub env: Option<Env>,
    /// The file to re-read on reload; `None` disables reloading.
    pub reload_from: Option<PathBuf>,
    /// Replaces `[gateway] listen`.
    pub listen: Option<SocketAddr>,
    /// Replaces `[gateway] admin_listen`.
    pub admin_listen: Option<SocketAddr>,
    /// Replaces `[gateway] drain_grace_seconds` (tests and in-process stacks stop at once).
    pub drain_grace: Option<Duration>,
    /// Replaces the upstream per-attempt timeout (10 s), so tests of a hung upstream stay short.
    pub upstream_request_timeout: Option<Duration>,
    /// Replaces the token-endpoint retry policy (3 attempts within 20 s).
    pub upstream_retry: Option<agentmint_entra::RetryPolicy>,
}

/// A gateway built from its config, ready to bind and serve.
pub struct Gateway {
    pub state: Arc<GatewayState>,
    /// Where gRPC listens (`[gateway] listen` or its override).
    pub listen: SocketAddr,
    /// Where the admin port listens (`[gateway] admin_listen` or its override).
    pub admin_listen: SocketAddr,
    /// How it stops (`[gateway] drain_grace_seconds` or its override).
    pub drain: Drain,
}

/// Why the gateway could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{0}")]
    Registry(#[from] RegistryError),
    #[error("cannot build the Entra HTTP client: {0}")]
    Client(String),
    #[error("cannot read ca_file {}: {source}", path.display())]
    CaFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Tls(#[from] crate::tls::TlsError),
}

impl Gateway {
    /// Builds the gateway a validated config describes: the whole `[gateway]` section (authority,
    /// `ca_file`, `[gateway.cache]`, `[gateway.tls]`, listen addresses) and every provider and
    /// sandbox record.
    pub fn from_config(loaded: &config::Loaded, overrides: Overrides) -> Result<Self, BuildError> {
        let cfg = &loaded.config;
        let settings = &cfg.gateway;
        let metrics = Arc::new(Metrics::default());
        let defaults = ClientOptions::default();
        let upstream = Upstream {
            request_timeout: overrides
                .upstream_request_timeout
                .unwrap_or(defaults.request_timeout),
            retry: overrides.upstream_retry.unwrap_or(defaults.retry),
        };
        let ca_pem = read_ca(settings)?;
        let client = entra_client(ca_pem.as_deref(), &metrics, &upstream)?;
        let clock = overrides.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let env = overrides
            .env
            .unwrap_or_else(|| Box::new(|name| std::env::var(name).ok()));
        let caches = HopCaches::new(cache_policy(&settings.cache), clock.clone(), None);
        let chain = Chain::new(client, caches.clone());
        let current = Current::default();
        let registry = Registry::build(cfg, None, &*env, &clock, &current)?;
        let files = cfg.files().iter().map(|p| p.to_path_buf()).collect();
        let tls = settings
            .tls
            .as_ref()
            .map(crate::tls::server_config)
            .transpose()?;
        current.set(registry);
        let state = GatewayState::new(
            current,
            chain,
            caches,
            metrics,
            clock,
            overrides.reload_from,
            env,
        )
        .with_tls(tls)
        .with_files(files)
        .with_settings(crate::settings::InForce {
            started: settings.clone(),
            applied: settings.clone(),
            ca_pem,
            tls_files: crate::settings::tls_digest(settings.tls.as_ref()),
            upstream,
        });
        Ok(Self {
            state: Arc::new(state),
            listen: overrides.listen.unwrap_or(settings.listen),
            admin_listen: overrides.admin_listen.unwrap_or(settings.admin_listen),
            drain: Drain::with_grace(
                overrides
                    .drain_grace
                    .unwrap_or(Duration::from_secs(settings.drain_grace_seconds)),
            ),
        })
    }

    /// `https` when `[gateway.tls]` is set, else `http`: the scheme of the gRPC port's URL.
    pub fn scheme(&self) -> &'static str {
        if self.state.tls.is_some() {
            "https"
        } else {
            "http"
        }
    }
}

/// How the gateway talks to its upstreams, beside `[gateway]`: fixed at start (from [`Overrides`])
/// and kept for a reload that rebuilds the HTTP client.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Upstream {
    pub request_timeout: Duration,
    pub retry: agentmint_entra::RetryPolicy,
}

/// The Entra HTTP client, trusting `ca_pem` (the content of `[gateway] ca_file`) besides the system roots.
pub(crate) fn entra_client(
    ca_pem: Option<&[u8]>,
    metrics: &Arc<Metrics>,
    upstream: &Upstream,
) -> Result<EntraClient, BuildError> {
    let client = ClientOptions {
        observer: Some(metrics.clone()),
        request_timeout: upstream.request_timeout,
        retry: upstream.retry,
        extra_root_certificates_pem: ca_pem.into_iter().map(<[u8]>::to_vec).collect(),
        ..ClientOptions::default()
    };
    EntraClient::new(client).map_err(|e| BuildError::Client(e.to_string()))
}

/// The content of `[gateway] ca_file`, if it names one.
pub(crate) fn read_ca(settings: &config::GatewaySettings) -> Result<Option<Vec<u8>>, BuildError> {
    settings
        .ca_file
        .as_ref()
        .map(|path| {
            std::fs::read(path).map_err(|source| BuildError::CaFile {
                path: path.clone(),
                source,
            })
        })
        .transpose()
}

/// The cache policy of `[gateway.cache]`, defaults for what it does not set.
pub(crate) fn cache_policy(settings: &config::CacheSettings) -> CachePolicy {
    let mut policy = CachePolicy::default();
    if let Some(secs) = settings.safety_margin_seconds {
        policy.safety_margin = Duration::from_secs(secs);
    }
    if let Some(n) = settings.max_entries {
        policy.max_entries = n;
    }
    if let Some(secs) = settings.idle_timeout_seconds {
        policy.idle_timeout = Duration::from_secs(secs);
    }
    policy
}

/// Serves gRPC on `grpc` and the admin port on `admin` until `shutdown` resolves, then drains as
/// `drain` says and returns.
pub async fn serve(
    state: Arc<GatewayState>,
    drain: Drain,
    grpc: TcpListener,
    admin: Option<TcpListener>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), tonic::transport::Error> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = move || {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };
    let (health, health_service) = tonic_health::server::health_reporter();
    health.set_serving::<TokenBrokerServer<Broker>>().await;
    let drain_state = state.clone();
    tokio::spawn(async move {
        shutdown.await;
        crate::drain::announce_and_wait(&drain_state, &health, drain).await;
        let _ = stop_tx.send(true);
    });

    let admin_task = admin.map(|listener| {
        let fut = crate::admin::serve(listener, state.clone(), stopped());
        tokio::spawn(fut)
    });

    let mut server = tonic::transport::Server::builder().timeout(REQUEST_BOUND);
    if let Some(tls) = state.tls.clone() {
        server = server.tls_config(tls)?;
    }
    let grpc_server = server
        .add_service(health_service)
        .add_service(TokenBrokerServer::new(Broker::new(state.clone())))
        .serve_with_incoming_shutdown(
            // TCP_NODELAY: tonic sets it only on sockets it accepts itself. Without it a unary
            // response's trailers wait ~40 ms for the client's delayed ACK (Nagle).
            TcpIncoming::from(grpc).with_nodelay(Some(true)),
            stopped().map(|_| ()),
        );
    tokio::pin!(grpc_server);
    let overdue = {
        let stopped = stopped();
        async move {
            stopped.await;
            tokio::time::sleep(drain.in_flight_bound).await;
        }
    };
    let result = tokio::select! {
        result = &mut grpc_server => result,
        () = overdue => {
            tracing::warn!(
                bound_secs = drain.in_flight_bound.as_secs(),
                "requests still in flight after the drain bound; stopping anyway"
            );
            Ok(())
        }
    };
    if let Some(task) = admin_task {
        let _ = tokio::time::timeout(drain.in_flight_bound, task).await;
    }
    state.caches.shutdown();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_policy_takes_what_gateway_cache_sets_and_defaults_the_rest() {
        let settings = config::CacheSettings {
            safety_margin_seconds: Some(60),
            max_entries: Some(5),
            idle_timeout_seconds: None,
        };
        let policy = cache_policy(&settings);
        let default = CachePolicy::default();
        assert_eq!(policy.safety_margin, Duration::from_secs(60));
        assert_eq!(policy.max_entries, 5);
        assert_eq!(policy.idle_timeout, default.idle_timeout);
        assert_eq!(policy.refresh_fraction, default.refresh_fraction);
    }
}
