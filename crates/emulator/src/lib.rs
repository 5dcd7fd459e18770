//! A local stand-in for Microsoft Entra's token endpoint and the managed-identity endpoints.
//!
//! The demo, the end-to-end tests and the benchmarks need an Entra that runs on loopback, answers
//! in microseconds, counts what it is asked, and can be told to misbehave. It must also be
//! *faithful*: a client bug that real Entra would reject has to be rejected here too, with the same
//! status, `error` and `AADSTS` code. So this crate is written from the wire protocol
//! (`PROTOCOL.md`), never from the client crate: a misunderstanding in the client cannot hide behind
//! the same misunderstanding here.
//!
//! - [`Directory`]: who exists (tenants, Blueprints, Agent Identities, Agent Users, app
//!   registrations, managed identities, resources) and how each proves itself.
//! - [`Emulator`]: the directory plus a signing key, runtime [`Knobs`] and request [`Stats`].
//! - [`serve`]: the HTTP(S) server on an already-bound listener, until a shutdown future resolves.
//! - [`pki`]: a throwaway CA for https and RSA client certificates for app registrations.
//! - [`world`]: a ready-made demo/test universe written to a folder.

#![forbid(unsafe_code)]

mod clock;
pub mod directory;
mod emulator;
mod error;
mod http;
mod knobs;
mod managed_identity;
mod oauth;
pub mod pki;
mod secret;
mod stats;
mod tokens;
pub mod world;

pub use directory::Directory;
pub use emulator::Emulator;
pub use error::EmulatorError;
pub use http::serve;
pub use knobs::{Knobs, KnobsError};
pub use pki::TlsIdentity;
pub use secret::Secret;
pub use stats::{Hop, HopStats, Stats};
