//! The provider registry: the validated config turned into what the chains need.
//!
//! A registry is immutable; a reload builds a new one and swaps it in. Providers whose record did not
//! change keep their `Arc<ProviderEntry>` (and with it their credential, whose certificate assertion
//! is reused), so a reload neither drops their cached tokens nor re-signs anything.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use agentmint_cache::Clock;
use agentmint_config as config;
use agentmint_entra::agent::{AgentRef, AppRef, Authority};
use agentmint_entra::{CredentialError, ScopeError, UserSelector};

use crate::auth::{self, AuthError, SandboxIdentity};
use crate::credentials;
use crate::policy::KindPolicy;

/// What a provider mints with.
#[derive(Debug, Clone)]
pub enum Target {
    /// An Entra agent: Blueprint → Agent Identity (→ Agent User).
    Agent {
        agent: Arc<AgentRef>,
        user: Option<UserSelector>,
    },
    /// A plain app registration (app-only tokens only).
    App { app: Arc<AppRef> },
}

/// One provider record, ready to mint.
#[derive(Debug)]
pub struct ProviderEntry {
    /// Shared, so logs and metric labels name the provider without copying the string.
    pub name: Arc<str>,
    pub target: Target,
    pub app_only: KindPolicy,
    pub user: KindPolicy,
    /// The record it was built from, to tell changed from unchanged providers on reload.
    pub record: config::Provider,
}

impl ProviderEntry {
    /// The (tenant, client id) pairs whose tokens this provider's chains cache.
    pub fn clients(&self) -> Vec<(String, String)> {
        match &self.target {
            Target::Agent { agent, .. } => vec![
                (
                    agent.authority.tenant.clone(),
                    agent.blueprint_client_id.clone(),
                ),
                (
                    agent.authority.tenant.clone(),
                    agent.agent_identity_client_id.clone(),
                ),
            ],
            Target::App { app } => vec![(app.authority.tenant.clone(), app.client_id.clone())],
        }
    }
}

/// A sandbox and the providers attached to it.
#[derive(Debug, Clone)]
pub struct SandboxEntry {
    pub identity: SandboxIdentity,
    pub providers: HashSet<String>,
}

/// Why a registry could not be built from a config that passed validation.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("provider {provider}: {source}")]
    Credential {
        provider: String,
        #[source]
        source: CredentialError,
    },
    #[error("provider {provider}: {source}")]
    Scopes {
        provider: String,
        #[source]
        source: ScopeError,
    },
}

/// Every provider and sandbox of one config generation.
#[derive(Debug, Default)]
pub struct Registry {
    pub providers: HashMap<String, Arc<ProviderEntry>>,
    pub sandboxes: Vec<SandboxEntry>,
    /// The identities alone, in the same order, for constant-time authentication.
    pub identities: Vec<SandboxIdentity>,
}

impl Registry {
    /// Builds a registry, reusing the entries of `previous` whose records are unchanged.
    pub fn build(
        cfg: &config::Config,
        previous: Option<&Registry>,
        env: &dyn Fn(&str) -> Option<String>,
        clock: &Arc<dyn Clock>,
    ) -> Result<Self, RegistryError> {
        let mut providers = HashMap::new();
        for record in &cfg.providers {
            let reused = previous
                .and_then(|p| p.providers.get(&record.name))
                .filter(|old| old.record == *record)
                .cloned();
            let entry = match reused {
                Some(entry) => entry,
                None => Arc::new(build_provider(record, env, clock)?),
            };
            providers.insert(record.name.clone(), entry);
        }
        let sandboxes: Vec<SandboxEntry> = cfg
            .sandboxes
            .iter()
            // A credential file that was not read authenticates nobody (`load` never yields one).
            .filter_map(|s| {
                Some(SandboxEntry {
                    identity: SandboxIdentity {
                        name: s.name.clone(),
                        credential_sha256: s.credential_sha256()?,
                    },
                    providers: s.providers.iter().cloned().collect(),
                })
            })
            .collect();
        let identities = sandboxes.iter().map(|s| s.identity.clone()).collect();
        Ok(Self {
            providers,
            sandboxes,
            identities,
        })
    }

    /// The sandbox whose credential is the bearer value of `authorization` (see [`auth`]).
    pub fn authenticate(&self, authorization: Option<&[u8]>) -> Result<&SandboxEntry, AuthError> {
        let credential = auth::bearer(authorization)?;
        auth::identify(credential, &self.identities).map(|i| &self.sandboxes[i])
    }

    /// The (tenant, client id) pairs used only by providers that changed or disappeared between
    /// `self` (old) and `next`: their cached tokens should stop being refreshed.
    pub fn retired_clients(&self, next: &Registry) -> HashSet<(String, String)> {
        let kept: HashSet<(String, String)> =
            next.providers.values().flat_map(|p| p.clients()).collect();
        self.providers
            .iter()
            .filter(|(name, old)| {
                next.providers
                    .get(*name)
                    .is_none_or(|new| !Arc::ptr_eq(new, old))
            })
            .flat_map(|(_, old)| old.clients())
            .filter(|c| !kept.contains(c))
            .collect()
    }
}

fn build_provider(
    record: &config::Provider,
    env: &dyn Fn(&str) -> Option<String>,
    clock: &Arc<dyn Clock>,
) -> Result<ProviderEntry, RegistryError> {
    let credential = credentials::build(&record.credential, env, clock).map_err(|source| {
        RegistryError::Credential {
            provider: record.name.clone(),
            source,
        }
    })?;
    let authority = Authority {
        exchange_resource: record.exchange_audience.clone(),
        ..Authority::new(&record.authority_host, &record.tenant)
    };
    let scopes_err = |source| RegistryError::Scopes {
        provider: record.name.clone(),
        source,
    };
    let app_only = KindPolicy::from_lists(&record.scopes.app_allowed, &record.scopes.app_default)
        .map_err(scopes_err)?;
    let (target, user) = match &record.kind {
        config::ProviderKind::Agent {
            blueprint_client_id,
            agent_identity_client_id,
            agent_identity_object_id,
            agent_user,
        } => {
            let user = agent_user.as_ref().map(|u| match u {
                config::AgentUser::Upn(upn) => UserSelector::Upn(upn.clone()),
                config::AgentUser::ObjectId(id) => UserSelector::ObjectId(id.clone()),
            });
            let policy = if user.is_some() {
                KindPolicy::from_lists(&record.scopes.user_allowed, &record.scopes.user_default)
                    .map_err(scopes_err)?
            } else {
                KindPolicy::default()
            };
            let agent = Arc::new(AgentRef {
                authority,
                blueprint_client_id: blueprint_client_id.clone(),
                agent_identity_client_id: agent_identity_client_id.clone(),
                agent_identity_object_id: agent_identity_object_id.clone(),
                credential,
            });
            (Target::Agent { agent, user }, policy)
        }
        config::ProviderKind::App { client_id } => {
            let app = Arc::new(AppRef {
                authority,
                client_id: client_id.clone(),
                credential,
            });
            (Target::App { app }, KindPolicy::default())
        }
    };
    Ok(ProviderEntry {
        name: Arc::from(record.name.as_str()),
        target,
        app_only,
        user,
        record: record.clone(),
    })
}
