//! Who a chain runs for: an Entra agent (Blueprint → Agent Identity) or a plain app registration,
//! each with the authority it lives in and the credential it proves itself with.
//!
//! These are the only inputs the chains need; the gateway builds them from provider records and
//! shares them as `Arc`s, so a minter that runs again in the background owns what it needs.

use crate::credential::Credential;

/// Microsoft's public-cloud authority host, the default.
pub const PUBLIC_CLOUD: &str = "https://login.microsoftonline.com";

/// An authority host (public cloud, a sovereign cloud, or the emulator) and the tenant.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Authority {
    pub host: String,
    pub tenant: String,
}

impl Authority {
    /// The public-cloud authority for `tenant`.
    pub fn public(tenant: impl Into<String>) -> Self {
        Self {
            host: PUBLIC_CLOUD.to_owned(),
            tenant: tenant.into(),
        }
    }

    /// The host without a trailing slash, as used in URLs and cache keys (so `https://h/` and
    /// `https://h` share entries).
    pub fn host_trimmed(&self) -> &str {
        self.host.trim_end_matches('/')
    }

    /// `{host}/{tenant}/oauth2/v2.0/token`: where grants are posted, and the `aud` of certificate
    /// assertions.
    pub fn token_endpoint(&self) -> String {
        format!("{}/{}/oauth2/v2.0/token", self.host_trimmed(), self.tenant)
    }
}

/// An Entra agent: its Blueprint (which holds the credential) and its Agent Identity.
/// `Debug` shows the credential's fingerprint, never its secret.
#[derive(Debug, Clone)]
pub struct AgentRef {
    pub authority: Authority,
    pub blueprint_client_id: String,
    pub agent_identity_client_id: String,
    /// The Agent Identity's object id, when the operator configured it: then its app-only tokens'
    /// `oid` is checked against it.
    pub agent_identity_object_id: Option<String>,
    pub credential: Credential,
}

/// A plain app registration (for example a Teams bot) and its credential.
/// `Debug` shows the credential's fingerprint, never its secret.
#[derive(Debug, Clone)]
pub struct AppRef {
    pub authority: Authority,
    pub client_id: String,
    pub credential: Credential,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_endpoint_trims_the_hosts_trailing_slash() {
        let a = Authority {
            host: "https://login.example/".into(),
            tenant: "t1".into(),
        };
        assert_eq!(
            a.token_endpoint(),
            "https://login.example/t1/oauth2/v2.0/token"
        );
        assert_eq!(
            Authority::public("t1").token_endpoint(),
            "https://login.microsoftonline.com/t1/oauth2/v2.0/token"
        );
    }
}
