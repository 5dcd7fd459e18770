//! Who a chain runs for: an Entra agent (Blueprint → Agent Identity) or a plain app registration,
//! each with the authority it lives in and the credential it proves itself with.
//!
//! These are the only inputs the chains need; the gateway builds them from provider records and
//! shares them as `Arc`s, so a minter that runs again in the background owns what it needs.

use crate::credential::Credential;
use crate::scope::EXCHANGE_RESOURCE;

/// Microsoft's public-cloud authority host, the default.
pub const PUBLIC_CLOUD: &str = "https://login.microsoftonline.com";

/// The sovereign clouds' authority hosts and their token-exchange resources (Microsoft's workload
/// identity federation docs). Every other host, the emulator's included, is the public cloud's.
const SOVEREIGN_EXCHANGE: [(&str, &str); 3] = [
    (
        "login.microsoftonline.us",
        "api://AzureADTokenExchangeUSGov",
    ),
    ("login.chinacloudapi.cn", "api://AzureADTokenExchangeChina"),
    (
        "login.partner.microsoftonline.cn",
        "api://AzureADTokenExchangeChina",
    ),
];

/// An authority host (public cloud, a sovereign cloud, or the emulator) and the tenant.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Authority {
    pub host: String,
    pub tenant: String,
    /// The token-exchange resource, when the operator overrides the one the host implies.
    pub exchange_resource: Option<String>,
}

impl Authority {
    /// `tenant` at `host`, with the exchange resource the host implies.
    pub fn new(host: impl Into<String>, tenant: impl Into<String>) -> Self {
        Self {
            host: host.into(),
            tenant: tenant.into(),
            exchange_resource: None,
        }
    }

    /// The public-cloud authority for `tenant`.
    pub fn public(tenant: impl Into<String>) -> Self {
        Self::new(PUBLIC_CLOUD, tenant)
    }

    /// The token-exchange resource of this authority's cloud (`api://AzureADTokenExchange` in the
    /// public cloud, `…USGov` and `…China` in the sovereign ones), unless overridden. It is what T1
    /// and T2 are requested for, and what a managed identity's assertion is requested for.
    pub fn exchange_resource(&self) -> &str {
        if let Some(resource) = &self.exchange_resource {
            return resource;
        }
        let host = self.host_trimmed();
        let host = host.split_once("://").map_or(host, |(_, rest)| rest);
        let host = host.split(['/', ':']).next().unwrap_or(host);
        SOVEREIGN_EXCHANGE
            .iter()
            .find(|(h, _)| h.eq_ignore_ascii_case(host))
            .map_or(EXCHANGE_RESOURCE, |(_, resource)| resource)
    }

    /// The exchange scope: [`Self::exchange_resource`] + `/.default`.
    pub fn exchange_scope(&self) -> String {
        format!("{}/.default", self.exchange_resource())
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
        let a = Authority::new("https://login.example/", "t1");
        assert_eq!(
            a.token_endpoint(),
            "https://login.example/t1/oauth2/v2.0/token"
        );
        assert_eq!(
            Authority::public("t1").token_endpoint(),
            "https://login.microsoftonline.com/t1/oauth2/v2.0/token"
        );
    }

    #[test]
    fn the_exchange_resource_follows_the_cloud() {
        let of = |host: &str| Authority::new(host, "t").exchange_resource().to_owned();
        assert_eq!(of(PUBLIC_CLOUD), "api://AzureADTokenExchange");
        assert_eq!(
            of("https://login.microsoftonline.us/"),
            "api://AzureADTokenExchangeUSGov"
        );
        assert_eq!(
            of("https://LOGIN.chinacloudapi.cn"),
            "api://AzureADTokenExchangeChina"
        );
        assert_eq!(
            of("https://login.partner.microsoftonline.cn:443/"),
            "api://AzureADTokenExchangeChina"
        );
        assert_eq!(of("https://127.0.0.1:8443"), "api://AzureADTokenExchange");
        assert_eq!(
            Authority::new("https://login.microsoftonline.us", "t").exchange_scope(),
            "api://AzureADTokenExchangeUSGov/.default"
        );
    }

    #[test]
    fn an_explicit_exchange_resource_wins() {
        let mut a = Authority::new("https://127.0.0.1:8443", "t");
        a.exchange_resource = Some("api://AzureADTokenExchangeUSGov".into());
        assert_eq!(a.exchange_resource(), "api://AzureADTokenExchangeUSGov");
        assert_eq!(
            a.exchange_scope(),
            "api://AzureADTokenExchangeUSGov/.default"
        );
    }
}
