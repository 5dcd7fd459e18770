//! The HTTP client that speaks to Entra's token endpoint and to managed-identity endpoints.
//!
//! Two connection pools: one for the token endpoint (which may sit behind a corporate proxy) and
//! one for managed-identity endpoints, which never goes through a proxy (IMDS is link-local; a
//! proxy would see the identity header). Both follow no redirects (a token endpoint never
//! redirects, and a redirect would carry the form to another host), always have connect and
//! request timeouts, and trust the extra roots given (the emulator's CA).

mod attempt;
mod options;
mod request_loop;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use options::{ClientOptions, UpstreamObserver};

use crate::credential::ManagedIdentityCredential;
use crate::error::{EntraError, ErrorClass, Reason};
use crate::grant::{self, Form};
use crate::hop::Hop;
use crate::retry::{Jitter, RetryPolicy};
use crate::token::IssuedToken;
use request_loop::{managed_identity_rule, token_endpoint_rule};

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientBuildError {
    #[error("extra root certificate #{index} is not a PEM certificate")]
    RootCertificate { index: usize },
    #[error("the HTTP client cannot be built: {0}")]
    Http(String),
}

/// A cheap-to-clone handle on the Entra HTTP client.
#[derive(Clone)]
pub struct EntraClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    managed_identity_http: reqwest::Client,
    request_timeout: Duration,
    retry: RetryPolicy,
    managed_identity_retry: RetryPolicy,
    max_body_bytes: usize,
    observer: Option<Arc<dyn UpstreamObserver>>,
    jitter: Jitter,
}

const USER_AGENT: &str = concat!("agentmint/", env!("CARGO_PKG_VERSION"));

impl EntraClient {
    /// Builds the client.
    pub fn new(options: ClientOptions) -> Result<Self, ClientBuildError> {
        let mut roots = Vec::new();
        for (index, pem) in options.extra_root_certificates_pem.iter().enumerate() {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|_| ClientBuildError::RootCertificate { index })?;
            if certs.is_empty() {
                return Err(ClientBuildError::RootCertificate { index });
            }
            roots.extend(certs);
        }
        let build = |no_proxy: bool| {
            let mut builder = reqwest::Client::builder()
                .connect_timeout(options.connect_timeout)
                .timeout(options.request_timeout)
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(USER_AGENT)
                .tls_certs_merge(roots.iter().cloned());
            if no_proxy {
                builder = builder.no_proxy();
            }
            builder
                .build()
                .map_err(|e| ClientBuildError::Http(e.to_string()))
        };
        Ok(Self {
            inner: Arc::new(Inner {
                http: build(false)?,
                managed_identity_http: build(true)?,
                request_timeout: options.request_timeout,
                retry: options.retry,
                managed_identity_retry: options.managed_identity_retry,
                max_body_bytes: options.max_body_bytes,
                observer: options.observer,
                jitter: options.jitter,
            }),
        })
    }

    /// Posts `form` to `endpoint` for `hop`, retrying transient failures per the retry policy, and
    /// parses the token. Claims are the caller's to check.
    pub async fn request_token(
        &self,
        hop: Hop,
        endpoint: &str,
        form: &Form,
    ) -> Result<IssuedToken, EntraError> {
        let body = grant::encode(form);
        let policy = self.inner.retry;
        self.retrying(hop, &policy, token_endpoint_rule, |request_id| {
            self.post_form_once(hop, endpoint, body.clone(), request_id)
        })
        .await
    }

    /// Gets a managed-identity token for `resource` (IMDS or App Service), never through a proxy,
    /// retrying per IMDS's rules.
    pub async fn managed_identity_token(
        &self,
        credential: &ManagedIdentityCredential,
        resource: &str,
    ) -> Result<IssuedToken, EntraError> {
        let request = credential.request(resource).map_err(|e| {
            EntraError::new(
                Hop::ManagedIdentity,
                ErrorClass::Permanent,
                Reason::Credential,
                e.to_string(),
            )
        })?;
        let policy = self.inner.managed_identity_retry;
        self.retrying(
            Hop::ManagedIdentity,
            &policy,
            managed_identity_rule,
            |request_id| self.get_managed_identity_once(&request, request_id),
        )
        .await
    }
}

impl fmt::Debug for EntraClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EntraClient")
            .field("request_timeout", &self.inner.request_timeout)
            .field("retry", &self.inner.retry)
            .field("max_body_bytes", &self.inner.max_body_bytes)
            .finish_non_exhaustive()
    }
}
