//! The sandbox resolver: gives an agent short-lived Entra tokens over a local URL, so no long-lived
//! credential ever enters its sandbox.
//!
//! One resolver runs beside each agent. It serves, on loopback (or the sandbox namespace's host
//! address):
//!
//! ```text
//! /{secret}/providers/{provider}/token        app-only token       GET ?scope=|?audience=, POST {"scopes":[...]}
//! /{secret}/providers/{provider}/user-token   Agent User token     same
//! /{secret}/msi/token                         App Service-style managed-identity endpoint
//! ```
//!
//! and answers each request with one `MintToken` call to the gateway, authenticated by the
//! sandbox's own credential, or from its short-lived copy of the same answer (`memo.rs`; at most
//! `token_cache_ttl`, never more than a tenth of the token's remaining life). `{secret}` is 64 random hex characters: the URLs are capabilities,
//! handed to the agent in its environment by [`launcher::agent_env`].
//!
//! Token URLs require the header `Metadata: true`; the managed-identity endpoint requires
//! `X-IDENTITY-HEADER` (what the Azure SDKs send). Requests with a foreign `Host`, an `Origin`, or
//! a CORS preflight are refused before anything else, so a web page cannot use the resolver. See
//! `guard.rs` for the full list of defences and `failure.rs` for the status mapping.
//!
//! This crate never links credential code: it knows the gateway only through the generated gRPC
//! contract (`agentmint-proto`).

#![forbid(unsafe_code)]

mod claims;
mod config;
mod credential;
mod error;
mod failure;
mod gateway;
mod guard;
mod handler;
pub mod launcher;
mod memo;
mod parse;
mod random;
mod reply;
mod resolver;
mod route;
mod secret;
mod server;
mod tls;
mod urls;

pub use config::{
    DEFAULT_TOKEN_CACHE_TTL, MAX_TOKEN_CACHE_TTL, ManagedIdentityMode, SandboxConfig,
};
pub use credential::{MAX_CREDENTIAL_LEN, SandboxCredential};
pub use error::SandboxError;
pub use resolver::Resolver;
pub use tls::GatewayTls;
pub use urls::{LocalUrls, ManagedIdentityUrls, ProviderUrls};
