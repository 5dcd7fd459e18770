//! [`Live`]: whom a chain mints for, as the configuration says *now*.
//!
//! A cached token is refreshed in the background by the minter of the call that first filled its
//! key. Had that minter kept the [`AgentRef`] it was built with, every refresh would use the
//! provider record of the first mint, and a certificate replaced because it leaked would keep
//! signing hop-1 requests for as long as anyone used the key. So minters hold a `Live` and look the
//! target up again each time they run: a refresh after a reload uses the record in force.
//!
//! A target whose principal changed (another tenant, client or authority) or that is gone is no
//! longer this key's: the minter refuses it with a permanent error (see [`Live::resolve`]) and the
//! cache drops the key.

use std::fmt;
use std::sync::Arc;

use crate::agent::{AgentRef, AppRef};
use crate::error::{EntraError, ErrorClass, Reason};
use crate::hop::Hop;

/// Looks the current record up (the gateway's registry); `None` once it is gone.
pub type Lookup<T> = Arc<dyn Fn() -> Option<Arc<T>> + Send + Sync>;

/// A target as of now: a snapshot, and where to look for its current version.
pub struct Live<T> {
    snapshot: Arc<T>,
    lookup: Option<Lookup<T>>,
}

impl<T> Clone for Live<T> {
    fn clone(&self) -> Self {
        Self {
            snapshot: self.snapshot.clone(),
            lookup: self.lookup.clone(),
        }
    }
}

/// Who a target is, apart from its credential: what a key built for it depends on.
pub trait Principal {
    /// True when `other` is the same principal (authority, tenant and client ids), whatever its
    /// credential.
    fn same_principal(&self, other: &Self) -> bool;
}

impl Principal for AgentRef {
    fn same_principal(&self, other: &Self) -> bool {
        self.authority.host_trimmed() == other.authority.host_trimmed()
            && self.authority.tenant == other.authority.tenant
            && self.blueprint_client_id == other.blueprint_client_id
            && self.agent_identity_client_id == other.agent_identity_client_id
    }
}

impl Principal for AppRef {
    fn same_principal(&self, other: &Self) -> bool {
        self.authority.host_trimmed() == other.authority.host_trimmed()
            && self.authority.tenant == other.authority.tenant
            && self.client_id == other.client_id
    }
}

impl<T: Principal> Live<T> {
    /// A target that never changes (one-shot tools, tests).
    pub fn fixed(target: Arc<T>) -> Self {
        Self {
            snapshot: target,
            lookup: None,
        }
    }

    /// `snapshot`, followed through `lookup` every time a minter runs.
    pub fn following(snapshot: Arc<T>, lookup: Lookup<T>) -> Self {
        Self {
            snapshot,
            lookup: Some(lookup),
        }
    }

    /// The target as it was when this handle was made.
    pub fn snapshot(&self) -> &Arc<T> {
        &self.snapshot
    }

    /// The target in force now, for a minter about to run for `hop`: the current record when it is
    /// still the same principal, else a permanent error (the key was retired by a reload), so the
    /// cache drops the key instead of minting for someone else under it.
    pub fn resolve(&self, hop: Hop) -> Result<Arc<T>, EntraError> {
        let Some(lookup) = &self.lookup else {
            return Ok(self.snapshot.clone());
        };
        match lookup() {
            Some(current) if current.same_principal(&self.snapshot) => Ok(current),
            _ => Err(EntraError::new(
                hop,
                ErrorClass::Permanent,
                Reason::Other,
                "the provider was removed or changed by a config reload; its cached tokens are retired",
            )),
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Live<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Live")
            .field("snapshot", &self.snapshot)
            .field("follows_config", &self.lookup.is_some())
            .finish()
    }
}

/// What the chains accept as a target: a fixed `Arc` (tools, tests) or a [`Live`] handle (the
/// gateway).
pub trait IntoLive<T> {
    fn live(&self) -> Live<T>;
}

impl<T: Principal> IntoLive<T> for Arc<T> {
    fn live(&self) -> Live<T> {
        Live::fixed(self.clone())
    }
}

impl<T: Principal> IntoLive<T> for Live<T> {
    fn live(&self) -> Live<T> {
        self.clone()
    }
}
