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
//!
//! Where each concern lives: this file holds the [`Chain`] type; `hops` holds the hops, one method
//! each (the three public operations and hop 1 they share); `auth` turns a credential into a grant's
//! client authentication.

mod auth;
mod hops;

use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

use crate::cache::HopCache;
use crate::client::EntraClient;
use crate::tenant::TenantPins;

/// The Entra chains over one client and one cache. Cheap to clone.
#[derive(Clone)]
pub struct Chain {
    /// Shared by every clone (every minter holds one), so that a client rebuilt on reload (a new
    /// `ca_file`) serves every later upstream call, background refreshes included.
    client: Arc<RwLock<EntraClient>>,
    cache: Arc<dyn HopCache>,
    /// Domain-name tenants pinned to the GUID of their first token (shared by every clone).
    pins: TenantPins,
}

impl Chain {
    pub fn new(client: EntraClient, cache: Arc<dyn HopCache>) -> Self {
        Self {
            client: Arc::new(RwLock::new(client)),
            cache,
            pins: TenantPins::default(),
        }
    }
}

impl Chain {
    /// The HTTP client in force.
    pub(crate) fn client(&self) -> EntraClient {
        self.client
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the HTTP client of this chain and every clone of it: calls started from now on use
    /// `client` (calls in flight finish with the old one).
    pub fn set_client(&self, client: EntraClient) {
        *self.client.write().unwrap_or_else(PoisonError::into_inner) = client;
    }
}

impl fmt::Debug for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chain")
            .field("client", &self.client())
            .finish_non_exhaustive()
    }
}
