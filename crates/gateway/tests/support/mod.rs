//! In-process harness: the emulator and the real gateway on loopback port 0, and a tonic client
//! authenticated as a sandbox.

#![allow(dead_code)] // each test binary uses a different part of this module

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use agentmint_cache::{CachePolicy, Clock, SystemClock};
use agentmint_emulator::world::World;
use agentmint_emulator::{Directory, Emulator, Knobs};
use agentmint_entra::ClientOptions;
use agentmint_gateway::GatewayState;
use agentmint_proto::{
    ErrorDetail, MintTokenRequest, MintTokenResponse, TokenBrokerClient, TokenKind,
};
use prost::Message;
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tonic::transport::Channel;

pub const GRAPH: &str = "https://graph.microsoft.com/.default";
pub const USER_READ: &str = "https://graph.microsoft.com/User.Read";
pub const MAIL_READ: &str = "https://graph.microsoft.com/Mail.Read";
pub const CRED_A: &str = "sandbox-a-credential-0123456789abcdef";
pub const CRED_B: &str = "sandbox-b-credential-fedcba9876543210";

pub struct Harness {
    pub dir: tempfile::TempDir,
    pub world: World,
    pub emulator: Emulator,
    pub emulator_url: String,
    pub state: Arc<GatewayState>,
    pub gateway_url: String,
    pub config_path: PathBuf,
    stop: watch::Sender<bool>,
}

pub fn sha(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// The test config: provider "agent" (with user) and "second" (another Blueprint, with user) and
/// "bot" (app, managed identity). Sandbox A has agent + bot; sandbox B has second.
pub fn config(world: &World, emulator_url: &str) -> String {
    format!(
        r#"[gateway]
authority_host = "{emulator_url}"

[[provider]]
name = "agent"
tenant = "{tenant}"
blueprint_client_id = "{bp}"
agent_identity_client_id = "{ai}"
agent_user = {{ object_id = "{user}" }}
[provider.credential]
type = "certificate"
key_file = "{key}"
certificate_file = "{cert}"
[provider.scopes]
app_allowed = ["{GRAPH}"]
app_default = ["{GRAPH}"]
user_allowed = ["{USER_READ}", "{MAIL_READ}"]
user_default = ["{USER_READ}"]

[[provider]]
name = "second"
tenant = "{tenant}"
blueprint_client_id = "{bp2}"
agent_identity_client_id = "{ai2}"
agent_user = {{ upn = "{upn2}" }}
[provider.credential]
type = "certificate"
key_file = "{key2}"
certificate_file = "{cert2}"
[provider.scopes]
app_allowed = ["{GRAPH}"]
app_default = ["{GRAPH}"]
user_allowed = ["{USER_READ}"]
user_default = ["{USER_READ}"]

[[provider]]
name = "bot"
kind = "app"
tenant = "{tenant}"
client_id = "{app}"
[provider.credential]
type = "managed_identity"
client_id = "{mi}"
[provider.scopes]
app_allowed = ["{GRAPH}"]
app_default = ["{GRAPH}"]

[[sandbox]]
name = "sandbox-a"
credential_sha256 = "{a}"
providers = ["agent", "bot"]

[[sandbox]]
name = "sandbox-b"
credential_sha256 = "{b}"
providers = ["second"]
"#,
        tenant = world.tenant_id,
        bp = world.blueprint_app_id,
        ai = world.agent_identity_app_id,
        user = world.agent_user_object_id,
        key = world.blueprint_key_path.display(),
        cert = world.blueprint_cert_path.display(),
        bp2 = world.second_blueprint_app_id,
        ai2 = world.second_agent_identity_app_id,
        upn2 = world.second_agent_user_upn,
        key2 = world.second_blueprint_key_path.display(),
        cert2 = world.second_blueprint_cert_path.display(),
        app = world.app_id,
        mi = world.mi_client_id,
        a = sha(CRED_A),
        b = sha(CRED_B),
    )
}

pub struct Options {
    pub knobs: Knobs,
    pub clock: Arc<dyn Clock>,
    pub cache: CachePolicy,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            knobs: Knobs::default(),
            clock: Arc::new(SystemClock),
            cache: CachePolicy::default(),
        }
    }
}

impl Harness {
    pub async fn start() -> Harness {
        Self::start_with(Options::default()).await
    }

    pub async fn start_with(options: Options) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let world = World::generate(dir.path()).unwrap();
        let emulator = Emulator::new(
            Directory::load(&world.directory_path).unwrap(),
            options.knobs,
        )
        .unwrap();
        let (stop, stop_rx) = watch::channel(false);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let emulator_url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(agentmint_emulator::serve(
            listener,
            emulator.clone(),
            None,
            stopped(stop_rx.clone()),
        ));

        let config_path = dir.path().join("gateway.toml");
        std::fs::write(&config_path, config(&world, &emulator_url)).unwrap();
        let loaded = agentmint_config::load(&config_path).unwrap_or_else(|d| panic!("{d}"));
        let mi_endpoint = format!("{emulator_url}/msi/token");
        let header = world.identity_header.clone();
        let client = ClientOptions {
            request_timeout: Duration::from_secs(5),
            ..ClientOptions::default()
        };
        let state = agentmint_gateway::build(
            &loaded.config,
            agentmint_gateway::GatewayOptions {
                clock: options.clock,
                cache: options.cache,
                client,
                config_path: Some(config_path.clone()),
                env: Box::new(move |name| match name {
                    "IDENTITY_ENDPOINT" => Some(mi_endpoint.clone()),
                    "IDENTITY_HEADER" => Some(header.clone()),
                    _ => None,
                }),
            },
        )
        .unwrap();
        let grpc = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let gateway_url = format!("http://{}", grpc.local_addr().unwrap());
        tokio::spawn(agentmint_gateway::serve(
            state.clone(),
            grpc,
            None,
            stopped(stop_rx),
        ));
        Harness {
            dir,
            world,
            emulator,
            emulator_url,
            state,
            gateway_url,
            config_path,
            stop,
        }
    }

    pub async fn client(&self) -> TokenBrokerClient<Channel> {
        TokenBrokerClient::connect(self.gateway_url.clone())
            .await
            .unwrap()
    }

    /// Upstream requests the emulator served for a hop and outcome.
    pub fn upstream(&self, hop: &str, outcome: &str) -> u64 {
        self.emulator.stats().count(hop, outcome)
    }

    pub fn upstream_total(&self) -> u64 {
        self.emulator.stats().total()
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

async fn stopped(mut rx: watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}

pub fn request(
    credential: Option<&str>,
    provider: &str,
    kind: TokenKind,
    scopes: &[&str],
) -> tonic::Request<MintTokenRequest> {
    let mut request = tonic::Request::new(MintTokenRequest {
        provider: provider.into(),
        kind: kind as i32,
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
    });
    if let Some(c) = credential {
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {c}").parse().unwrap());
    }
    request
}

pub async fn mint(
    client: &mut TokenBrokerClient<Channel>,
    credential: &str,
    provider: &str,
    kind: TokenKind,
    scopes: &[&str],
) -> Result<MintTokenResponse, tonic::Status> {
    client
        .mint_token(request(Some(credential), provider, kind, scopes))
        .await
        .map(|r| r.into_inner())
}

pub fn detail(status: &tonic::Status) -> ErrorDetail {
    ErrorDetail::decode(status.details()).unwrap_or_default()
}

/// Decodes a JWT payload.
pub fn claims(token: &str) -> serde_json::Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

pub fn path(p: &Path) -> String {
    p.display().to_string()
}
