//! Starting the demo's emulator, gateway and sandbox resolver on loopback.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use agentmint_cache::{CachePolicy, SystemClock};
use agentmint_emulator::world::World;
use agentmint_emulator::{Directory, Emulator, Knobs, pki};
use agentmint_entra::ClientOptions;
use agentmint_sandbox::{
    LocalUrls, ManagedIdentityMode, Resolver, SandboxConfig, SandboxCredential,
};
use anyhow::Context;
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The agent provider (Blueprint → Agent Identity → Agent User).
pub const AGENT: &str = "demo-agent";
/// The plain app registration (a Teams bot with a managed identity).
pub const BOT: &str = "teams-bot";
pub const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";
pub const USER_SCOPE: &str = "https://graph.microsoft.com/User.Read";

/// Everything the demo started.
pub struct Stack {
    pub world: World,
    pub emulator_url: String,
    pub ca_path: PathBuf,
    pub gateway_url: String,
    pub admin_url: String,
    pub config_path: PathBuf,
    pub sandbox_addr: SocketAddr,
    pub urls: LocalUrls,
    tasks: Vec<JoinHandle<()>>,
}

impl Stack {
    /// The agent's environment: the sandbox's variables on top of `parent`, credentials stripped,
    /// plus `AGENTMINT_EMULATOR_URL` so an agent can read the emulator's request counts.
    pub fn agent_env(
        &self,
        parent: impl Iterator<Item = (String, String)>,
    ) -> Vec<(String, String)> {
        let mut env = agentmint_sandbox::launcher::agent_env(parent, &self.urls);
        env.push(("AGENTMINT_EMULATOR_URL".into(), self.emulator_url.clone()));
        env.push((
            "AGENTMINT_EMULATOR_CA".into(),
            self.ca_path.display().to_string(),
        ));
        env
    }

    /// Waits for every server to finish after the stop signal.
    pub async fn join(self) {
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

async fn stopped(mut rx: watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}

/// Generates the universe in `dir` and starts every component.
pub async fn start(dir: &Path, stop: watch::Receiver<bool>) -> anyhow::Result<Stack> {
    let world = World::generate(dir).context("generating the demo's Entra universe")?;
    let directory = Directory::load(&world.directory_path)?;
    let emulator = Emulator::new(directory, Knobs::default())?;
    let (ca_pem, tls) = pki::generate_ca_and_server(&["localhost", "127.0.0.1"])?;
    let ca_path = dir.join("emulator-ca.pem");
    std::fs::write(&ca_path, ca_pem.as_bytes())?;
    let emulator_listener = TcpListener::bind("127.0.0.1:0").await?;
    let emulator_url = format!("https://{}", emulator_listener.local_addr()?);
    let mut tasks = Vec::new();
    tasks.push(tokio::spawn({
        let emulator = emulator.clone();
        let stop = stopped(stop.clone());
        async move {
            if let Err(err) =
                agentmint_emulator::serve(emulator_listener, emulator, Some(tls), stop).await
            {
                tracing::error!("emulator stopped: {err}");
            }
        }
    }));

    // The sandbox credential: random, handed to the resolver as a file, hashed in the gateway config.
    let credential = random_credential();
    let credential_path = dir.join("sandbox.credential");
    std::fs::write(&credential_path, &credential)?;
    let config_path = dir.join("gateway.toml");
    std::fs::write(
        &config_path,
        gateway_config(
            &world,
            &emulator_url,
            &ca_path,
            &hex::encode(Sha256::digest(credential.as_bytes())),
        ),
    )?;
    let loaded = agentmint_config::load(&config_path).map_err(|d| anyhow::anyhow!("{d}"))?;

    let mut client = ClientOptions::default();
    client.extra_root_certificates_pem.push(ca_pem.into_bytes());
    // The gateway finds its managed identity the way it would on App Service: from the environment.
    let mi_endpoint = format!("{emulator_url}/msi/token");
    let mi_header = world.identity_header.clone();
    let options = agentmint_gateway::GatewayOptions {
        clock: Arc::new(SystemClock),
        cache: CachePolicy::default(),
        client,
        config_path: Some(config_path.clone()),
        env: Box::new(move |name| match name {
            "IDENTITY_ENDPOINT" => Some(mi_endpoint.clone()),
            "IDENTITY_HEADER" => Some(mi_header.clone()),
            _ => None,
        }),
    };
    let state = agentmint_gateway::build(&loaded.config, options)?;
    let grpc = TcpListener::bind("127.0.0.1:0").await?;
    let admin = TcpListener::bind("127.0.0.1:0").await?;
    let gateway_url = format!("http://{}", grpc.local_addr()?);
    let admin_url = format!("http://{}", admin.local_addr()?);
    tasks.push(tokio::spawn({
        let stop = stopped(stop.clone());
        async move {
            if let Err(err) = agentmint_gateway::serve(state, grpc, Some(admin), stop).await {
                tracing::error!("gateway stopped: {err}");
            }
        }
    }));

    let resolver = Resolver::new(SandboxConfig {
        gateway: gateway_url.clone(),
        gateway_tls: agentmint_sandbox::GatewayTls::default(),
        credential: SandboxCredential::from_file(&credential_path)?,
        providers: vec![AGENT.into(), BOT.into()],
        managed_identity: ManagedIdentityMode::AppOnly {
            provider: AGENT.into(),
        },
        allowed_hosts: Vec::new(),
        request_timeout: std::time::Duration::from_secs(10),
        token_cache_ttl: agentmint_sandbox::DEFAULT_TOKEN_CACHE_TTL,
        path_secret: None,
    })?;
    let sandbox_listener = TcpListener::bind("127.0.0.1:0").await?;
    let sandbox_addr = sandbox_listener.local_addr()?;
    let urls = resolver.urls(sandbox_addr);
    tasks.push(tokio::spawn({
        let stop = stopped(stop);
        async move {
            if let Err(err) = resolver.serve(sandbox_listener, stop).await {
                tracing::error!("sandbox resolver stopped: {err}");
            }
        }
    }));

    Ok(Stack {
        world,
        emulator_url,
        ca_path,
        gateway_url,
        admin_url,
        config_path,
        sandbox_addr,
        urls,
        tasks,
    })
}

fn random_credential() -> String {
    use base64::Engine;
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The gateway's provider records for the generated universe: exactly what an operator would write,
/// with the emulator as the authority host.
fn gateway_config(world: &World, emulator_url: &str, ca: &Path, sandbox_sha256: &str) -> String {
    format!(
        r#"# Generated by `agentmint demo`: real provider records pointing at the local emulator.
[gateway]
listen = "127.0.0.1:0"
admin_listen = "127.0.0.1:0"
authority_host = "{emulator_url}"
ca_file = "{ca}"

[[provider]]
name = "{AGENT}"
tenant = "{tenant}"
blueprint_client_id = "{blueprint}"
agent_identity_client_id = "{agent_identity}"
agent_user = {{ upn = "{upn}" }}

[provider.credential]
type = "certificate"
key_file = "{key}"
certificate_file = "{cert}"

[provider.scopes]
app_allowed = ["{GRAPH_DEFAULT}"]
app_default = ["{GRAPH_DEFAULT}"]
user_allowed = ["{USER_SCOPE}", "https://graph.microsoft.com/Mail.Read"]
user_default = ["{USER_SCOPE}"]

[[provider]]
name = "{BOT}"
kind = "app"
tenant = "{tenant}"
client_id = "{app}"

[provider.credential]
type = "managed_identity"
client_id = "{mi_client}"

[provider.scopes]
app_allowed = ["{GRAPH_DEFAULT}"]
app_default = ["{GRAPH_DEFAULT}"]

[[sandbox]]
name = "demo-sandbox"
credential_sha256 = "{sandbox_sha256}"
providers = ["{AGENT}", "{BOT}"]
"#,
        ca = ca.display(),
        tenant = world.tenant_id,
        blueprint = world.blueprint_app_id,
        agent_identity = world.agent_identity_app_id,
        upn = world.agent_user_upn,
        key = world.blueprint_key_path.display(),
        cert = world.blueprint_cert_path.display(),
        app = world.app_id,
        mi_client = world.mi_client_id,
    )
}
