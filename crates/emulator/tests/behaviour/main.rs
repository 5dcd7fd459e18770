//! The emulator's behaviour, one rule per test (or per row of a table test), against a real
//! server on loopback; and Microsoft's own client run against it (`msal_conformance`). One test
//! binary for the crate: cargo links each binary separately.

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
mod msal_conformance;
mod stats;
mod tls;
