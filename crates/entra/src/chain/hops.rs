//! Each hop as a cache lookup with a repeatable minter behind it: hop 1 (T1) here, privately, and the
//! three public operations, each the last hop of its chain.

use std::sync::Arc;

use futures::future::BoxFuture;

use super::Chain;
use crate::agent::{AgentRef, AppRef};
use crate::cache::Minter;
use crate::claims::{self, Expected, TokenUse};
use crate::error::EntraError;
use crate::grant;
use crate::hop::Hop;
use crate::keys::{ExchangeKey, HopKey, ResourceKey, UserKey};
use crate::scope::ScopeSet;
use crate::token::{IssuedToken, Minted};
use crate::user::UserSelector;

/// A minter running `mint` on a fresh clone of `chain` each time the cache calls it.
fn minter<T, F, Fut>(chain: &Chain, target: T, mint: F) -> Minter
where
    T: Clone + Send + Sync + 'static,
    F: Fn(Chain, T) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<IssuedToken, EntraError>> + Send + 'static,
{
    let chain = chain.clone();
    Arc::new(move || Box::pin(mint(chain.clone(), target.clone())))
}

/// The claims a token minted for `app_id` in `tenant` must carry.
fn expected(tenant: &str, app_id: &str, token_use: TokenUse, oid: Option<String>) -> Expected {
    Expected {
        tenant: tenant.to_owned(),
        app_id: app_id.to_owned(),
        token_use,
        oid,
    }
}

/// The claims a token minted for `agent`'s Agent Identity (hops 2 and 3) must carry.
fn agent_identity_expected(agent: &AgentRef, token_use: TokenUse, oid: Option<String>) -> Expected {
    expected(
        &agent.authority.tenant,
        &agent.agent_identity_client_id,
        token_use,
        oid,
    )
}

impl Chain {
    /// One grant POST for `hop`, and the claims check of what it returns; a mismatch is logged like
    /// any failed attempt.
    async fn request_checked(
        &self,
        hop: Hop,
        endpoint: &str,
        form: &grant::Form,
        expected: &Expected,
    ) -> Result<IssuedToken, EntraError> {
        let token = self.client.request_token(hop, endpoint, form).await?;
        if let Err(err) = claims::check(token.access_token.expose(), expected, hop) {
            tracing::warn!(hop = %hop, reason = %err.reason, message = %err.message, "minted token refused");
            return Err(err);
        }
        Ok(token)
    }

    /// Hop 1: T1 for `agent`.
    pub(super) fn exchange(
        &self,
        agent: &Arc<AgentRef>,
    ) -> BoxFuture<'static, Result<Minted, EntraError>> {
        let key = HopKey::Exchange(ExchangeKey {
            authority_host: agent.authority.host_trimmed().to_owned(),
            tenant: agent.authority.tenant.clone(),
            client_id: agent.blueprint_client_id.clone(),
            credential: agent.credential.fingerprint(),
            fmi_path: agent.agent_identity_client_id.clone(),
        });
        let mint = minter(self, agent.clone(), |chain, agent| async move {
            let endpoint = agent.authority.token_endpoint();
            let auth = chain
                .client_auth(
                    &agent.credential,
                    &endpoint,
                    &agent.blueprint_client_id,
                    Hop::Blueprint,
                )
                .await?;
            let form = grant::blueprint(
                &agent.blueprint_client_id,
                &agent.agent_identity_client_id,
                auth,
            );
            let tenant = &agent.authority.tenant;
            let expected = expected(tenant, &agent.blueprint_client_id, TokenUse::App, None);
            chain
                .request_checked(Hop::Blueprint, &endpoint, &form, &expected)
                .await
        });
        self.cache.get_or_mint(key, mint)
    }

    /// Hop 2, the Agent Identity's own token for `scopes` (hop 1 → hop 2): an app-only agent token
    /// for a resource scope, or T2 for the exchange scope (hop 3 asks for it that way).
    pub fn app_only_token(
        &self,
        agent: &Arc<AgentRef>,
        scopes: &ScopeSet,
    ) -> BoxFuture<'static, Result<Minted, EntraError>> {
        let key = HopKey::AgentIdentity(ResourceKey {
            authority_host: agent.authority.host_trimmed().to_owned(),
            tenant: agent.authority.tenant.clone(),
            client_id: agent.agent_identity_client_id.clone(),
            scopes: scopes.clone(),
        });
        let target = (agent.clone(), scopes.clone());
        let mint = minter(self, target, |chain, (agent, scopes)| async move {
            let t1 = chain.exchange(&agent).await?;
            let form = grant::agent_identity(
                &agent.agent_identity_client_id,
                &t1.token.access_token,
                &scopes,
            );
            let endpoint = agent.authority.token_endpoint();
            let expected = agent_identity_expected(&agent, TokenUse::App, None);
            chain
                .request_checked(Hop::AgentIdentity, &endpoint, &form, &expected)
                .await
        });
        self.cache.get_or_mint(key, mint)
    }

    /// Hop 3, the Agent User's delegated token for `scopes` (hop 1 → hop 2 exchange → hop 3).
    pub fn agent_user_token(
        &self,
        agent: &Arc<AgentRef>,
        user: &UserSelector,
        scopes: &ScopeSet,
    ) -> BoxFuture<'static, Result<Minted, EntraError>> {
        let key = HopKey::User(UserKey {
            authority_host: agent.authority.host_trimmed().to_owned(),
            tenant: agent.authority.tenant.clone(),
            client_id: agent.agent_identity_client_id.clone(),
            user: user.clone(),
            scopes: scopes.clone(),
        });
        let target = (agent.clone(), user.clone(), scopes.clone());
        let mint = minter(self, target, |chain, (agent, user, scopes)| async move {
            // T2 first: its minter obtains T1 through the cache, so the T1 asked for next is a hit.
            let t2 = chain.app_only_token(&agent, &ScopeSet::exchange()).await?;
            let t1 = chain.exchange(&agent).await?;
            let form = grant::agent_user(
                &agent.agent_identity_client_id,
                &t1.token.access_token,
                &t2.token.access_token,
                &user,
                &scopes,
            );
            let endpoint = agent.authority.token_endpoint();
            let oid = match &user {
                UserSelector::ObjectId(id) => Some(id.clone()),
                UserSelector::Upn(_) => None,
            };
            let expected = agent_identity_expected(&agent, TokenUse::User, oid);
            chain
                .request_checked(Hop::AgentUser, &endpoint, &form, &expected)
                .await
        });
        self.cache.get_or_mint(key, mint)
    }

    /// A plain app registration's token for `scopes` (`client_credentials` with its credential).
    pub fn app_registration_token(
        &self,
        app: &Arc<AppRef>,
        scopes: &ScopeSet,
    ) -> BoxFuture<'static, Result<Minted, EntraError>> {
        let key = HopKey::App(ResourceKey {
            authority_host: app.authority.host_trimmed().to_owned(),
            tenant: app.authority.tenant.clone(),
            client_id: app.client_id.clone(),
            scopes: scopes.clone(),
        });
        let target = (app.clone(), scopes.clone());
        let mint = minter(self, target, |chain, (app, scopes)| async move {
            let endpoint = app.authority.token_endpoint();
            let auth = chain
                .client_auth(&app.credential, &endpoint, &app.client_id, Hop::App)
                .await?;
            let form = grant::app(&app.client_id, auth, &scopes);
            let expected = expected(&app.authority.tenant, &app.client_id, TokenUse::App, None);
            chain
                .request_checked(Hop::App, &endpoint, &form, &expected)
                .await
        });
        self.cache.get_or_mint(key, mint)
    }
}
