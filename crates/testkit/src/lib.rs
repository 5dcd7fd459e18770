//! agentmint-testkit: what every crate's tests need and no product code may use. It is a
//! dev-dependency only, so none of it ships in the binary.
//!
//! - [`pki`]: RSA keys, self-signed certificates and a small CA (server and client certificates).
//! - [`jwt`]: unsigned JWTs with chosen claims, for code that reads but does not verify tokens.
//! - [`credential`]: random sandbox credentials and their SHA-256 hex, as the config takes them.
//! - [`entra`]: Entra's wire constants (assertion type, exchange scope and audience, Graph).
//! - [`config`]: a whole gateway config around one provider, for tests about that provider.

#![forbid(unsafe_code)]

pub mod config;
pub mod credential;
pub mod entra;
pub mod jwt;
pub mod pki;
pub mod service_account;
