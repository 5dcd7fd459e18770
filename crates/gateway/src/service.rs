//! The `TokenBroker.MintToken` service: authenticate the sandbox, apply policy, run the chain.
//!
//! Every refusal happens before any upstream call, in this order: sandbox credential, request shape,
//! provider, attachment, kind, scopes. Failures are logged with the sandbox and provider names (never
//! the credential) and counted by result.

use std::sync::Arc;

use agentmint_entra::{EntraError, Minted};
use agentmint_proto::{MintTokenRequest, MintTokenResponse, TokenBroker, TokenKind};
use tonic::{Code, Request, Response, Status};
use tracing::{Instrument, info_span, warn};

use crate::auth;
use crate::policy::PolicyError;
use crate::registry::{ProviderEntry, Target};
use crate::state::GatewayState;
use crate::status;

/// The longest provider name accepted in a request.
const MAX_PROVIDER_LEN: usize = 128;

/// The gRPC service.
#[derive(Clone)]
pub struct Broker {
    state: Arc<GatewayState>,
}

impl Broker {
    pub fn new(state: Arc<GatewayState>) -> Self {
        Self { state }
    }
}

#[tonic::async_trait]
impl TokenBroker for Broker {
    async fn mint_token(
        &self,
        request: Request<MintTokenRequest>,
    ) -> Result<Response<MintTokenResponse>, Status> {
        let registry = self.state.registry();
        let presented = request
            .metadata()
            .get("authorization")
            .map(|v| v.as_bytes());
        let sandbox =
            match auth::bearer(presented).and_then(|c| auth::identify(c, &registry.identities)) {
                Ok(i) => &registry.sandboxes[i],
                Err(err) => {
                    warn!(error = %err, "sandbox authentication failed");
                    self.state.metrics.mint("", "unknown", "unauthenticated");
                    return Err(status::local(
                        Code::Unauthenticated,
                        "UNAUTHENTICATED",
                        err.to_string(),
                    ));
                }
            };
        let sandbox_name = sandbox.identity.name.as_str();
        let req = request.into_inner();
        let kind = TokenKind::try_from(req.kind).unwrap_or(TokenKind::Unspecified);
        let kind_label = kind_label(kind);

        // Metric labels only ever carry configured provider names: a caller cannot mint new series.
        let label = if registry.providers.contains_key(&req.provider) {
            req.provider.as_str()
        } else {
            "unknown"
        };
        let refuse = |code: Code, reason: &str, message: String| {
            warn!(sandbox = sandbox_name, provider = %printable(&req.provider), kind = kind_label, reason, "mint refused: {message}");
            self.state.metrics.mint(label, kind_label, code_label(code));
            Err(status::local(code, reason, message))
        };

        if req.provider.is_empty()
            || req.provider.len() > MAX_PROVIDER_LEN
            || req.provider.chars().any(|c| c.is_control())
        {
            return refuse(
                Code::InvalidArgument,
                "INVALID_PROVIDER",
                "the provider name is empty, too long or has control characters".into(),
            );
        }
        let Some(provider) = registry.providers.get(&req.provider) else {
            return refuse(
                Code::NotFound,
                "UNKNOWN_PROVIDER",
                format!("no provider is named {:?}", req.provider),
            );
        };
        if !sandbox.providers.contains(&req.provider) {
            return refuse(
                Code::PermissionDenied,
                "NOT_ATTACHED",
                format!(
                    "provider {:?} is not attached to sandbox {:?}",
                    req.provider, sandbox_name
                ),
            );
        }
        let policy = match kind {
            TokenKind::Unspecified => {
                return refuse(
                    Code::InvalidArgument,
                    "INVALID_KIND",
                    "kind must be APP_ONLY or USER_PRINCIPAL".into(),
                );
            }
            TokenKind::AppOnly => &provider.app_only,
            TokenKind::UserPrincipal => {
                if !has_agent_user(provider) {
                    return refuse(
                        Code::FailedPrecondition,
                        "NO_AGENT_USER",
                        format!(
                            "provider {:?} names no agent user, so it has no USER_PRINCIPAL tokens",
                            req.provider
                        ),
                    );
                }
                &provider.user
            }
        };
        let scopes = match policy.resolve(&req.scopes) {
            Ok(scopes) => scopes,
            Err(err @ (PolicyError::NotAllowed(_) | PolicyError::ExchangeScope(_))) => {
                return refuse(Code::PermissionDenied, "SCOPE_NOT_ALLOWED", err.to_string());
            }
            Err(err) => return refuse(Code::InvalidArgument, "INVALID_SCOPE", err.to_string()),
        };

        let span = info_span!("mint", provider = %provider.name, kind = kind_label, sandbox = sandbox_name);
        let chain = &self.state.chain;
        let result: Result<Minted, EntraError> = async {
            match (&provider.target, kind) {
                (Target::Agent { agent, .. }, TokenKind::AppOnly) => {
                    chain.app_only_token(agent, &scopes).await
                }
                (
                    Target::Agent {
                        agent,
                        user: Some(user),
                    },
                    TokenKind::UserPrincipal,
                ) => chain.agent_user_token(agent, user, &scopes).await,
                (Target::App { app }, _) => chain.app_registration_token(app, &scopes).await,
                (Target::Agent { user: None, .. }, _) | (_, TokenKind::Unspecified) => {
                    unreachable!("refused above")
                }
            }
        }
        .instrument(span)
        .await;

        match result {
            Ok(minted) => {
                let now = self.state.clock.unix_now();
                self.state
                    .metrics
                    .served(&provider.name, kind_label, minted.expires_at_unix - now);
                self.state.metrics.mint(&provider.name, kind_label, "ok");
                Ok(Response::new(MintTokenResponse {
                    access_token: minted.token.access_token.expose().to_owned(),
                    token_type: minted.token.token_type.clone(),
                    expires_at_unix: minted.expires_at_unix,
                    scopes: scopes.as_slice().to_vec(),
                    cache_hit: minted.cache_hit,
                }))
            }
            Err(err) => {
                warn!(
                    sandbox = sandbox_name,
                    provider = %provider.name,
                    kind = kind_label,
                    hop = %err.hop,
                    status = err.status.unwrap_or(0),
                    aadsts = err.aadsts_code().unwrap_or_default(),
                    correlation_id = err.correlation_id.as_deref().unwrap_or(""),
                    reason = %err.reason,
                    served_from_cache = false,
                    "mint failed: {err}"
                );
                let status = status::from_entra(&err);
                self.state
                    .metrics
                    .mint(&provider.name, kind_label, code_label(status.code()));
                Err(status)
            }
        }
    }
}

fn has_agent_user(provider: &ProviderEntry) -> bool {
    matches!(provider.target, Target::Agent { user: Some(_), .. })
}

fn kind_label(kind: TokenKind) -> &'static str {
    match kind {
        TokenKind::AppOnly => "app_only",
        TokenKind::UserPrincipal => "user_principal",
        TokenKind::Unspecified => "unspecified",
    }
}

fn code_label(code: Code) -> &'static str {
    match code {
        Code::Ok => "ok",
        Code::InvalidArgument => "invalid_argument",
        Code::NotFound => "not_found",
        Code::PermissionDenied => "permission_denied",
        Code::FailedPrecondition => "failed_precondition",
        Code::Unauthenticated => "unauthenticated",
        Code::Unavailable => "unavailable",
        Code::Internal => "internal",
        _ => "other",
    }
}

/// Caller-supplied names in logs and labels: printable ASCII, bounded.
fn printable(value: &str) -> String {
    value
        .chars()
        .take(MAX_PROVIDER_LEN)
        .map(|c| if c.is_ascii_graphic() { c } else { '?' })
        .collect()
}
