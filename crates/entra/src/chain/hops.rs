//! Each hop as a cache lookup with a repeatable minter behind it: hop 1 (T1) and T2 here, privately,
//! and the three public operations, each the last hop of its chain.
//!
//! Minters hold a [`Live`] target, never a fixed record: each run (a background refresh included)
//! looks the provider up again, so after a reload it signs with the credential in force.
//!
//! No public operation hands out an exchange token: a request for any cloud's exchange scope is
//! refused before any upstream call, and T2 lives under a key type of its own
//! ([`HopKey::AgentExchange`]) that no resource request can reach.

use std::sync::Arc;

use futures::future::BoxFuture;

use super::Chain;
use crate::agent::{AgentRef, AppRef};
use crate::cache::Minter;
use crate::claims::{self, Audience, Expected, TokenUse};
use crate::error::{EntraError, ErrorClass, Reason};
use crate::grant;
use crate::hop::Hop;
use crate::keys::{AgentExchangeKey, ExchangeKey, HopKey, ResourceKey, UserKey};
use crate::live::{IntoLive, Live};
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

/// The claims a token minted for `app_id` in `tenant`, for `audience`, must carry; callers add
/// `oid` and `upn` where they apply.
fn expected(tenant: &str, audience: Audience, app_id: &str, token_use: TokenUse) -> Expected {
    Expected {
        tenant: tenant.to_owned(),
        audience,
        app_id: app_id.to_owned(),
        token_use,
        oid: None,
        upn: None,
    }
}

/// The claims a token minted for `agent`'s Agent Identity (hops 2 and 3) must carry.
fn agent_identity_expected(agent: &AgentRef, audience: Audience, token_use: TokenUse) -> Expected {
    expected(
        &agent.authority.tenant,
        audience,
        &agent.agent_identity_client_id,
        token_use,
    )
}

/// Exchange tokens (T1, T2, or an app's own) exist only to mint further tokens inside the gateway:
/// no public operation hands one out, whatever the caller's policy allowed.
fn refuse_exchange(
    scopes: &ScopeSet,
    hop: Hop,
) -> Option<BoxFuture<'static, Result<Minted, EntraError>>> {
    if !scopes.contains_exchange() {
        return None;
    }
    let err = EntraError::new(
        hop,
        ErrorClass::Permanent,
        Reason::InvalidScope,
        "the token-exchange scope is never minted for a caller: an exchange token only mints further tokens",
    );
    Some(Box::pin(async move { Err(err) }))
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
        let token = self.client().request_token(hop, endpoint, form).await?;
        if let Err(err) = claims::check(token.access_token.expose(), expected, &self.pins, hop) {
            tracing::warn!(hop = %hop, reason = %err.reason, message = %err.message, "minted token refused");
            return Err(err);
        }
        Ok(token)
    }

    /// Hop 1: T1 for the agent `live` names now, for its cloud's exchange scope. The key carries
    /// the credential's fingerprint, so a rotated credential gets a T1 of its own; the minter looks
    /// the agent up again each time it runs and signs with the credential in force then.
    fn exchange(&self, live: &Live<AgentRef>) -> BoxFuture<'static, Result<Minted, EntraError>> {
        let agent = match live.resolve(Hop::Blueprint) {
            Ok(agent) => agent,
            Err(err) => return Box::pin(async move { Err(err) }),
        };
        let key = HopKey::Exchange(ExchangeKey {
            authority_host: agent.authority.host_trimmed().to_owned(),
            tenant: agent.authority.tenant.clone(),
            client_id: agent.blueprint_client_id.clone(),
            credential: agent.credential.fingerprint(),
            fmi_path: agent.agent_identity_client_id.clone(),
        });
        let mint = minter(self, live.clone(), |chain, live| async move {
            let agent = live.resolve(Hop::Blueprint)?;
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
            let expected = expected(
                &agent.authority.tenant,
                Audience::Exchange,
                &agent.blueprint_client_id,
                TokenUse::App,
            );
            let endpoint = agent.authority.token_endpoint();
            chain
                .request_checked(Hop::Blueprint, &endpoint, &form, &expected)
                .await
        });
        self.cache.get_or_mint(key, mint)
    }

    /// Hop 2 with the exchange scope: T2, which only ever feeds hop 3.
    fn agent_exchange(
        &self,
        live: &Live<AgentRef>,
    ) -> BoxFuture<'static, Result<Minted, EntraError>> {
        let agent = match live.resolve(Hop::AgentIdentity) {
            Ok(agent) => agent,
            Err(err) => return Box::pin(async move { Err(err) }),
        };
        let key = HopKey::AgentExchange(AgentExchangeKey {
            authority_host: agent.authority.host_trimmed().to_owned(),
            tenant: agent.authority.tenant.clone(),
            client_id: agent.agent_identity_client_id.clone(),
        });
        let mint = minter(self, live.clone(), |chain, live| async move {
            let agent = live.resolve(Hop::AgentIdentity)?;
            let scopes = ScopeSet::exchange(agent.authority.exchange_resource());
            chain
                .agent_identity_grant(&live, &agent, &scopes, Audience::Exchange)
                .await
        });
        self.cache.get_or_mint(key, mint)
    }

    /// The hop-2 grant itself for `agent` (the current record of `live`): T1 (through the cache)
    /// as the Agent Identity's client assertion.
    async fn agent_identity_grant(
        &self,
        live: &Live<AgentRef>,
        agent: &AgentRef,
        scopes: &ScopeSet,
        audience: Audience,
    ) -> Result<IssuedToken, EntraError> {
        let t1 = self.exchange(live).await?;
        let form = grant::agent_identity(
            &agent.agent_identity_client_id,
            &t1.token.access_token,
            scopes,
        );
        let endpoint = agent.authority.token_endpoint();
        let expected = Expected {
            oid: agent.agent_identity_object_id.clone(),
            ..agent_identity_expected(agent, audience, TokenUse::App)
        };
        self.request_checked(Hop::AgentIdentity, &endpoint, &form, &expected)
            .await
    }

    /// Hop 2, the Agent Identity's own token for a resource's `scopes` (hop 1 → hop 2). Never an
    /// exchange token.
    pub fn app_only_token(
        &self,
        agent: &impl IntoLive<AgentRef>,
        scopes: &ScopeSet,
    ) -> BoxFuture<'static, Result<Minted, EntraError>> {
        if let Some(refused) = refuse_exchange(scopes, Hop::AgentIdentity) {
            return refused;
        }
        let live = agent.live();
        let agent = match live.resolve(Hop::AgentIdentity) {
            Ok(agent) => agent,
            Err(err) => return Box::pin(async move { Err(err) }),
        };
        let key = HopKey::AgentIdentity(ResourceKey {
            authority_host: agent.authority.host_trimmed().to_owned(),
            tenant: agent.authority.tenant.clone(),
            client_id: agent.agent_identity_client_id.clone(),
            scopes: scopes.clone(),
        });
        let target = (live, scopes.clone());
        let mint = minter(self, target, |chain, (live, scopes)| async move {
            let agent = live.resolve(Hop::AgentIdentity)?;
            let audience = Audience::Resource(claims::resource_of(&scopes));
            chain
                .agent_identity_grant(&live, &agent, &scopes, audience)
                .await
        });
        self.cache.get_or_mint(key, mint)
    }

    /// Hop 3, the Agent User's delegated token for `scopes` (hop 1 → hop 2 exchange → hop 3).
    pub fn agent_user_token(
        &self,
        agent: &impl IntoLive<AgentRef>,
        user: &UserSelector,
        scopes: &ScopeSet,
    ) -> BoxFuture<'static, Result<Minted, EntraError>> {
        if let Some(refused) = refuse_exchange(scopes, Hop::AgentUser) {
            return refused;
        }
        let live = agent.live();
        let agent = match live.resolve(Hop::AgentUser) {
            Ok(agent) => agent,
            Err(err) => return Box::pin(async move { Err(err) }),
        };
        let key = HopKey::User(UserKey {
            authority_host: agent.authority.host_trimmed().to_owned(),
            tenant: agent.authority.tenant.clone(),
            client_id: agent.agent_identity_client_id.clone(),
            user: user.clone(),
            scopes: scopes.clone(),
        });
        let target = (live, user.clone(), scopes.clone());
        let mint = minter(self, target, |chain, (live, user, scopes)| async move {
            let agent = live.resolve(Hop::AgentUser)?;
            // T2 first: its minter obtains T1 through the cache, so the T1 asked for next is a hit.
            let t2 = chain.agent_exchange(&live).await?;
            let t1 = chain.exchange(&live).await?;
            let form = grant::agent_user(
                &agent.agent_identity_client_id,
                &t1.token.access_token,
                &t2.token.access_token,
                &user,
                &scopes,
            );
            let endpoint = agent.authority.token_endpoint();
            let (oid, upn) = match &user {
                UserSelector::ObjectId(id) => (Some(id.clone()), None),
                UserSelector::Upn(upn) => (None, Some(upn.clone())),
            };
            let audience = Audience::Resource(claims::resource_of(&scopes));
            let expected = Expected {
                oid,
                upn,
                ..agent_identity_expected(&agent, audience, TokenUse::User)
            };
            chain
                .request_checked(Hop::AgentUser, &endpoint, &form, &expected)
                .await
        });
        self.cache.get_or_mint(key, mint)
    }

    /// A plain app registration's token for `scopes` (`client_credentials` with its credential,
    /// the one in force each time the minter runs).
    pub fn app_registration_token(
        &self,
        app: &impl IntoLive<AppRef>,
        scopes: &ScopeSet,
    ) -> BoxFuture<'static, Result<Minted, EntraError>> {
        if let Some(refused) = refuse_exchange(scopes, Hop::App) {
            return refused;
        }
        let live = app.live();
        let app = match live.resolve(Hop::App) {
            Ok(app) => app,
            Err(err) => return Box::pin(async move { Err(err) }),
        };
        let key = HopKey::App(ResourceKey {
            authority_host: app.authority.host_trimmed().to_owned(),
            tenant: app.authority.tenant.clone(),
            client_id: app.client_id.clone(),
            scopes: scopes.clone(),
        });
        let target = (live, scopes.clone());
        let mint = minter(self, target, |chain, (live, scopes)| async move {
            let app = live.resolve(Hop::App)?;
            let auth = chain
                .client_auth(&app.credential, &app.authority, &app.client_id, Hop::App)
                .await?;
            let form = grant::app(&app.client_id, auth, &scopes);
            let expected = expected(
                &app.authority.tenant,
                Audience::Resource(claims::resource_of(&scopes)),
                &app.client_id,
                TokenUse::App,
            );
            let endpoint = app.authority.token_endpoint();
            chain
                .request_checked(Hop::App, &endpoint, &form, &expected)
                .await
        });
        self.cache.get_or_mint(key, mint)
    }
}
