//! agentmint-entra: everything that speaks to Microsoft Entra, nothing that serves.
//!
//! - [`grant`]: the form POSTs of the Agent ID chain (hop 1 with `fmi_path`, hop 2 with T1 as the
//!   client assertion, hop 3 `user_fic`) and the plain app-registration exchange.
//! - [`credential`]: how a Blueprint or app proves itself (certificate, managed identity, workload
//!   identity, client secret).
//! - [`response`], [`error`], [`claims`]: parsing, classification and post-mint claim checks.
//! - [`chain`]: the three public operations (app-only agent token, Agent User token, app-registration
//!   token), each taking hop results from a caller-supplied [`cache::HopCache`].

#![forbid(unsafe_code)]

pub mod cache;
pub mod error;
pub mod hop;
pub mod keys;
pub mod scope;
pub mod secret;
pub mod token;
pub mod user;

pub use cache::{HopCache, MintFuture, Minter, NoCache};
pub use error::{EntraError, ErrorClass, Reason};
pub use hop::Hop;
pub use keys::{ExchangeKey, HopKey, ManagedIdentityKey, ResourceKey, UserKey};
pub use scope::{ScopeError, ScopeSet};
pub use secret::Secret;
pub use token::{IssuedToken, Minted};
pub use user::UserSelector;
