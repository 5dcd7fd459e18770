//! Turning a credential into the client authentication of a grant.

use std::sync::Arc;

use futures::future::BoxFuture;

use super::Chain;
use crate::agent::Authority;
use crate::cache::Minter;
use crate::credential::{Credential, CredentialError, ManagedIdentityCredential};
use crate::error::{EntraError, ErrorClass, Reason};
use crate::grant::ClientAuth;
use crate::hop::Hop;
use crate::keys::HopKey;
use crate::token::Minted;

impl Chain {
    /// The client authentication of `client_id` at `authority` for `hop`: a certificate assertion
    /// is addressed to its token endpoint, a managed identity's assertion is requested for its
    /// cloud's exchange resource.
    pub(super) async fn client_auth(
        &self,
        credential: &Credential,
        authority: &Authority,
        client_id: &str,
        hop: Hop,
    ) -> Result<ClientAuth, EntraError> {
        let local = |e: CredentialError| {
            EntraError::new(
                hop,
                ErrorClass::Permanent,
                Reason::Credential,
                e.to_string(),
            )
        };
        match credential {
            Credential::Certificate(cert) => cert
                .assertion(&authority.token_endpoint(), client_id)
                .map(ClientAuth::Assertion)
                .map_err(local),
            Credential::ManagedIdentity(mi) => {
                let minted = self
                    .managed_identity(mi, authority.exchange_resource())
                    .await?;
                Ok(ClientAuth::Assertion(minted.token.access_token.clone()))
            }
            Credential::WorkloadIdentity(wi) => wi
                .assertion()
                .await
                .map(ClientAuth::Assertion)
                .map_err(local),
            Credential::ClientSecret(secret) => Ok(ClientAuth::Secret(secret.secret().clone())),
        }
    }

    /// The managed identity's token for the cloud's exchange resource (`api://AzureADTokenExchange`
    /// in the public cloud), through the cache. Its claims are not checked: its `appid` is the
    /// managed identity's own, and Entra judges it as a FIC.
    fn managed_identity(
        &self,
        credential: &Arc<ManagedIdentityCredential>,
        resource: &str,
    ) -> BoxFuture<'static, Result<Minted, EntraError>> {
        let key = HopKey::ManagedIdentity(credential.key(resource));
        let client = self.client();
        let credential = credential.clone();
        let resource: Arc<str> = resource.into();
        let minter: Minter = Arc::new(move || {
            let client = client.clone();
            let credential = credential.clone();
            let resource = resource.clone();
            Box::pin(async move { client.managed_identity_token(&credential, &resource).await })
        });
        self.cache.get_or_mint(key, minter)
    }
}
