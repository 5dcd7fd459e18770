//! Typed cache keys, one per hop. Never joined strings: two keys are equal only when every field is.
//!
//! The variants keep the token kinds apart: a user token (`User`) can never be found under an app-only
//! key (`Resource`), whatever the scopes.

use crate::credential::CredentialFingerprint;
use crate::hop::Hop;
use crate::scope::ScopeSet;
use crate::user::UserSelector;

/// Hop 1's key: T1 depends only on who asks, with which credential, for which `fmi_path`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExchangeKey {
    pub authority_host: String,
    pub tenant: String,
    /// The Blueprint's client id.
    pub client_id: String,
    /// The credential's fingerprint (certificate thumbprint, secret digest, MI identity, token
    /// file path): a rotated credential gets a T1 of its own, never the old credential's.
    pub credential: CredentialFingerprint,
    /// The Agent Identity's client id.
    pub fmi_path: String,
}

/// Hop 2's key for T2, the Agent Identity's exchange token. A type of its own, with no scopes, so no
/// request for a resource can ever be answered with T2 (T2 only mints further tokens).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AgentExchangeKey {
    pub authority_host: String,
    pub tenant: String,
    /// The Agent Identity's client id.
    pub client_id: String,
}

/// Hop 2's key for an app-only agent token, and a plain app registration's resource token.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResourceKey {
    pub authority_host: String,
    pub tenant: String,
    pub client_id: String,
    pub scopes: ScopeSet,
}

/// Hop 3's key: the Agent User's delegated token.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserKey {
    pub authority_host: String,
    pub tenant: String,
    /// The Agent Identity's client id.
    pub client_id: String,
    pub user: UserSelector,
    pub scopes: ScopeSet,
}

/// A managed-identity token used as a client assertion.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ManagedIdentityKey {
    /// The endpoint (IMDS or App Service URL).
    pub source: String,
    /// The user-assigned identity selector, `None` for system-assigned.
    pub identity: Option<String>,
    pub resource: String,
}

/// Any hop's key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HopKey {
    /// Hop 1 (T1).
    Exchange(ExchangeKey),
    /// Hop 2 with the exchange scope (T2).
    AgentExchange(AgentExchangeKey),
    /// Hop 2 with a resource scope (an app-only agent token).
    AgentIdentity(ResourceKey),
    /// Hop 3 (Agent User token).
    User(UserKey),
    /// A plain app registration's resource token.
    App(ResourceKey),
    /// A managed-identity assertion.
    ManagedIdentity(ManagedIdentityKey),
}

impl HopKey {
    /// The hop that mints tokens for this key.
    pub fn hop(&self) -> Hop {
        match self {
            HopKey::Exchange(_) => Hop::Blueprint,
            HopKey::AgentExchange(_) | HopKey::AgentIdentity(_) => Hop::AgentIdentity,
            HopKey::User(_) => Hop::AgentUser,
            HopKey::App(_) => Hop::App,
            HopKey::ManagedIdentity(_) => Hop::ManagedIdentity,
        }
    }
}
