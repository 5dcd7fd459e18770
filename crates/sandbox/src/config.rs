//! What a resolver is told at start-up, and the checks that make a bad configuration fail then
//! rather than on the agent's first request.

use std::time::Duration;

use agentmint_proto::TokenKind;

use crate::{GatewayTls, SandboxCredential, SandboxError};

/// Everything one sandbox resolver needs.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// The gateway's gRPC address: `http://host:port`, or `https://host:port` for a gateway that
    /// serves TLS.
    pub gateway: String,
    /// TLS to an `https://` gateway: the CA to trust and the client certificate for mTLS.
    pub gateway_tls: GatewayTls,
    /// This sandbox's bearer credential for the gateway (redacted when printed).
    pub credential: SandboxCredential,
    /// The providers attached to this sandbox; the first is the default one.
    pub providers: Vec<String>,
    /// Whether to serve an App Service-style managed-identity endpoint, and with which token.
    pub managed_identity: ManagedIdentityMode,
    /// Extra `Host` header values to accept, exactly as clients send them (`name:port`, compared
    /// case-insensitively). `127.0.0.1`, `localhost` and `[::1]` at the bound port, and the bound
    /// address itself, are always accepted.
    pub allowed_hosts: Vec<String>,
    /// Deadline for one local request, the gateway call included.
    pub request_timeout: Duration,
    /// How long the resolver reuses a gateway answer for the same provider, kind and scopes
    /// (never more than a tenth of the token's remaining lifetime). Zero sends every request to the
    /// gateway. A provider detached from this sandbox stops being served within this time.
    pub token_cache_ttl: Duration,
    /// The unguessable first path segment; random when `None`. At least 16 characters of
    /// `[A-Za-z0-9._~-]` when given.
    pub path_secret: Option<String>,
}

/// The managed-identity endpoint's behaviour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManagedIdentityMode {
    /// No managed-identity endpoint; `IDENTITY_ENDPOINT` is not set for the agent.
    Off,
    /// Serve `provider`'s app-only token (the Agent Identity's own, or the app registration's).
    AppOnly { provider: String },
    /// Serve `provider`'s Agent User token.
    User { provider: String },
}

impl ManagedIdentityMode {
    /// The provider and token kind served, when on.
    pub(crate) fn target(&self) -> Option<(&str, TokenKind)> {
        match self {
            Self::Off => None,
            Self::AppOnly { provider } => Some((provider, TokenKind::AppOnly)),
            Self::User { provider } => Some((provider, TokenKind::UserPrincipal)),
        }
    }
}

/// The longest a resolver may reuse a gateway answer: revocations must take effect promptly.
pub const MAX_TOKEN_CACHE_TTL: Duration = Duration::from_secs(300);
/// The default reuse time (`agentmint sandbox --token-cache-secs`).
pub const DEFAULT_TOKEN_CACHE_TTL: Duration = Duration::from_secs(30);

/// Shortest accepted configured path secret: below this it is guessable.
const MIN_PATH_SECRET_LEN: usize = 16;
const MAX_PATH_SECRET_LEN: usize = 256;
const MAX_PROVIDER_NAME_LEN: usize = 128;

/// `AGENTMINT_USER_TOKEN_URL` is the default provider's user token URL, so no provider may be
/// called `user`: its app-only URL would land in the same variable.
const RESERVED_PREFIX: &str = "USER";

/// The per-provider environment prefix: upper-cased, every non-alphanumeric character as `_`.
pub(crate) fn env_prefix(provider: &str) -> String {
    provider
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

impl SandboxConfig {
    /// Checks every field that the resolver cannot fix at request time.
    pub(crate) fn validate(&self) -> Result<(), SandboxError> {
        if self.providers.is_empty() {
            return Err(SandboxError::NoProviders);
        }
        let mut prefixes: Vec<(String, &str)> = Vec::new();
        for name in &self.providers {
            if !provider_name_ok(name) {
                return Err(SandboxError::ProviderName { name: name.clone() });
            }
            let prefix = env_prefix(name);
            if prefix == RESERVED_PREFIX {
                return Err(SandboxError::ProviderEnvCollision {
                    first: "(the default provider's user token URL)".to_owned(),
                    second: name.clone(),
                    prefix,
                });
            }
            if let Some((_, first)) = prefixes.iter().find(|(p, _)| *p == prefix) {
                return Err(if *first == name {
                    SandboxError::DuplicateProvider { name: name.clone() }
                } else {
                    SandboxError::ProviderEnvCollision {
                        first: (*first).to_owned(),
                        second: name.clone(),
                        prefix,
                    }
                });
            }
            prefixes.push((prefix, name));
        }
        let unattached = self
            .managed_identity
            .target()
            .map(|(provider, _)| provider)
            .filter(|provider| !self.providers.iter().any(|p| p == provider));
        if let Some(provider) = unattached {
            return Err(SandboxError::ManagedIdentityProvider {
                name: provider.to_owned(),
            });
        }
        if let Some(secret) = &self.path_secret {
            check_path_secret(secret)?;
        }
        if self.request_timeout.is_zero() || self.request_timeout > Duration::from_secs(600) {
            return Err(SandboxError::RequestTimeout);
        }
        if self.token_cache_ttl > MAX_TOKEN_CACHE_TTL {
            return Err(SandboxError::TokenCacheTtl);
        }
        Ok(())
    }
}

/// Provider names become a URL path segment and an environment variable name: keep them plain.
fn provider_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_PROVIDER_NAME_LEN
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn check_path_secret(secret: &str) -> Result<(), SandboxError> {
    if secret.len() < MIN_PATH_SECRET_LEN {
        return Err(SandboxError::PathSecret {
            why: "shorter than 16 characters",
        });
    }
    if secret.len() > MAX_PATH_SECRET_LEN {
        return Err(SandboxError::PathSecret {
            why: "longer than 256 characters",
        });
    }
    if !secret
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'~' | b'-'))
    {
        return Err(SandboxError::PathSecret {
            why: "only letters, digits, '.', '_', '~' and '-' are allowed",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_prefix_upper_cases_and_replaces_punctuation() {
        assert_eq!(env_prefix("teams-bot.v2"), "TEAMS_BOT_V2");
    }

    #[test]
    fn provider_names_must_be_path_safe() {
        assert!(provider_name_ok("demo-agent_1.x"));
        for bad in ["", ".", "..", "a/b", "a b", "a%2Fb", "é"] {
            assert!(!provider_name_ok(bad), "{bad:?}");
        }
    }

    #[test]
    fn path_secrets_must_be_long_and_unreserved() {
        assert!(check_path_secret("0123456789abcdef").is_ok());
        assert!(check_path_secret("short").is_err());
        assert!(check_path_secret("0123456789abcdef/").is_err());
    }
}
