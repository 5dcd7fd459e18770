//! The provider registry: the validated config turned into what the chains need.
//!
//! A registry is immutable; a reload builds a new one and swaps it in ([`Current`]). Providers whose
//! record did not change keep their `Arc<ProviderEntry>` (and with it their credential, whose
//! certificate assertion is reused), so a reload neither drops their cached tokens nor re-signs
//! anything. A record includes its credential's content digest (certificate thumbprint, secret
//! digest), so a credential renewed in place is a changed record.
//!
//! Each provider's chain target is a [`Live`] handle that looks the provider up by name in the
//! registry in force each time a minter runs, so background refreshes use the record in force now,
//! never the one of the first mint.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, PoisonError, RwLock, Weak};

use agentmint_cache::Clock;
use agentmint_config as config;
use agentmint_entra::agent::{AgentRef, AppRef, Authority};
use agentmint_entra::{CredentialError, Live, ScopeError, UserSelector};

use crate::auth::{self, AuthError, SandboxIdentity};
use crate::credentials;
use crate::policy::KindPolicy;

/// What a provider mints with: handles that follow the provider's record across reloads.
#[derive(Debug, Clone)]
pub enum Target {
    /// An Entra agent: Blueprint → Agent Identity (→ Agent User).
    Agent {
        agent: Live<AgentRef>,
        user: Option<UserSelector>,
    },
    /// A plain app registration (app-only tokens only).
    App { app: Live<AppRef> },
}

/// An authority, tenant and client id: whose tokens a cache key holds.
pub type Principal = (String, String, String);

/// The registry in force, shared by the gateway state and (weakly) by every provider's [`Live`]
/// lookup. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Current(Arc<RwLock<Arc<Registry>>>);

impl Current {
    /// The registry in force (an `Arc` clone).
    pub fn get(&self) -> Arc<Registry> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Puts `registry` in force.
    pub fn set(&self, registry: Registry) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(registry);
    }

    fn weak(&self) -> Weak<RwLock<Arc<Registry>>> {
        Arc::downgrade(&self.0)
    }
}

/// The provider named `name` in the registry in force, if `cell` still exists.
fn provider_in_force(cell: &Weak<RwLock<Arc<Registry>>>, name: &str) -> Option<Arc<ProviderEntry>> {
    let cell = cell.upgrade()?;
    let registry = cell.read().unwrap_or_else(PoisonError::into_inner).clone();
    registry.providers.get(name).cloned()
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
    /// The principals whose tokens this provider's chains cache.
    pub fn clients(&self) -> Vec<Principal> {
        let principal = |authority: &agentmint_entra::Authority, client: &str| {
            (
                authority.host_trimmed().to_owned(),
                authority.tenant.clone(),
                client.to_owned(),
            )
        };
        match &self.target {
            Target::Agent { agent, .. } => {
                let agent = agent.snapshot();
                vec![
                    principal(&agent.authority, &agent.blueprint_client_id),
                    principal(&agent.authority, &agent.agent_identity_client_id),
                ]
            }
            Target::App { app } => {
                let app = app.snapshot();
                vec![principal(&app.authority, &app.client_id)]
            }
        }
    }

    /// The credential this provider signs with.
    pub fn credential(&self) -> &agentmint_entra::Credential {
        match &self.target {
            Target::Agent { agent, .. } => &agent.snapshot().credential,
            Target::App { app } => &app.snapshot().credential,
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
    /// The sandboxes' indexes by the SHA-256 of their credential ([`auth::index`]).
    pub by_credential: HashMap<[u8; 32], usize>,
    /// The sandboxes identified by a service-account token.
    pub service_accounts: crate::service_account::Verifier,
}

impl Registry {
    /// Builds a registry, reusing the entries of `previous` whose records are unchanged. New
    /// entries' chain targets follow their provider's record in `current`.
    pub fn build(
        cfg: &config::Config,
        previous: Option<&Registry>,
        env: &dyn Fn(&str) -> Option<String>,
        clock: &Arc<dyn Clock>,
        current: &Current,
    ) -> Result<Self, RegistryError> {
        let mut providers = HashMap::new();
        for record in &cfg.providers {
            let reused = previous
                .and_then(|p| p.providers.get(&record.name))
                .filter(|old| old.record == *record)
                .cloned();
            let entry = match reused {
                Some(entry) => entry,
                None => Arc::new(build_provider(record, env, clock, current)?),
            };
            providers.insert(record.name.clone(), entry);
        }
        let sandboxes: Vec<SandboxEntry> = cfg
            .sandboxes
            .iter()
            // A credential file that was not read authenticates nobody (`load` never yields one).
            .filter(|s| !matches!(s.credential, config::SandboxCredentialSpec::Unread(_)))
            .map(|s| SandboxEntry {
                identity: SandboxIdentity {
                    name: s.name.clone(),
                    credential_sha256: s.credential_sha256(),
                },
                providers: s.providers.iter().cloned().collect(),
            })
            .collect();
        let mut service_accounts = crate::service_account::Verifier::default();
        let identified = cfg
            .sandboxes
            .iter()
            .filter(|s| !matches!(s.credential, config::SandboxCredentialSpec::Unread(_)));
        for (i, s) in identified.enumerate() {
            if let config::SandboxCredentialSpec::ServiceAccount(spec) = &s.credential {
                service_accounts.add(i, spec);
            }
        }
        let identities: Vec<SandboxIdentity> =
            sandboxes.iter().map(|s| s.identity.clone()).collect();
        Ok(Self {
            providers,
            sandboxes,
            by_credential: auth::index(&identities),
            service_accounts,
        })
    }

    /// The sandbox whose credential is the bearer value of `authorization` (see [`auth`]).
    pub fn authenticate(&self, authorization: Option<&[u8]>) -> Result<&SandboxEntry, AuthError> {
        let credential = auth::bearer(authorization)?;
        if !self.service_accounts.is_empty() && crate::service_account::looks_like_jwt(credential) {
            // `bearer` admits printable ASCII only, so the token is UTF-8.
            let token = std::str::from_utf8(credential).map_err(|_| AuthError::Malformed)?;
            return Ok(&self.sandboxes[self.service_accounts.identify(token)?]);
        }
        auth::identify(credential, &self.by_credential).map(|i| &self.sandboxes[i])
    }

    /// Every principal some provider of this registry mints for.
    pub fn principals(&self) -> HashSet<Principal> {
        self.providers.values().flat_map(|p| p.clients()).collect()
    }
}

fn build_provider(
    record: &config::Provider,
    env: &dyn Fn(&str) -> Option<String>,
    clock: &Arc<dyn Clock>,
    current: &Current,
) -> Result<ProviderEntry, RegistryError> {
    let cell = current.weak();
    let name = record.name.clone();
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
            let lookup = move || match provider_in_force(&cell, &name)?.target.clone() {
                Target::Agent { agent, .. } => Some(agent.snapshot().clone()),
                Target::App { .. } => None,
            };
            let agent = Live::following(agent, Arc::new(lookup));
            (Target::Agent { agent, user }, policy)
        }
        config::ProviderKind::App { client_id } => {
            let app = Arc::new(AppRef {
                authority,
                client_id: client_id.clone(),
                credential,
            });
            let lookup = move || match provider_in_force(&cell, &name)?.target.clone() {
                Target::App { app } => Some(app.snapshot().clone()),
                Target::Agent { .. } => None,
            };
            let app = Live::following(app, Arc::new(lookup));
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
