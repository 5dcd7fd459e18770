//! agentmint-stack: one deployment on loopback, assembled the one way an operator would: a generated
//! Entra world for the emulator, provider records written as TOML and loaded by the config crate,
//! random sandbox credentials known to the gateway only by their SHA-256, every server on port 0.
//!
//! The demo, the benchmarks and the end-to-end tests all start their deployments here, so the
//! wiring exists once.
//!
//! - [`layout`]: which provider and sandbox records the gateway config holds, and writing them.
//! - [`stack`]: emulator + gateway (+ sandbox resolver) in this process, and their shutdown.
//! - [`credential`]: sandbox credentials as an operator generates them.

#![forbid(unsafe_code)]

pub mod credential;
pub mod layout;
pub mod stack;

pub use credential::{credential_sha256, random_credential};
pub use layout::{Blueprint, Deployment, Layout, Provider, Sandbox, SandboxFile, UserBy};
pub use stack::{DirectoryEdit, ResolverOptions, RunningResolver, Stack, StackError, StackOptions};
