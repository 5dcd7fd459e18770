//! The URLs handed to the agent, and what the launcher must keep out of the agent's environment.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use agentmint_proto::TokenKind;

use crate::SandboxCredential;
use crate::route::{managed_identity_path, token_path};

/// One provider's two token URLs.
#[derive(Clone, PartialEq, Eq)]
pub struct ProviderUrls {
    pub provider: String,
    /// `GET ...?scope=` / `POST {"scopes":[...]}` for the app-only token.
    pub app_token_url: String,
    /// The same for the Agent User token.
    pub user_token_url: String,
}

/// The App Service-style managed-identity endpoint: `IDENTITY_ENDPOINT` and `IDENTITY_HEADER`.
#[derive(Clone, PartialEq, Eq)]
pub struct ManagedIdentityUrls {
    pub endpoint: String,
    /// The value callers must send as `X-IDENTITY-HEADER`.
    pub identity_header: String,
}

/// Everything the agent is told, per provider in configuration order (the first is the default),
/// plus what must never reach it (the sandbox credential and its file), for
/// [`crate::launcher::agent_env`]. `Debug` prints no secret path segment or header value.
#[derive(Clone)]
pub struct LocalUrls {
    pub providers: Vec<ProviderUrls>,
    pub managed_identity: Option<ManagedIdentityUrls>,
    pub(crate) credential: SandboxCredential,
    /// The host the URLs name (no port, no brackets), for `NO_PROXY`.
    pub(crate) host: String,
}

impl LocalUrls {
    /// The URLs of the provider called `name`.
    pub fn provider(&self, name: &str) -> Option<&ProviderUrls> {
        self.providers.iter().find(|p| p.provider == name)
    }

    /// The first (default) provider's URLs.
    pub fn default_provider(&self) -> &ProviderUrls {
        // `SandboxConfig::validate` refuses an empty provider list.
        &self.providers[0]
    }

    pub(crate) fn build(
        bound: SocketAddr,
        secret: &str,
        providers: &[String],
        managed_identity: Option<&str>,
        credential: SandboxCredential,
    ) -> Self {
        let reachable = reachable(bound);
        let base = format!("http://{reachable}");
        let providers = providers
            .iter()
            .map(|p| ProviderUrls {
                provider: p.clone(),
                app_token_url: format!("{base}{}", token_path(secret, p, TokenKind::AppOnly)),
                user_token_url: format!(
                    "{base}{}",
                    token_path(secret, p, TokenKind::UserPrincipal)
                ),
            })
            .collect();
        let managed_identity = managed_identity.map(|header| ManagedIdentityUrls {
            endpoint: format!("{base}{}", managed_identity_path(secret)),
            identity_header: header.to_owned(),
        });
        Self {
            providers,
            managed_identity,
            credential,
            host: reachable.ip().to_string(),
        }
    }
}

/// An address a client can connect to: a wildcard bind is reached over loopback.
fn reachable(bound: SocketAddr) -> SocketAddr {
    match bound.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), bound.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv6Addr::LOCALHOST.into(), bound.port())
        }
        _ => bound,
    }
}

impl fmt::Debug for ProviderUrls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderUrls")
            .field("provider", &self.provider)
            .field("app_token_url", &"[redacted]")
            .field("user_token_url", &"[redacted]")
            .finish()
    }
}

impl fmt::Debug for ManagedIdentityUrls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManagedIdentityUrls")
            .field("endpoint", &"[redacted]")
            .field("identity_header", &"[redacted]")
            .finish()
    }
}

impl fmt::Debug for LocalUrls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalUrls")
            .field("providers", &self.providers)
            .field("managed_identity", &self.managed_identity)
            .finish_non_exhaustive()
    }
}
