//! Building and running the gateway: the gRPC port (TokenBroker + health) and the admin port.
//!
//! `serve` takes already-bound listeners and a shutdown future, so tests run the real server on port
//! 0 and stop it when they choose. On shutdown `/readyz` turns unready first, then both servers stop
//! accepting and finish the requests in flight.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use agentmint_cache::{CachePolicy, Clock, HopCaches};
use agentmint_config as config;
use agentmint_entra::{Chain, ClientOptions, EntraClient};
use agentmint_proto::TokenBrokerServer;
use futures::FutureExt;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tonic::transport::server::TcpIncoming;

use crate::metrics::Metrics;
use crate::registry::{Registry, RegistryError};
use crate::service::Broker;
use crate::state::{Env, GatewayState};

/// How to build a gateway.
pub struct GatewayOptions {
    pub clock: Arc<dyn Clock>,
    pub cache: CachePolicy,
    pub client: ClientOptions,
    /// The file to re-read on reload; `None` disables reloading.
    pub config_path: Option<PathBuf>,
    /// The environment as the gateway sees it (injected so tests never touch the process env).
    pub env: Env,
}

/// Why the gateway could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{0}")]
    Registry(#[from] RegistryError),
    #[error("cannot build the Entra HTTP client: {0}")]
    Client(String),
    #[error("{0}")]
    Tls(#[from] crate::tls::TlsError),
}

/// Builds the gateway state from a validated config.
pub fn build(
    cfg: &config::Config,
    mut options: GatewayOptions,
) -> Result<Arc<GatewayState>, BuildError> {
    let metrics = Arc::new(Metrics::default());
    options.client.observer = Some(metrics.clone());
    let client = EntraClient::new(options.client).map_err(|e| BuildError::Client(e.to_string()))?;
    let caches = HopCaches::new(options.cache, options.clock.clone(), None);
    let chain = Chain::new(client, caches.clone());
    let registry = Registry::build(cfg, None, &*options.env, &options.clock)?;
    let tls = cfg
        .gateway
        .tls
        .as_ref()
        .map(crate::tls::server_config)
        .transpose()?;
    Ok(Arc::new(
        GatewayState::new(
            registry,
            chain,
            caches,
            metrics,
            options.clock,
            options.config_path,
            options.env,
        )
        .with_tls(tls),
    ))
}

/// Serves gRPC on `grpc` and the admin port on `admin` until `shutdown` resolves.
pub async fn serve(
    state: Arc<GatewayState>,
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
    let drain_state = state.clone();
    tokio::spawn(async move {
        shutdown.await;
        drain_state.set_draining();
        let _ = stop_tx.send(true);
    });

    let admin_task = admin.map(|listener| {
        let fut = crate::admin::serve(listener, state.clone(), stopped());
        tokio::spawn(fut)
    });

    let (health, health_service) = tonic_health::server::health_reporter();
    health.set_serving::<TokenBrokerServer<Broker>>().await;
    let mut server = tonic::transport::Server::builder().timeout(Duration::from_secs(60));
    if let Some(tls) = state.tls.clone() {
        server = server.tls_config(tls)?;
    }
    let result = server
        .add_service(health_service)
        .add_service(TokenBrokerServer::new(Broker::new(state.clone())))
        .serve_with_incoming_shutdown(
            // TCP_NODELAY: tonic sets it only on sockets it accepts itself. Without it a unary
            // response's trailers wait ~40 ms for the client's delayed ACK (Nagle).
            TcpIncoming::from(grpc).with_nodelay(Some(true)),
            stopped().map(|_| ()),
        )
        .await;
    if let Some(task) = admin_task {
        let _ = task.await;
    }
    state.caches.shutdown();
    result
}

/// Re-reads the config file whenever its contents change (polled), in addition to explicit reloads
/// (SIGHUP in the CLI). A broken file is reported once per distinct content and never swapped in.
pub fn spawn_reload_watcher(
    state: Arc<GatewayState>,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let Some(path) = state.config_path.clone() else {
            return;
        };
        let mut last = tokio::fs::read(&path).await.ok();
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if !state.is_ready() {
                return;
            }
            let current = tokio::fs::read(&path).await.ok();
            if current != last {
                last = current;
                let _ = state.reload();
            }
        }
    })
}
