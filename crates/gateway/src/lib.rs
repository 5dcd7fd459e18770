//! agentmint-gateway: holds the credentials, runs the Entra chains with per-hop caches, and serves
//! `TokenBroker.MintToken` over gRPC to authenticated sandboxes.
//!
//! - [`auth`]: sandbox bearer credentials, compared as SHA-256 hashes in constant time.
//! - [`registry`], [`credentials`], [`policy`]: provider records turned into chains and scope rules.
//! - [`plan`], [`service`], [`status`], [`deadline`]: a mint as authorize → plan → run within the
//!   caller's deadline, and its one error mapping.
//! - [`state`], [`server`], [`drain`], [`tls`], [`admin`], [`metrics`]: running, draining,
//!   reloading and observing it.
//! - [`retire`], [`settings`], [`watch`]: what a reload does to cached tokens (rotation by
//!   content) and to `[gateway]` (applied or needs a restart), and the watcher that reloads when
//!   the config or any file it names changes.

#![forbid(unsafe_code)]

pub mod admin;
pub mod auth;
pub mod credentials;
pub mod deadline;
pub mod drain;
pub mod metrics;
pub mod plan;
pub mod policy;
pub mod registry;
pub mod retire;
pub mod server;
pub mod service;
pub mod service_account;
pub mod settings;
pub mod state;
pub mod status;
pub mod tls;
pub mod watch;

pub use drain::Drain;
pub use retire::Revocation;
pub use server::{BuildError, Gateway, Overrides, serve};
pub use state::{Env, GatewayState, Reloaded};
pub use watch::spawn_reload_watcher;

/// The claims checks the gateway applies to every token it returns, for tools that show or check a
/// token (the demo shows one refusing a managed-identity token used as an app's token).
pub use agentmint_entra::{Hop, claims};
