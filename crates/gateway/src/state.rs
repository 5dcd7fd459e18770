//! The gateway's shared state: the current registry, the chain with its caches, metrics and clock.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use agentmint_cache::{Clock, HopCaches};
use agentmint_config as config;
use agentmint_entra::{Chain, HopKey};
use tracing::{error, info};

use crate::metrics::Metrics;
use crate::registry::{Registry, RegistryError};

/// Why a reload was refused (the old config keeps serving).
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error("{0}")]
    Invalid(#[from] config::Diagnostics),
    #[error("{0}")]
    Registry(#[from] RegistryError),
}

/// The environment as the gateway sees it: injected, so tests never touch the process env.
pub type Env = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Everything a request needs.
pub struct GatewayState {
    registry: RwLock<Arc<Registry>>,
    pub chain: Chain,
    pub caches: Arc<HopCaches>,
    pub metrics: Arc<Metrics>,
    pub clock: Arc<dyn Clock>,
    pub config_path: Option<PathBuf>,
    ready: AtomicBool,
    env: Env,
    /// The gRPC port's TLS (`[gateway.tls]`), fixed at start.
    pub(crate) tls: Option<tonic::transport::ServerTlsConfig>,
}

impl GatewayState {
    pub fn new(
        registry: Registry,
        chain: Chain,
        caches: Arc<HopCaches>,
        metrics: Arc<Metrics>,
        clock: Arc<dyn Clock>,
        config_path: Option<PathBuf>,
        env: Env,
    ) -> Self {
        Self {
            registry: RwLock::new(Arc::new(registry)),
            chain,
            caches,
            metrics,
            clock,
            config_path,
            ready: AtomicBool::new(true),
            env,
            tls: None,
        }
    }

    /// Serves gRPC over TLS with `tls` (`[gateway.tls]`).
    pub(crate) fn with_tls(mut self, tls: Option<tonic::transport::ServerTlsConfig>) -> Self {
        self.tls = tls;
        self
    }

    /// The current registry (cheap: an `Arc` clone).
    pub fn registry(&self) -> Arc<Registry> {
        self.registry
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// True once a valid config is loaded and until shutdown starts.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }

    /// Marks the gateway as draining: `/readyz` fails so load balancers stop sending traffic.
    pub fn set_draining(&self) {
        self.ready.store(false, Ordering::Relaxed);
    }

    /// Re-reads the config file. A broken file leaves the current registry serving and returns the
    /// diagnostics (logged with file:line); a valid one is swapped in, unchanged providers keep their
    /// cached tokens, and the caches stop refreshing tokens of clients no provider uses any more.
    pub fn reload(&self) -> Result<(), ReloadError> {
        let Some(path) = &self.config_path else {
            return Ok(());
        };
        let result = config::load(path)
            .map_err(ReloadError::from)
            .and_then(|loaded| {
                let current = self.registry();
                let next =
                    Registry::build(&loaded.config, Some(&current), &*self.env, &self.clock)?;
                Ok((current, next))
            });
        match result {
            Ok((current, next)) => {
                let retired = current.retired_clients(&next);
                if !retired.is_empty() {
                    self.caches.invalidate_where(|key| {
                        key_client(key).is_some_and(|c| retired.contains(&c))
                    });
                }
                let providers = next.providers.len();
                *self.registry.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(next);
                info!(
                    path = %path.display(),
                    providers,
                    retired_clients = retired.len(),
                    "config reloaded"
                );
                Ok(())
            }
            Err(err) => {
                error!(path = %path.display(), "config reload refused; the previous config keeps serving:\n{err}");
                Err(err)
            }
        }
    }
}

/// The (tenant, client id) a cache key belongs to, if any.
fn key_client(key: &HopKey) -> Option<(String, String)> {
    match key {
        HopKey::Exchange(k) => Some((k.tenant.clone(), k.client_id.clone())),
        HopKey::AgentExchange(k) => Some((k.tenant.clone(), k.client_id.clone())),
        HopKey::AgentIdentity(k) | HopKey::App(k) => Some((k.tenant.clone(), k.client_id.clone())),
        HopKey::User(k) => Some((k.tenant.clone(), k.client_id.clone())),
        HopKey::ManagedIdentity(_) => None,
    }
}
