//! The emulator's behaviour, one rule per test, against a real server on loopback.

#[path = "../support/mod.rs"]
mod support;

mod app;
mod client_auth;
mod directory;
mod discovery;
mod hop1;
mod hop2;
mod hop3;
mod knobs;
mod managed_identity;
mod stats;
mod tls;
