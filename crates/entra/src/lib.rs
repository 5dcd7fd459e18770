//! agentmint-entra: everything that speaks to Microsoft Entra, nothing that serves.
//!
//! - [`grant`]: the form POSTs of the Agent ID chain (hop 1 with `fmi_path`, hop 2 with T1 as the
//!   client assertion, hop 3 `user_fic`) and the plain app-registration exchange.
//! - [`credential`]: how a Blueprint or app proves itself (certificate, managed identity, workload
//!   identity, client secret).
//! - [`response`], [`error`], [`claims`]: parsing, classification and post-mint claim checks.
//! - [`client`]: the HTTP client and its single retry loop ([`retry`]), with bounded bodies.
//! - [`chain`]: the three public operations (app-only agent token, Agent User token, app-registration
//!   token), each taking hop results from a caller-supplied [`cache::HopCache`].

#![forbid(unsafe_code)]
// `EntraError` is the shared, public error of every upstream interaction (its fields are read by
// the gateway and the cache); it is returned on the rare failure path only, so its size does not
// matter and boxing it would only add noise to every signature.
#![allow(clippy::result_large_err)]

pub mod aadsts;
pub mod agent;
pub mod cache;
pub mod chain;
pub mod claims;
pub mod classify;
pub mod client;
pub mod credential;
pub mod error;
pub mod grant;
pub mod hop;
pub mod keys;
pub mod live;
pub mod response;
pub mod retry;
pub mod retry_after;
pub mod scope;
pub mod secret;
pub mod tenant;
pub mod token;
pub mod user;

pub use agent::{AgentRef, AppRef, Authority, PUBLIC_CLOUD};
pub use cache::{HopCache, MintFuture, Minter, NoCache};
pub use chain::Chain;
pub use client::{ClientBuildError, ClientOptions, EntraClient, UpstreamObserver};
pub use credential::{
    CertificateCredential, ClientSecretCredential, Credential, CredentialError,
    CredentialFingerprint, ManagedIdentityCredential, ManagedIdentitySource, SigningAlgorithm,
    UserAssignedIdentity, WorkloadIdentityCredential,
};
pub use error::{EntraError, ErrorClass, Reason};
pub use hop::Hop;
pub use keys::{AgentExchangeKey, ExchangeKey, HopKey, ManagedIdentityKey, ResourceKey, UserKey};
pub use live::{IntoLive, Live, Lookup, Principal};
pub use retry::{Jitter, RetryPolicy};
pub use scope::{ScopeError, ScopeSet, is_exchange_scope};
pub use secret::Secret;
pub use token::{IssuedToken, Minted};
pub use user::UserSelector;
