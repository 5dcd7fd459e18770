//! The benchmarks' deployment on the shared stack (`agentmint-stack`): one Blueprint-based agent
//! provider with as many extra consented scopes as a scenario needs, and (optionally) a sandbox
//! resolver; plus the load generator's targets on it.
//!
//! Each scenario starts its own stack so that its counts start from zero and its knobs (latency,
//! lifetime, throttling, cache size) apply to nothing else.

use std::sync::Arc;
use std::time::Duration;

use agentmint_emulator::directory::GRAPH_URI;
use agentmint_emulator::{Emulator, Knobs, Stats};
use agentmint_gateway::GatewayState;
use agentmint_proto::{MintTokenRequest, TokenKind};
use agentmint_sandbox::ManagedIdentityMode;
use agentmint_stack::{Blueprint, Layout, Provider, ResolverOptions, Sandbox, UserBy};
use http::{HeaderName, HeaderValue};

use crate::error::BenchError;
use crate::grpc_client::GrpcTarget;
use crate::http_client::HttpTarget;

/// The one provider of every stack.
pub const PROVIDER: &str = "bench-agent";
/// The app-only scope every stack allows.
pub const APP_SCOPE: &str = agentmint_stack::layout::GRAPH_DEFAULT;
/// The user scope the hot paths ask for.
pub const USER_SCOPE: &str = agentmint_stack::layout::USER_READ;
const SANDBOX: &str = "bench-sandbox";

/// The `i`-th extra delegated scope a provider may allow: scenarios that need many distinct cache
/// keys ask for distinct sets of these.
pub fn extra_user_scope(i: usize) -> String {
    format!("{GRAPH_URI}/{}", extra_scope_name(i))
}

/// The `i`-th extra scope's name as consented on the resource.
fn extra_scope_name(i: usize) -> String {
    format!("Bench{i}.Read")
}

/// What a scenario needs from its stack.
#[derive(Default)]
pub struct StackOptions {
    pub knobs: Knobs,
    /// `[gateway.cache] max_entries`; `None` keeps the default.
    pub cache_max_entries: Option<usize>,
    /// Extra delegated scopes the provider allows (see [`extra_user_scope`]).
    pub extra_user_scopes: usize,
    /// Start a sandbox resolver in front of the gateway.
    pub sandbox: bool,
}

impl StackOptions {
    /// A stack for timing mints that miss the cache: every upstream request takes `latency`, and
    /// `extra_user_scopes` fresh scopes are there to ask for.
    pub fn cold(latency: Duration, extra_user_scopes: usize) -> Self {
        Self {
            knobs: Knobs {
                latency,
                ..Knobs::default()
            },
            extra_user_scopes,
            ..Self::default()
        }
    }
}

/// A running emulator + gateway (+ sandbox).
pub struct Stack {
    pub emulator: Emulator,
    pub state: Arc<GatewayState>,
    /// The sandbox's bearer credential.
    pub credential: String,
    inner: agentmint_stack::Stack,
}

impl Stack {
    /// Generates a universe in a temporary directory and starts every component.
    pub async fn start(options: StackOptions) -> Result<Self, BenchError> {
        let mut user_scopes = vec![USER_SCOPE.to_owned()];
        user_scopes.extend((0..options.extra_user_scopes).map(extra_user_scope));
        let extra_config = options
            .cache_max_entries
            .map(|n| format!("\n[gateway.cache]\nmax_entries = {n}\n"))
            .unwrap_or_default();
        let layout = Layout {
            providers: vec![Provider::Agent {
                name: PROVIDER.into(),
                blueprint: Blueprint::First,
                user: Some(UserBy::ObjectId),
                user_scopes,
            }],
            sandboxes: vec![Sandbox::new(SANDBOX, &[PROVIDER])],
            extra_config,
        };
        let resolver = options.sandbox.then(|| ResolverOptions {
            sandbox: SANDBOX.into(),
            providers: vec![PROVIDER.into()],
            managed_identity: ManagedIdentityMode::Off,
            request_timeout: Duration::from_secs(30),
        });
        let inner = agentmint_stack::Stack::start(agentmint_stack::StackOptions {
            layout,
            knobs: options.knobs,
            consented_scopes: (0..options.extra_user_scopes)
                .map(extra_scope_name)
                .collect(),
            resolver,
            ..agentmint_stack::StackOptions::default()
        })
        .await
        .map_err(|e| BenchError::setup("the stack", e))?;
        let credential = inner
            .credential(SANDBOX)
            .map(|s| s.credential.clone())
            .ok_or_else(|| BenchError::Invalid("the stack has no bench sandbox".into()))?;
        Ok(Self {
            emulator: inner.emulator.clone(),
            state: inner.gateway.clone(),
            credential,
            inner,
        })
    }

    /// A `MintToken` target for this stack's provider.
    pub fn grpc_target(&self, kind: TokenKind, scopes: Vec<String>) -> GrpcTarget {
        GrpcTarget {
            addr: self.inner.gateway_addr,
            request: MintTokenRequest {
                provider: PROVIDER.into(),
                kind: kind as i32,
                scopes,
            },
            credential: self.credential.clone(),
        }
    }

    /// The sandbox's local token URL for `kind`, asking for `scope`, with `Metadata: true`.
    pub fn http_target(&self, kind: TokenKind, scope: &str) -> Result<HttpTarget, BenchError> {
        let sandbox = self
            .inner
            .resolver
            .as_ref()
            .ok_or_else(|| BenchError::Invalid("this stack has no sandbox resolver".into()))?;
        let urls = sandbox.urls.provider(PROVIDER).ok_or_else(|| {
            BenchError::Invalid(format!("the sandbox has no URLs for {PROVIDER}"))
        })?;
        let url = match kind {
            TokenKind::UserPrincipal => &urls.user_token_url,
            _ => &urls.app_token_url,
        };
        let path = url
            .split_once("://")
            .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
            .ok_or_else(|| BenchError::Invalid(format!("unexpected token URL {url}")))?;
        let separator = if path.contains('?') { '&' } else { '?' };
        Ok(HttpTarget {
            addr: sandbox.addr,
            path_and_query: format!("{path}{separator}scope={}", percent_encode(scope)),
            headers: vec![(
                HeaderName::from_static("metadata"),
                HeaderValue::from_static("true"),
            )],
        })
    }

    /// The emulator's request counts per hop and outcome.
    pub fn upstream(&self) -> Stats {
        self.inner.emulator.stats()
    }

    /// Upstream requests the emulator received, whatever their hop and outcome.
    pub fn upstream_total(&self) -> u64 {
        self.inner.emulator.stats().total
    }

    /// Stops every component and waits for them.
    pub async fn shutdown(self) {
        self.inner.shutdown().await;
    }
}

/// Percent-encodes a query value (RFC 3986 unreserved characters pass).
fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(
            percent_encode("https://graph.microsoft.com/.default"),
            "https%3A%2F%2Fgraph.microsoft.com%2F.default"
        );
        assert_eq!(percent_encode("a b"), "a%20b");
    }
}
