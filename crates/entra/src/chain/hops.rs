//! Each hop as a cache lookup with a repeatable minter behind it.

use std::sync::Arc;

use futures::future::BoxFuture;

use super::Chain;
use crate::agent::{AgentRef, AppRef};
use crate::cache::Minter;
use crate::claims::{self, Audience, Expected, TokenUse};
use crate::error::EntraError;
use crate::grant;
use crate::hop::Hop;
use crate::keys::{AgentExchangeKey, ExchangeKey, HopKey, ResourceKey, UserKey};
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

impl Chain {
    /// Checks the claims of a freshly minted token, logging a mismatch like any failed attempt.
    fn checked(
        &self,
        token: IssuedToken,
        expected: &Expected,
        hop: Hop,
    ) -> Result<IssuedToken, EntraError> {
        if let Err(err) = claims::check(token.access_token.expose(), expected, &self.pins, hop) {
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
                    &agent.authority,
                    &agent.blueprint_client_id,
                    Hop::Blueprint,
                )
                .await?;
            let form = grant::blueprint(
                &agent.blueprint_client_id,
                &agent.agent_identity_client_id,
                &agent.authority.exchange_scope(),
                auth,
            );
            let token = chain
                .client
                .request_token(Hop::Blueprint, &endpoint, &form)
                .await?;
            let expected = Expected {
                tenant: agent.authority.tenant.clone(),
                audience: Audience::Exchange,
                app_id: agent.blueprint_client_id.clone(),
                token_use: TokenUse::App,
                oid: None,
                upn: None,
            };
            chain.checked(token, &expected, Hop::Blueprint)
        });
        self.cache.get_or_mint(key, mint)
    }

    /// Hop 2 with the exchange scope: T2, which only ever feeds hop 3.
    pub(super) fn agent_exchange(
        &self,
        agent: &Arc<AgentRef>,
    ) -> BoxFuture<'static, Result<Minted, EntraError>> {
        let key = HopKey::AgentExchange(AgentExchangeKey {
            authority_host: agent.authority.host_trimmed().to_owned(),
            tenant: agent.authority.tenant.clone(),
            client_id: agent.agent_identity_client_id.clone(),
        });
        let mint = minter(self, agent.clone(), |chain, agent| async move {
            chain
                .agent_identity_grant(
                    &agent,
                    &ScopeSet::exchange(agent.authority.exchange_resource()),
                )
                .await
        });
        self.cache.get_or_mint(key, mint)
    }

    /// Hop 2 with a resource scope: an app-only agent token.
    pub(super) fn agent_identity(
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
            chain.agent_identity_grant(&agent, &scopes).await
        });
        self.cache.get_or_mint(key, mint)
    }

    /// The hop-2 grant itself: T1 (through the cache) as the Agent Identity's client assertion.
    async fn agent_identity_grant(
        &self,
        agent: &Arc<AgentRef>,
        scopes: &ScopeSet,
    ) -> Result<IssuedToken, EntraError> {
        let t1 = self.exchange(agent).await?;
        let form = grant::agent_identity(
            &agent.agent_identity_client_id,
            &t1.token.access_token,
            scopes,
        );
        let endpoint = agent.authority.token_endpoint();
        let token = self
            .client
            .request_token(Hop::AgentIdentity, &endpoint, &form)
            .await?;
        let audience = if scopes.contains_exchange() {
            Audience::Exchange
        } else {
            Audience::Resource(claims::resource_of(scopes))
        };
        let expected = Expected {
            audience,
            oid: agent.agent_identity_object_id.clone(),
            ..agent_expected(agent, TokenUse::App)
        };
        self.checked(token, &expected, Hop::AgentIdentity)
    }

    /// Hop 3: the Agent User's token.
    pub(super) fn agent_user(
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
            let t2 = chain.agent_exchange(&agent).await?;
            let t1 = chain.exchange(&agent).await?;
            let form = grant::agent_user(
                &agent.agent_identity_client_id,
                &t1.token.access_token,
                &t2.token.access_token,
                &user,
                &scopes,
            );
            let endpoint = agent.authority.token_endpoint();
            let token = chain
                .client
                .request_token(Hop::AgentUser, &endpoint, &form)
                .await?;
            let (oid, upn) = match &user {
                UserSelector::ObjectId(id) => (Some(id.clone()), None),
                UserSelector::Upn(upn) => (None, Some(upn.clone())),
            };
            let expected = Expected {
                audience: Audience::Resource(claims::resource_of(&scopes)),
                oid,
                upn,
                ..agent_expected(&agent, TokenUse::User)
            };
            chain.checked(token, &expected, Hop::AgentUser)
        });
        self.cache.get_or_mint(key, mint)
    }

    /// A plain app registration's resource token.
    pub(super) fn app(
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
                .client_auth(&app.credential, &app.authority, &app.client_id, Hop::App)
                .await?;
            let form = grant::app(&app.client_id, auth, &scopes);
            let token = chain
                .client
                .request_token(Hop::App, &endpoint, &form)
                .await?;
            let expected = Expected {
                tenant: app.authority.tenant.clone(),
                audience: Audience::Resource(claims::resource_of(&scopes)),
                app_id: app.client_id.clone(),
                token_use: TokenUse::App,
                oid: None,
                upn: None,
            };
            chain.checked(token, &expected, Hop::App)
        });
        self.cache.get_or_mint(key, mint)
    }
}

/// What every token issued to the Agent Identity says; callers set `aud`, `oid` and `upn`.
fn agent_expected(agent: &AgentRef, token_use: TokenUse) -> Expected {
    Expected {
        tenant: agent.authority.tenant.clone(),
        audience: Audience::Exchange,
        app_id: agent.agent_identity_client_id.clone(),
        token_use,
        oid: None,
        upn: None,
    }
}
