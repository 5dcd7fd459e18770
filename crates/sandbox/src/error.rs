//! Start-up errors: everything that makes a [`crate::SandboxConfig`] unusable.
//!
//! Per-request failures are not errors of this kind: they become HTTP answers (see `failure.rs`).

use std::path::PathBuf;

/// Why the resolver cannot start. Messages never contain the credential.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cannot read the sandbox credential file {path}: {source}")]
    CredentialRead {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the sandbox credential file {path} is unusable: {why}")]
    CredentialInvalid { path: PathBuf, why: &'static str },
    #[error("the gateway URL {url:?} is invalid: {why}")]
    GatewayUrl { url: String, why: &'static str },
    #[error("no provider is configured for this sandbox")]
    NoProviders,
    #[error(
        "the provider name {name:?} is invalid: use letters, digits, '.', '_' or '-' (it becomes a URL path segment)"
    )]
    ProviderName { name: String },
    #[error("the provider {name:?} is listed twice")]
    DuplicateProvider { name: String },
    #[error(
        "the providers {first:?} and {second:?} would share the environment variable prefix AGENTMINT_{prefix}_"
    )]
    ProviderEnvCollision {
        first: String,
        second: String,
        prefix: String,
    },
    #[error(
        "the managed-identity endpoint names the provider {name:?}, which is not attached to this sandbox"
    )]
    ManagedIdentityProvider { name: String },
    #[error("the path secret is invalid: {why}")]
    PathSecret { why: &'static str },
    #[error("the request timeout must be between 1 ms and 10 minutes")]
    RequestTimeout,
    #[error("the token cache time must be at most 5 minutes (0 turns the cache off)")]
    TokenCacheTtl,
    #[error("cannot read the TLS file {path}: {source}")]
    TlsRead {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("a client certificate needs its key and a key its certificate (give both)")]
    TlsClientPair,
    #[error(
        "the resolver must be created inside a Tokio runtime (its gateway channel runs a background task)"
    )]
    NoRuntime,
}
