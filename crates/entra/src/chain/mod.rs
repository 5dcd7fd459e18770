//! The three public operations, each a short chain of hops whose tokens come from the caller's
//! [`HopCache`]:
//!
//! - app-only agent token: hop 1 (T1) → hop 2 with the resource scope;
//! - Agent User token: hop 1 → hop 2 with the exchange scope (T2) → hop 3 (`user_fic`);
//! - app-registration token: the app's credential → `client_credentials` for the resource.
//!
//! Each hop's minter owns `Arc`s of what it needs and asks the cache for the earlier hops every time
//! it runs, so a background refresh of hop 2 reuses (or refreshes) T1 through the same cache. A
//! managed-identity credential's token goes through the cache too, and becomes a client assertion.
//! Every minted token's claims are checked before it is handed to the cache.

mod auth;
mod hops;

use std::fmt;
use std::sync::Arc;

use crate::agent::{AgentRef, AppRef};
use crate::cache::HopCache;
use crate::client::EntraClient;
use crate::error::{EntraError, ErrorClass, Reason};
use crate::hop::Hop;
use crate::scope::ScopeSet;
use crate::tenant::TenantPins;
use crate::token::Minted;
use crate::user::UserSelector;

/// The Entra chains over one client and one cache. Cheap to clone.
#[derive(Clone)]
pub struct Chain {
    client: EntraClient,
    cache: Arc<dyn HopCache>,
    /// Domain-name tenants pinned to the GUID of their first token (shared by every clone).
    pins: TenantPins,
}

impl Chain {
    pub fn new(client: EntraClient, cache: Arc<dyn HopCache>) -> Self {
        Self {
            client,
            cache,
            pins: TenantPins::default(),
        }
    }

    /// The Agent Identity's own token for `scopes` (hop 1 → hop 2). Never an exchange token: a
    /// request for the exchange scope is refused here, before any upstream call.
    pub async fn app_only_token(
        &self,
        agent: &Arc<AgentRef>,
        scopes: &ScopeSet,
    ) -> Result<Minted, EntraError> {
        refuse_exchange(scopes, Hop::AgentIdentity)?;
        self.agent_identity(agent, scopes).await
    }

    /// The Agent User's delegated token for `scopes` (hop 1 → hop 2 exchange → hop 3).
    pub async fn agent_user_token(
        &self,
        agent: &Arc<AgentRef>,
        user: &UserSelector,
        scopes: &ScopeSet,
    ) -> Result<Minted, EntraError> {
        refuse_exchange(scopes, Hop::AgentUser)?;
        self.agent_user(agent, user, scopes).await
    }

    /// A plain app registration's token for `scopes`.
    pub async fn app_registration_token(
        &self,
        app: &Arc<AppRef>,
        scopes: &ScopeSet,
    ) -> Result<Minted, EntraError> {
        refuse_exchange(scopes, Hop::App)?;
        self.app(app, scopes).await
    }
}

/// Exchange tokens (T1, T2, or an app's own) exist only to mint further tokens inside the gateway:
/// no public operation hands one out, whatever the caller's policy allowed.
fn refuse_exchange(scopes: &ScopeSet, hop: Hop) -> Result<(), EntraError> {
    if !scopes.contains_exchange() {
        return Ok(());
    }
    Err(EntraError::new(
        hop,
        ErrorClass::Permanent,
        Reason::InvalidScope,
        "the token-exchange scope is never minted for a caller: an exchange token only mints further tokens"
            .to_owned(),
    ))
}

impl fmt::Debug for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chain")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}
