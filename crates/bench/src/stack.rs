//! One deployment in this process, on loopback port 0: the Entra emulator, the gateway and
//! (optionally) a sandbox resolver, wired exactly as an operator would wire them: a generated Entra
//! universe, a provider record written as TOML and loaded by the config crate, a random sandbox
//! credential known to the gateway only by its SHA-256.
//!
//! Each scenario starts its own stack so that its counts start from zero and its knobs (latency,
//! lifetime, throttling, cache policy) apply to nothing else.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use agentmint_cache::{CachePolicy, SystemClock};
use agentmint_emulator::directory::{Consent, GRAPH_APP_ID, GRAPH_URI};
use agentmint_emulator::world::World;
use agentmint_emulator::{Directory, Emulator, Knobs, Stats};
use agentmint_entra::ClientOptions;
use agentmint_gateway::{GatewayOptions, GatewayState};
use agentmint_proto::{MintTokenRequest, TokenKind};
use agentmint_sandbox::{
    LocalUrls, ManagedIdentityMode, Resolver, SandboxConfig, SandboxCredential,
};
use http::{HeaderName, HeaderValue};
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::error::BenchError;
use crate::grpc_client::GrpcTarget;
use crate::http_client::HttpTarget;

/// The one provider of every stack.
pub const PROVIDER: &str = "bench-agent";
/// The app-only scope every stack allows.
pub const APP_SCOPE: &str = "https://graph.microsoft.com/.default";
/// The user scope the hot paths ask for.
pub const USER_SCOPE: &str = "https://graph.microsoft.com/User.Read";

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
    pub cache: CachePolicy,
    /// Extra delegated scopes the provider allows (see [`extra_user_scope`]).
    pub extra_user_scopes: usize,
    /// Start a sandbox resolver in front of the gateway.
    pub sandbox: bool,
}

/// A running sandbox resolver.
pub struct Sandbox {
    pub addr: SocketAddr,
    pub urls: LocalUrls,
}

/// A running emulator + gateway (+ sandbox).
pub struct Stack {
    pub world: World,
    pub emulator: Emulator,
    pub state: Arc<GatewayState>,
    pub gateway: SocketAddr,
    pub sandbox: Option<Sandbox>,
    /// The sandbox's bearer credential.
    pub credential: String,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    /// Keys, certificates, the directory and the config live here until the stack is dropped.
    _dir: tempfile::TempDir,
}

async fn stopped(mut rx: watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await;
}

async fn loopback() -> Result<(TcpListener, SocketAddr), BenchError> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(BenchError::Bind)?;
    let addr = listener.local_addr().map_err(BenchError::Bind)?;
    Ok((listener, addr))
}

impl Stack {
    /// Generates a universe in a temporary directory and starts every component.
    pub async fn start(options: StackOptions) -> Result<Self, BenchError> {
        let dir = tempfile::tempdir().map_err(|e| BenchError::setup("a temporary directory", e))?;
        let world =
            World::generate(dir.path()).map_err(|e| BenchError::setup("the Entra universe", e))?;
        let mut directory = Directory::load(&world.directory_path)
            .map_err(|e| BenchError::setup("the emulator directory", e))?;
        consent_extra_scopes(&mut directory, options.extra_user_scopes);
        let emulator = Emulator::new(directory, options.knobs)
            .map_err(|e| BenchError::setup("the emulator", e))?;
        let (stop, stop_rx) = watch::channel(false);
        let mut tasks = Vec::new();

        let (listener, emulator_addr) = loopback().await?;
        let emulator_url = format!("http://{emulator_addr}");
        tasks.push(tokio::spawn({
            let emulator = emulator.clone();
            let stop = stopped(stop_rx.clone());
            async move {
                let _ = agentmint_emulator::serve(listener, emulator, None, stop).await;
            }
        }));

        let credential = random_credential();
        let config_path = dir.path().join("gateway.toml");
        let toml = gateway_config(
            &world,
            &emulator_url,
            &hex::encode(Sha256::digest(credential.as_bytes())),
            options.extra_user_scopes,
        );
        std::fs::write(&config_path, toml)
            .map_err(|e| BenchError::setup("the gateway config file", e))?;
        let loaded = agentmint_config::load(&config_path)
            .map_err(|d| BenchError::setup("the gateway config", d.to_string()))?;
        let state = agentmint_gateway::build(
            &loaded.config,
            GatewayOptions {
                clock: Arc::new(SystemClock),
                cache: options.cache,
                client: ClientOptions::default(),
                config_path: None,
                env: Box::new(|_| None),
            },
        )
        .map_err(|e| BenchError::setup("the gateway", e))?;
        let (grpc, gateway) = loopback().await?;
        tasks.push(tokio::spawn({
            let state = state.clone();
            let stop = stopped(stop_rx.clone());
            async move {
                let _ = agentmint_gateway::serve(state, grpc, None, stop).await;
            }
        }));

        let sandbox = if options.sandbox {
            let credential_path = dir.path().join("sandbox.credential");
            std::fs::write(&credential_path, &credential)
                .map_err(|e| BenchError::setup("the sandbox credential file", e))?;
            let resolver = Resolver::new(SandboxConfig {
                gateway: format!("http://{gateway}"),
                gateway_tls: agentmint_sandbox::GatewayTls::default(),
                credential: SandboxCredential::from_file(&credential_path)
                    .map_err(|e| BenchError::setup("the sandbox credential", e))?,
                providers: vec![PROVIDER.into()],
                managed_identity: ManagedIdentityMode::Off,
                allowed_hosts: Vec::new(),
                request_timeout: Duration::from_secs(30),
                token_cache_ttl: agentmint_sandbox::DEFAULT_TOKEN_CACHE_TTL,
                path_secret: None,
            })
            .map_err(|e| BenchError::setup("the sandbox resolver", e))?;
            let (listener, addr) = loopback().await?;
            let urls = resolver.urls(addr);
            let stop = stopped(stop_rx);
            tasks.push(tokio::spawn(async move {
                let _ = resolver.serve(listener, stop).await;
            }));
            Some(Sandbox { addr, urls })
        } else {
            None
        };

        Ok(Self {
            world,
            emulator,
            state,
            gateway,
            sandbox,
            credential,
            stop,
            tasks,
            _dir: dir,
        })
    }

    /// A `MintToken` target for this stack's provider.
    pub fn grpc_target(&self, kind: TokenKind, scopes: Vec<String>) -> GrpcTarget {
        GrpcTarget {
            addr: self.gateway,
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
            .sandbox
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
        self.emulator.stats()
    }

    /// Upstream requests the emulator received, whatever their hop and outcome.
    pub fn upstream_total(&self) -> u64 {
        self.emulator.stats().total
    }

    /// Stops every component and waits for them.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
        }
    }
}

/// Grants every Agent User the extra delegated scopes, as an admin consenting to them would: the
/// emulator, like Entra, refuses delegated scopes nobody consented to. One consent per resource, so
/// the extra scopes join Graph's existing consent.
fn consent_extra_scopes(directory: &mut Directory, extra: usize) {
    if extra == 0 {
        return;
    }
    let scopes = (0..extra).map(extra_scope_name);
    for user in directory
        .tenants
        .iter_mut()
        .flat_map(|t| t.agent_users.iter_mut())
    {
        let graph = user
            .consents
            .iter()
            .position(|c| c.resource == GRAPH_URI || c.resource == GRAPH_APP_ID);
        let index = graph.unwrap_or_else(|| {
            user.consents.push(Consent {
                resource: GRAPH_URI.to_owned(),
                scopes: Vec::new(),
            });
            user.consents.len() - 1
        });
        user.consents[index].scopes.extend(scopes.clone());
    }
}

/// A random sandbox credential (base64url of 32 random bytes).
fn random_credential() -> String {
    use base64::Engine;
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
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

/// The provider record and sandbox an operator would write for the generated universe.
fn gateway_config(
    world: &World,
    emulator_url: &str,
    credential_sha256: &str,
    extra_user_scopes: usize,
) -> String {
    let mut user_allowed = vec![format!("\"{USER_SCOPE}\"")];
    user_allowed.extend((0..extra_user_scopes).map(|i| format!("\"{}\"", extra_user_scope(i))));
    format!(
        r#"[gateway]
authority_host = "{emulator_url}"

[[provider]]
name = "{PROVIDER}"
tenant = "{tenant}"
blueprint_client_id = "{blueprint}"
agent_identity_client_id = "{agent_identity}"
agent_user = {{ object_id = "{user}" }}

[provider.credential]
type = "certificate"
key_file = "{key}"
certificate_file = "{cert}"

[provider.scopes]
app_allowed = ["{APP_SCOPE}"]
app_default = ["{APP_SCOPE}"]
user_allowed = [{user_allowed}]
user_default = ["{USER_SCOPE}"]

[[sandbox]]
name = "bench-sandbox"
credential_sha256 = "{credential_sha256}"
providers = ["{PROVIDER}"]
"#,
        tenant = world.tenant_id,
        blueprint = world.blueprint_app_id,
        agent_identity = world.agent_identity_app_id,
        user = world.agent_user_object_id,
        key = toml_path(&world.blueprint_key_path),
        cert = toml_path(&world.blueprint_cert_path),
        user_allowed = user_allowed.join(", "),
    )
}

/// A path as a TOML basic-string body.
fn toml_path(path: &Path) -> String {
    path.display()
        .to_string()
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
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
