//! Step one of a mint: decide, from the registry alone, whether the caller may have what it asked
//! for, and if so exactly which chain runs with which scopes.
//!
//! [`authorize`] makes no upstream call and has no side effect, so every refusal happens before
//! Entra is asked anything, in this order: request shape, provider, attachment, kind, scopes (the
//! sandbox credential is checked before, by [`auth`](crate::auth)). What it returns is a typed
//! [`Plan`] whose [`Chain`] variant says which of the three chains runs, so running it needs no
//! second dispatch on the kind.

use std::sync::Arc;

use agentmint_entra::agent::{AgentRef, AppRef};
use agentmint_entra::{Live, ScopeSet, UserSelector};
use agentmint_proto::{MintTokenRequest, Reason, TokenKind};

use crate::auth::AuthError;
use crate::policy::PolicyError;
use crate::registry::{ProviderEntry, Registry, SandboxEntry, Target};

/// The longest provider name accepted in a request.
pub const MAX_PROVIDER_LEN: usize = 128;

/// What an authorised request will mint.
#[derive(Debug)]
pub struct Plan {
    pub provider: Arc<ProviderEntry>,
    /// The normalised scopes, after the provider's policy for the kind.
    pub scopes: ScopeSet,
    pub chain: Chain,
}

/// Which chain a plan runs, with what it needs. Targets are [`Live`]: the chain's minters (and
/// the background refreshes they run) look the provider up again each time.
#[derive(Debug)]
pub enum Chain {
    /// An agent's own token: Blueprint → Agent Identity.
    AppOnly { agent: Live<AgentRef> },
    /// An agent user's delegated token: Blueprint → Agent Identity → Agent User.
    UserPrincipal {
        agent: Live<AgentRef>,
        user: UserSelector,
    },
    /// A plain app registration's token.
    App { app: Live<AppRef> },
}

impl Plan {
    /// The token kind the plan mints.
    pub fn kind(&self) -> TokenKind {
        match self.chain {
            Chain::AppOnly { .. } | Chain::App { .. } => TokenKind::AppOnly,
            Chain::UserPrincipal { .. } => TokenKind::UserPrincipal,
        }
    }
}

/// Why a request was refused before any upstream call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("{0}")]
    Unauthenticated(#[from] AuthError),
    #[error("the provider name is empty, too long or has control characters")]
    InvalidProvider,
    /// Also the answer for a name no provider has: a sandbox cannot learn which providers exist
    /// beyond its own (the gateway's log still says which it was).
    #[error("provider {provider:?} is not attached to sandbox {sandbox:?}")]
    NotAttached {
        provider: String,
        sandbox: String,
        /// Whether a provider of that name is configured at all (for the log, never the answer).
        configured: bool,
    },
    #[error("kind must be APP_ONLY or USER_PRINCIPAL")]
    InvalidKind,
    #[error("provider {0:?} names no agent user, so it has no USER_PRINCIPAL tokens")]
    NoAgentUser(String),
    #[error(transparent)]
    Scopes(#[from] PolicyError),
}

impl Refusal {
    /// The reason carried in the error details.
    pub fn reason(&self) -> Reason {
        match self {
            Refusal::Unauthenticated(_) => Reason::Unauthenticated,
            Refusal::InvalidProvider => Reason::InvalidProvider,
            Refusal::NotAttached { .. } => Reason::NotAttached,
            Refusal::InvalidKind => Reason::InvalidKind,
            Refusal::NoAgentUser(_) => Reason::NoAgentUser,
            Refusal::Scopes(PolicyError::NotAllowed(_) | PolicyError::ExchangeScope(_)) => {
                Reason::ScopeNotAllowed
            }
            Refusal::Scopes(_) => Reason::InvalidScope,
        }
    }
}

/// Decides what `caller` may mint for `request`.
pub fn authorize(
    registry: &Registry,
    caller: &SandboxEntry,
    request: &MintTokenRequest,
) -> Result<Plan, Refusal> {
    let name = &request.provider;
    if name.is_empty() || name.len() > MAX_PROVIDER_LEN || name.chars().any(char::is_control) {
        return Err(Refusal::InvalidProvider);
    }
    let provider = registry.providers.get(name);
    let Some(provider) = provider.filter(|_| caller.providers.contains(name)) else {
        return Err(Refusal::NotAttached {
            provider: name.clone(),
            sandbox: caller.identity.name.clone(),
            configured: provider.is_some(),
        });
    };
    let kind = TokenKind::try_from(request.kind).unwrap_or(TokenKind::Unspecified);
    let (policy, chain) = match (kind, &provider.target) {
        (TokenKind::Unspecified, _) => return Err(Refusal::InvalidKind),
        (TokenKind::AppOnly, Target::Agent { agent, .. }) => (
            &provider.app_only,
            Chain::AppOnly {
                agent: agent.clone(),
            },
        ),
        (TokenKind::AppOnly, Target::App { app }) => {
            (&provider.app_only, Chain::App { app: app.clone() })
        }
        (
            TokenKind::UserPrincipal,
            Target::Agent {
                agent,
                user: Some(user),
            },
        ) => (
            &provider.user,
            Chain::UserPrincipal {
                agent: agent.clone(),
                user: user.clone(),
            },
        ),
        (TokenKind::UserPrincipal, Target::Agent { user: None, .. } | Target::App { .. }) => {
            return Err(Refusal::NoAgentUser(name.clone()));
        }
    };
    let scopes = policy.resolve(&request.scopes)?;
    Ok(Plan {
        provider: provider.clone(),
        scopes,
        chain,
    })
}
