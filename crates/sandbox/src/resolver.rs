//! The resolver: validated configuration, the gateway channel, and the secrets of the local URLs.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tracing::{info, warn};

use crate::gateway::Gateway;
use crate::guard::HostAllowlist;
use crate::handler::App;
use crate::{LocalUrls, SandboxConfig, SandboxError, random, server};

/// A sandbox resolver: serves token URLs on a local listener and mints through the gateway.
pub struct Resolver {
    config: SandboxConfig,
    gateway: Gateway,
    secret: String,
    identity_header: String,
    drain_grace: Duration,
}

impl Resolver {
    /// Checks the configuration and prepares the gateway channel, which connects lazily (on the
    /// first request) and reconnects by itself. Must be called inside a Tokio runtime.
    pub fn new(config: SandboxConfig) -> Result<Self, SandboxError> {
        config.validate()?;
        let gateway = Gateway::connect_lazy(
            &config.gateway,
            &config.gateway_tls,
            &config.credential,
            config.request_timeout,
        )?;
        let secret = config
            .path_secret
            .clone()
            .unwrap_or_else(random::secret_hex);
        Ok(Self {
            config,
            gateway,
            secret,
            identity_header: random::secret_hex(),
            drain_grace: Duration::ZERO,
        })
    }

    /// How long [`serve`](Self::serve) keeps serving after `shutdown`, with `/readyz` already
    /// answering 503 (default: none; a launcher's resolver stops only once its agent is gone).
    pub fn with_drain_grace(mut self, grace: Duration) -> Self {
        self.drain_grace = grace;
        self
    }

    /// The URLs to hand to the agent when the listener is bound to `bound`.
    pub fn urls(&self, bound: SocketAddr) -> LocalUrls {
        LocalUrls::build(
            bound,
            &self.secret,
            &self.config.providers,
            self.config
                .managed_identity
                .target()
                .map(|_| self.identity_header.as_str()),
            self.config.credential.clone(),
        )
    }

    /// Serves the local endpoint on `listener` until `shutdown` completes; then drains: `/readyz`
    /// answers 503 at once, requests are still served for the drain grace, then new connections
    /// are refused, in-flight requests finish, and it returns.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> io::Result<()> {
        let bound = listener.local_addr()?;
        if !bound.ip().is_loopback() {
            warn!(
                %bound,
                "the sandbox resolver listens on a non-loopback address; make sure only the sandbox can reach it"
            );
        }
        let managed_identity = self
            .config
            .managed_identity
            .target()
            .map(|(provider, kind)| (provider.to_owned(), kind, self.identity_header.clone()));
        let app = App {
            hosts: HostAllowlist::new(bound, &self.config.allowed_hosts),
            gateway: self.gateway,
            secret: self.secret,
            providers: self.config.providers.clone(),
            managed_identity,
            timeout: self.config.request_timeout,
            memo: crate::memo::Memo::new(self.config.token_cache_ttl),
            draining: Default::default(),
        };
        info!(
            %bound,
            providers = ?self.config.providers,
            managed_identity = app.managed_identity.is_some(),
            "sandbox resolver listening"
        );
        let result = server::run(listener, Arc::new(app), shutdown, self.drain_grace).await;
        info!("sandbox resolver stopped");
        result
    }
}
