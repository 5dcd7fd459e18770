//! What a reload does to the cached tokens: rotation by content.
//!
//! Comparing the registry in force with the one a reload built, every cached key is kept, renewed
//! or dropped:
//!
//! - **dropped** when nothing in force mints for it any more: a principal (authority, tenant,
//!   client) no provider uses, a T1 whose credential fingerprint is no longer any provider's (a
//!   rotated certificate or secret: nobody will ask for that key again, and its refresher must
//!   never sign with the old key), a managed identity no provider names;
//! - **renewed** (in the background, the current token served until the new one arrives) when its
//!   principal belongs to a provider whose record changed: the hop-2 and hop-3 tokens built on a
//!   retired T1, an app token obtained with a retired secret. With [`Revocation::Revoke`] these are
//!   dropped instead, so nothing obtained with the old credential is served again;
//! - **kept** otherwise: unchanged providers keep their cache.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use agentmint_entra::{Credential, CredentialFingerprint, HopKey};

use crate::registry::{Principal, Registry, Target};

/// What a reload does to the tokens of providers whose credential (or any other field) changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Revocation {
    /// Serve their tokens until new ones, minted with the credential in force, arrive.
    #[default]
    Renew,
    /// Drop their tokens at once (a leaked credential): callers wait for new ones.
    Revoke,
}

/// What a cached key becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    Keep,
    Renew,
    Drop,
}

/// The providers of a reload, by what happened to them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProviderChanges {
    /// Present before and after with the same record: their cache is kept.
    pub kept: Vec<String>,
    /// Present before and after with a different record (a renewed credential included).
    pub changed: Vec<String>,
    /// Present only before.
    pub retired: Vec<String>,
    /// Present only after.
    pub added: Vec<String>,
}

/// A list of names for a log line: `a, b` or `-`.
pub struct Names<'a>(pub &'a [String]);

impl fmt::Display for Names<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("-");
        }
        f.write_str(&self.0.join(", "))
    }
}

/// One hop-1 key's identity: the T1 a provider in force would ask for.
type T1 = (String, String, String, String, CredentialFingerprint);

/// The decision of one reload, from the old and the new registry.
pub struct Retirement {
    pub changes: ProviderChanges,
    revocation: Revocation,
    in_force: HashSet<Principal>,
    changed: HashSet<Principal>,
    t1_in_force: HashSet<T1>,
    managed_identities: HashSet<(String, Option<String>)>,
}

impl Retirement {
    pub fn new(old: &Registry, new: &Registry, revocation: Revocation) -> Self {
        let mut changes = ProviderChanges::default();
        let mut changed = HashSet::new();
        for (name, entry) in &old.providers {
            match new.providers.get(name) {
                Some(now) if Arc::ptr_eq(now, entry) => changes.kept.push(name.clone()),
                Some(_) => changes.changed.push(name.clone()),
                None => changes.retired.push(name.clone()),
            }
            if !changes.kept.contains(name) {
                changed.extend(entry.clients());
            }
        }
        changes.added = new
            .providers
            .keys()
            .filter(|name| !old.providers.contains_key(*name))
            .cloned()
            .collect();
        for list in [
            &mut changes.kept,
            &mut changes.changed,
            &mut changes.retired,
            &mut changes.added,
        ] {
            list.sort();
        }
        let mut t1_in_force = HashSet::new();
        let mut managed_identities = HashSet::new();
        for entry in new.providers.values() {
            if let Target::Agent { agent, .. } = &entry.target {
                let agent = agent.snapshot();
                t1_in_force.insert((
                    agent.authority.host_trimmed().to_owned(),
                    agent.authority.tenant.clone(),
                    agent.blueprint_client_id.clone(),
                    agent.agent_identity_client_id.clone(),
                    agent.credential.fingerprint(),
                ));
            }
            if let Credential::ManagedIdentity(mi) = entry.credential() {
                let key = mi.key("");
                managed_identities.insert((key.source, key.identity));
            }
        }
        Self {
            changes,
            revocation,
            in_force: new.principals(),
            changed,
            t1_in_force,
            managed_identities,
        }
    }

    /// What `key` becomes.
    pub fn fate(&self, key: &HopKey) -> Fate {
        let principal = match key {
            HopKey::ManagedIdentity(k) => {
                let named = (k.source.clone(), k.identity.clone());
                return if self.managed_identities.contains(&named) {
                    Fate::Keep
                } else {
                    Fate::Drop
                };
            }
            HopKey::Exchange(k) => {
                let t1 = (
                    k.authority_host.clone(),
                    k.tenant.clone(),
                    k.client_id.clone(),
                    k.fmi_path.clone(),
                    k.credential,
                );
                if !self.t1_in_force.contains(&t1) {
                    return Fate::Drop;
                }
                (
                    k.authority_host.clone(),
                    k.tenant.clone(),
                    k.client_id.clone(),
                )
            }
            HopKey::AgentExchange(k) => (
                k.authority_host.clone(),
                k.tenant.clone(),
                k.client_id.clone(),
            ),
            HopKey::AgentIdentity(k) | HopKey::App(k) => (
                k.authority_host.clone(),
                k.tenant.clone(),
                k.client_id.clone(),
            ),
            HopKey::User(k) => (
                k.authority_host.clone(),
                k.tenant.clone(),
                k.client_id.clone(),
            ),
        };
        if !self.in_force.contains(&principal) {
            Fate::Drop
        } else if !self.changed.contains(&principal) {
            Fate::Keep
        } else if self.revocation == Revocation::Revoke {
            Fate::Drop
        } else {
            Fate::Renew
        }
    }
}
