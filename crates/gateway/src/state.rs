//! The gateway's shared state: the current registry, the chain with its caches, metrics and clock.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use agentmint_cache::{Clock, HopCaches};
use agentmint_config as config;
use agentmint_entra::Chain;
use tracing::{error, info, warn};

use crate::metrics::Metrics;
use crate::registry::{Current, Registry, RegistryError};
use crate::retire::{Fate, Names, ProviderChanges, Retirement, Revocation};
use crate::settings::{self, Effect, InForce, SettingChange};

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

/// What a reload did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reloaded {
    pub providers: ProviderChanges,
    /// Cached keys renewed in the background (their tokens served until the new ones arrive).
    pub renewing: usize,
    /// Cached keys dropped (retired principals, credentials no longer in force, revocation).
    pub dropped: usize,
    /// The `[gateway]` keys that changed, applied or needing a restart.
    pub gateway: Vec<SettingChange>,
}

/// Everything a request needs.
pub struct GatewayState {
    registry: Current,
    /// The files the config in force names (besides the config itself), for the file watcher.
    files: RwLock<Vec<PathBuf>>,
    pub chain: Chain,
    pub caches: Arc<HopCaches>,
    pub metrics: Arc<Metrics>,
    pub clock: Arc<dyn Clock>,
    pub config_path: Option<PathBuf>,
    ready: AtomicBool,
    env: Env,
    /// The gRPC port's TLS (`[gateway.tls]`), fixed at start.
    pub(crate) tls: Option<tonic::transport::ServerTlsConfig>,
    /// `[gateway]` as started and as applied since.
    settings: RwLock<Option<InForce>>,
}

impl GatewayState {
    /// A state serving the registry in force in `registry` (built with it as its
    /// [`Registry::build`] target, so that its providers' targets follow later reloads).
    pub fn new(
        registry: Current,
        chain: Chain,
        caches: Arc<HopCaches>,
        metrics: Arc<Metrics>,
        clock: Arc<dyn Clock>,
        config_path: Option<PathBuf>,
        env: Env,
    ) -> Self {
        Self {
            registry,
            files: RwLock::new(Vec::new()),
            chain,
            caches,
            metrics,
            clock,
            config_path,
            ready: AtomicBool::new(true),
            env,
            tls: None,
            settings: RwLock::new(None),
        }
    }

    /// Watches `files` (the ones the config names) for changes, besides the config itself.
    pub fn with_files(self, files: Vec<PathBuf>) -> Self {
        *self.files.write().unwrap_or_else(PoisonError::into_inner) = files;
        self
    }

    /// Serves gRPC over TLS with `tls` (`[gateway.tls]`).
    pub(crate) fn with_tls(mut self, tls: Option<tonic::transport::ServerTlsConfig>) -> Self {
        self.tls = tls;
        self
    }

    /// Records the `[gateway]` settings the gateway started with, so that a reload can tell what
    /// changed.
    pub(crate) fn with_settings(self, in_force: InForce) -> Self {
        *self
            .settings
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(in_force);
        self
    }

    /// The current registry (cheap: an `Arc` clone).
    pub fn registry(&self) -> Arc<Registry> {
        self.registry.get()
    }

    /// The files the config in force names (keys, certificates, secrets, token files, sandbox
    /// credential files, CA and TLS files), which the file watcher polls besides the config.
    pub fn watched_files(&self) -> Vec<PathBuf> {
        self.files
            .read()
            .unwrap_or_else(PoisonError::into_inner)
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
    /// diagnostics (logged with file:line); a valid one is swapped in. Unchanged providers keep
    /// their cached tokens; providers whose record changed (a credential renewed in place
    /// included) have their tokens renewed with the credential in force, served until the new ones
    /// arrive; tokens nothing in force mints for any more are dropped (see [`Retirement`]).
    pub fn reload(&self) -> Result<Reloaded, ReloadError> {
        self.reload_with(Revocation::Renew)
    }

    /// [`Self::reload`], and with [`Revocation::Revoke`] the changed providers' tokens are dropped
    /// at once instead of served until their renewal (a leaked credential).
    pub fn reload_with(&self, revocation: Revocation) -> Result<Reloaded, ReloadError> {
        let Some(path) = &self.config_path else {
            return Ok(Reloaded::default());
        };
        let result = config::load(path)
            .map_err(ReloadError::from)
            .and_then(|loaded| {
                let current = self.registry();
                let next = Registry::build(
                    &loaded.config,
                    Some(&current),
                    &*self.env,
                    &self.clock,
                    &self.registry,
                )?;
                Ok((loaded, current, next))
            });
        match result {
            Ok((loaded, current, next)) => {
                let gateway = self.apply_settings(&loaded.config.gateway, path);
                let retirement = Retirement::new(&current, &next, revocation);
                let files = loaded
                    .config
                    .files()
                    .iter()
                    .map(|p| p.to_path_buf())
                    .collect();
                *self.files.write().unwrap_or_else(PoisonError::into_inner) = files;
                let providers = next.providers.len();
                // In force first, so that every renewal started below mints with the new record.
                self.registry.set(next);
                let dropped = self
                    .caches
                    .invalidate_where(|key| retirement.fate(key) == Fate::Drop);
                let renewing = self
                    .caches
                    .refresh_where(|key| retirement.fate(key) == Fate::Renew);
                let changes = retirement.changes;
                info!(
                    path = %path.display(),
                    providers,
                    changed = %Names(&changes.changed),
                    kept_cache = %Names(&changes.kept),
                    retired = %Names(&changes.retired),
                    added = %Names(&changes.added),
                    renewing,
                    dropped,
                    revoke = revocation == Revocation::Revoke,
                    gateway_applied = %settings::keys(&gateway, Effect::Applied),
                    gateway_needs_restart = %settings::keys(&gateway, Effect::NeedsRestart),
                    "config reloaded"
                );
                Ok(Reloaded {
                    providers: changes,
                    renewing,
                    dropped,
                    gateway,
                })
            }
            Err(err) => {
                error!(path = %path.display(), "config reload refused; the previous config keeps serving:\n{err}");
                Err(err)
            }
        }
    }

    /// Applies what can be applied of a reloaded `[gateway]` (cache policy, CA file; the authority
    /// host reaches providers through their records) and warns, with file:line, about what needs a
    /// restart. Returns every change.
    fn apply_settings(
        &self,
        new: &config::GatewaySettings,
        file: &std::path::Path,
    ) -> Vec<SettingChange> {
        let mut guard = self
            .settings
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(in_force) = guard.as_mut() else {
            return Vec::new();
        };
        // Read once: compared with the CA in force, and applied if it changed.
        let ca = crate::server::read_ca(new);
        let ca_pem = ca.as_ref().ok().cloned().flatten();
        let changes = settings::changes(in_force, new, &ca_pem, file);
        for change in &changes {
            match (change.effect, change.key) {
                (Effect::NeedsRestart, key) => warn!(
                    "{}: `[gateway] {key}` changed: needs a restart to take effect; the gateway keeps the value it started with",
                    change.at
                ),
                (Effect::Applied, "ca_file") => {
                    let client = ca.as_ref().map_err(ToString::to_string).and_then(|_| {
                        crate::server::entra_client(
                            ca_pem.as_deref(),
                            &self.metrics,
                            &in_force.upstream,
                        )
                        .map_err(|e| e.to_string())
                    });
                    match client {
                        Ok(client) => {
                            self.chain.set_client(client);
                            in_force.ca_pem = ca_pem.clone();
                        }
                        Err(err) => error!(
                            "{}: `[gateway] ca_file` changed but cannot be applied ({err}); the previous CA stays in force",
                            change.at
                        ),
                    }
                }
                (Effect::Applied, key) if key.starts_with("cache.") => {
                    self.caches
                        .set_policy(crate::server::cache_policy(&new.cache));
                }
                (Effect::Applied, _) => {}
            }
        }
        in_force.applied = config::GatewaySettings {
            listen: in_force.applied.listen,
            admin_listen: in_force.applied.admin_listen,
            tls: in_force.applied.tls.clone(),
            ..new.clone()
        };
        changes
    }
}
