//! The `TokenBroker.MintToken` service: a mint in three steps.
//!
//! 1. [`plan::authorize`](crate::plan::authorize) turns the authenticated caller and its request
//!    into a typed [`Plan`], or a refusal, without any upstream call;
//! 2. [`Broker::run`] runs the one chain the plan names, waited for until the caller's deadline
//!    ([`crate::deadline`]);
//! 3. every failure goes through [`MintFailure::to_status`], the one mapping to gRPC statuses.
//!
//! Each outcome is counted once and logged once, with the sandbox and provider names (never the
//! credential or the token).

use std::sync::Arc;

use agentmint_entra::{EntraError, Minted};
use agentmint_proto::{MintTokenRequest, MintTokenResponse, Reason, TokenBroker, TokenKind};
use tonic::{Request, Response, Status};
use tracing::{Instrument, info, info_span, warn};

use crate::metrics::ProviderLabel;
use crate::plan::{self, Chain, MAX_PROVIDER_LEN, Plan, Refusal};
use crate::registry::{Registry, SandboxEntry};
use crate::state::GatewayState;
use crate::status::{MintFailure, code_label};

/// The gRPC service.
#[derive(Clone)]
pub struct Broker {
    state: Arc<GatewayState>,
}

impl Broker {
    pub fn new(state: Arc<GatewayState>) -> Self {
        Self { state }
    }

    /// Runs the chain a plan names.
    async fn run(&self, plan: &Plan) -> Result<Minted, EntraError> {
        let chain = &self.state.chain;
        match &plan.chain {
            Chain::AppOnly { agent } => chain.app_only_token(agent, &plan.scopes).await,
            Chain::UserPrincipal { agent, user } => {
                chain.agent_user_token(agent, user, &plan.scopes).await
            }
            Chain::App { app } => chain.app_registration_token(app, &plan.scopes).await,
        }
    }

    /// A caller without a recognised credential: counted without provider or kind.
    fn unauthenticated(&self, refusal: Refusal) -> Status {
        warn!(error = %refusal, "sandbox authentication failed");
        let status = MintFailure::from(refusal).to_status();
        self.state.metrics.mint(
            ProviderLabel::unauthenticated(),
            "unknown",
            code_label(status.code()),
        );
        status
    }

    /// An authenticated caller refused by the plan step.
    fn refused(
        &self,
        registry: &Registry,
        caller: &SandboxEntry,
        request: &MintTokenRequest,
        refusal: Refusal,
    ) -> Status {
        let kind = TokenKind::try_from(request.kind)
            .unwrap_or(TokenKind::Unspecified)
            .label();
        let reason = refusal.reason();
        // The caller is told only "not attached"; the operator's log says whether the name exists.
        let configured = match &refusal {
            Refusal::NotAttached { configured, .. } => Some(*configured),
            _ => None,
        };
        warn!(
            sandbox = caller.identity.name.as_str(),
            provider = %printable(&request.provider),
            kind,
            reason = reason.as_str(),
            provider_configured = configured,
            "mint refused: {refusal}"
        );
        let status = MintFailure::from(refusal).to_status();
        // Metric labels only ever carry configured provider names: a caller cannot mint new series.
        let provider = registry
            .providers
            .get(&request.provider)
            .map_or_else(ProviderLabel::unknown, |p| {
                ProviderLabel::configured(&p.name)
            });
        self.state
            .metrics
            .mint(provider, kind, code_label(status.code()));
        status
    }

    /// The caller's deadline came first: it is told to retry; the mint (a spawned flight) goes on.
    fn overdue(&self, caller: &SandboxEntry, plan: &Plan) -> Status {
        let kind = plan.kind().label();
        info!(
            sandbox = caller.identity.name.as_str(),
            provider = %plan.provider.name,
            kind,
            reason = Reason::MintInProgress.as_str(),
            "the caller's deadline passed before the token; the mint goes on for its retry"
        );
        let status = MintFailure::MintInProgress.to_status();
        self.state.metrics.mint(
            ProviderLabel::configured(&plan.provider.name),
            kind,
            code_label(status.code()),
        );
        status
    }

    /// The answer to a plan that ran.
    fn answer(
        &self,
        caller: &SandboxEntry,
        plan: Plan,
        result: Result<Minted, EntraError>,
    ) -> Result<Response<MintTokenResponse>, Status> {
        let provider = ProviderLabel::configured(&plan.provider.name);
        let kind = plan.kind().label();
        match result {
            Ok(minted) => {
                let now = self.state.clock.unix_now();
                let metrics = &self.state.metrics;
                metrics.served(provider.clone(), kind, minted.expires_at_unix - now);
                metrics.mint(provider, kind, "ok");
                Ok(Response::new(MintTokenResponse {
                    access_token: minted.token.access_token.expose().to_owned(),
                    token_type: minted.token.token_type.clone(),
                    expires_at_unix: minted.expires_at_unix,
                    scopes: plan.scopes.as_slice().to_vec(),
                    cache_hit: minted.cache_hit,
                }))
            }
            Err(err) => {
                warn!(
                    sandbox = caller.identity.name.as_str(),
                    provider = %plan.provider.name,
                    kind,
                    hop = %err.hop,
                    status = err.status.unwrap_or(0),
                    aadsts = err.aadsts_code().unwrap_or_default(),
                    correlation_id = err.correlation_id.as_deref().unwrap_or(""),
                    reason = %err.reason,
                    served_from_cache = false,
                    "mint failed: {err}"
                );
                let status = MintFailure::from(err).to_status();
                self.state
                    .metrics
                    .mint(provider, kind, code_label(status.code()));
                Err(status)
            }
        }
    }
}

#[tonic::async_trait]
impl TokenBroker for Broker {
    async fn mint_token(
        &self,
        request: Request<MintTokenRequest>,
    ) -> Result<Response<MintTokenResponse>, Status> {
        let registry = self.state.registry();
        let authorization = request
            .metadata()
            .get("authorization")
            .map(|v| v.as_bytes());
        let caller = registry
            .authenticate(authorization)
            .map_err(|err| self.unauthenticated(err.into()))?;
        let (request_metadata, _, request) = request.into_parts();
        let request_metadata = &request_metadata;
        let plan = plan::authorize(&registry, caller, &request)
            .map_err(|refusal| self.refused(&registry, caller, &request, refusal))?;
        let span = info_span!(
            "mint",
            provider = %plan.provider.name,
            kind = plan.kind().label(),
            sandbox = caller.identity.name.as_str(),
        );
        let run = self.run(&plan).instrument(span);
        let budget = crate::deadline::wait_budget(request_metadata);
        let result = match tokio::time::timeout(budget, run).await {
            Ok(result) => result,
            Err(_elapsed) => return Err(self.overdue(caller, &plan)),
        };
        self.answer(caller, plan, result)
    }
}

/// Caller-supplied names in logs: printable ASCII, bounded.
fn printable(value: &str) -> String {
    value
        .chars()
        .take(MAX_PROVIDER_LEN)
        .map(|c| if c.is_ascii_graphic() { c } else { '?' })
        .collect()
}
