//! Emulator + gateway (+ sandbox resolver) in this process on loopback port 0, started from a
//! generated world and a [`Layout`], and stopped together.
//!
//! The gateway is built by [`Gateway::from_config`] from the written file, exactly as
//! `agentmint gateway` builds it; only the environment is injected (the managed-identity endpoint is
//! the emulator's, as App Service would announce it).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use agentmint_emulator::directory::{Consent, GRAPH_APP_ID, GRAPH_URI};
use agentmint_emulator::world::World;
use agentmint_emulator::{Directory, Emulator, Knobs, pki};
use agentmint_gateway::{Gateway, GatewayState, Overrides};
use agentmint_sandbox::{
    GatewayTls, LocalUrls, ManagedIdentityMode, Resolver, SandboxConfig, SandboxCredential,
};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::layout::{Layout, SandboxFile};

/// Why a stack could not start. Names the step, never a credential.
#[derive(Debug, thiserror::Error)]
#[error("cannot start {what}: {source}")]
pub struct StackError {
    what: &'static str,
    #[source]
    source: Box<dyn std::error::Error + Send + Sync>,
}

/// Wraps an error as the failure of step `what`.
fn at<E: Into<Box<dyn std::error::Error + Send + Sync>>>(
    what: &'static str,
) -> impl FnOnce(E) -> StackError {
    move |source| StackError {
        what,
        source: source.into(),
    }
}

/// A sandbox resolver in front of the gateway.
#[derive(Debug, Clone)]
pub struct ResolverOptions {
    /// The `[[sandbox]]` whose credential the resolver presents.
    pub sandbox: String,
    /// The providers it serves URLs for (the first is the default).
    pub providers: Vec<String>,
    pub managed_identity: ManagedIdentityMode,
    /// Deadline of one token request, gateway call included.
    pub request_timeout: Duration,
}

/// What to start.
#[derive(Default)]
pub struct StackOptions {
    /// Where the world, the config and the credentials are written; `None`: a temporary folder
    /// removed with the stack.
    pub dir: Option<PathBuf>,
    pub layout: Layout,
    /// The emulator's latency, lifetime and failure knobs.
    pub knobs: Knobs,
    /// Serve the emulator over https with a fresh CA, which the config names as `ca_file`.
    pub emulator_tls: bool,
    /// Delegated Graph scopes (names such as `Files.Read`) every Agent User has consented to,
    /// besides the world's own, as an admin consenting to them would.
    pub consented_scopes: Vec<String>,
    pub resolver: Option<ResolverOptions>,
    /// Changes the emulator's directory before it starts, as an admin would in Entra (register a
    /// second certificate or secret on an app before rotating to it).
    pub edit_directory: Option<DirectoryEdit>,
}

/// A change to the emulator's directory, made before it starts.
pub type DirectoryEdit = Box<dyn FnOnce(&World, &mut Directory) + Send>;

/// A running sandbox resolver.
pub struct RunningResolver {
    pub addr: SocketAddr,
    pub urls: LocalUrls,
}

/// A running deployment. Dropping it stops every server; [`Stack::shutdown`] also waits for them.
pub struct Stack {
    pub world: World,
    /// The emulator: its request counts (`stats`) and knobs (`set_knobs`).
    pub emulator: Emulator,
    pub emulator_url: String,
    /// The emulator's CA when it serves https.
    pub emulator_ca: Option<PathBuf>,
    pub gateway: Arc<GatewayState>,
    pub gateway_addr: SocketAddr,
    pub gateway_url: String,
    pub admin_url: String,
    pub config_path: PathBuf,
    pub sandboxes: Vec<SandboxFile>,
    pub resolver: Option<RunningResolver>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    _temp: Option<tempfile::TempDir>,
}

/// Resolves once `stop` turns true (or its sender is gone).
async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

async fn loopback() -> Result<(TcpListener, SocketAddr), StackError> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(at("a loopback listener"))?;
    let addr = listener.local_addr().map_err(at("a loopback listener"))?;
    Ok((listener, addr))
}

impl Stack {
    /// Generates the world and starts every component.
    pub async fn start(options: StackOptions) -> Result<Self, StackError> {
        let (temp, dir) = match options.dir {
            Some(dir) => (None, dir),
            None => {
                let temp = tempfile::tempdir().map_err(at("a temporary folder"))?;
                let dir = temp.path().to_path_buf();
                (Some(temp), dir)
            }
        };
        let world = World::generate(&dir).map_err(at("the Entra world"))?;
        let mut directory =
            Directory::load(&world.directory_path).map_err(at("the emulator directory"))?;
        consent(&mut directory, &options.consented_scopes);
        if let Some(edit) = options.edit_directory {
            edit(&world, &mut directory);
        }
        let emulator = Emulator::new(directory, options.knobs).map_err(at("the emulator"))?;
        let (stop, stop_rx) = watch::channel(false);
        let mut tasks = Vec::new();

        let (listener, emulator_addr) = loopback().await?;
        let (tls, emulator_url, emulator_ca) = if options.emulator_tls {
            let (ca_pem, identity) = pki::generate_ca_and_server(&["localhost", "127.0.0.1"])
                .map_err(at("the emulator's CA"))?;
            let ca_path = dir.join("emulator-ca.pem");
            std::fs::write(&ca_path, ca_pem.as_bytes()).map_err(at("the emulator's CA file"))?;
            (
                Some(identity),
                format!("https://{emulator_addr}"),
                Some(ca_path),
            )
        } else {
            (None, format!("http://{emulator_addr}"), None)
        };
        tasks.push(tokio::spawn({
            let emulator = emulator.clone();
            let stop = stopped(stop_rx.clone());
            async move {
                if let Err(err) = agentmint_emulator::serve(listener, emulator, tls, stop).await {
                    tracing::error!("emulator stopped: {err}");
                }
            }
        }));

        let deployment = options
            .layout
            .write(&world, &emulator_url, emulator_ca.as_deref())
            .map_err(at("the gateway config files"))?;
        let loaded = agentmint_config::load(&deployment.config_path)
            .map_err(|d| at("the gateway config")(d.to_string()))?;
        // The gateway finds its managed identity the way it would on App Service: from the
        // environment.
        let mi_endpoint = format!("{emulator_url}/msi/token");
        let mi_header = world.identity_header.clone();
        let gateway = Gateway::from_config(
            &loaded,
            Overrides {
                env: Some(Box::new(move |name| match name {
                    "IDENTITY_ENDPOINT" => Some(mi_endpoint.clone()),
                    "IDENTITY_HEADER" => Some(mi_header.clone()),
                    _ => None,
                })),
                reload_from: Some(deployment.config_path.clone()),
                // No load balancer watches a loopback stack: it stops without a drain grace.
                drain_grace: Some(Duration::ZERO),
                ..Overrides::default()
            },
        )
        .map_err(at("the gateway"))?;
        let scheme = gateway.scheme();
        let drain = gateway.drain;
        let state = gateway.state;
        let (grpc, gateway_addr) = loopback().await?;
        let (admin, admin_addr) = loopback().await?;
        tasks.push(tokio::spawn({
            let state = state.clone();
            let stop = stopped(stop_rx.clone());
            async move {
                if let Err(err) =
                    agentmint_gateway::serve(state, drain, grpc, Some(admin), stop).await
                {
                    tracing::error!("gateway stopped: {err}");
                }
            }
        }));
        let gateway_url = format!("{scheme}://{gateway_addr}");

        let resolver = match &options.resolver {
            Some(resolver) => {
                let (running, task) = start_resolver(
                    resolver,
                    &deployment.sandboxes,
                    &gateway_url,
                    stopped(stop_rx),
                )
                .await?;
                tasks.push(task);
                Some(running)
            }
            None => None,
        };

        Ok(Self {
            world,
            emulator,
            emulator_url,
            emulator_ca,
            gateway: state,
            gateway_addr,
            gateway_url,
            admin_url: format!("http://{admin_addr}"),
            config_path: deployment.config_path,
            sandboxes: deployment.sandboxes,
            resolver,
            stop,
            tasks,
            _temp: temp,
        })
    }

    /// The credential of the sandbox named `name`.
    pub fn credential(&self, name: &str) -> Option<&SandboxFile> {
        self.sandboxes.iter().find(|s| s.name == name)
    }

    /// Stops every component and waits (bounded) for each to finish.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for task in std::mem::take(&mut self.tasks) {
            let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
        }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

async fn start_resolver(
    options: &ResolverOptions,
    sandboxes: &[SandboxFile],
    gateway_url: &str,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(RunningResolver, JoinHandle<()>), StackError> {
    let sandbox = sandboxes
        .iter()
        .find(|s| s.name == options.sandbox)
        .ok_or_else(|| {
            at("the sandbox resolver")(format!("no [[sandbox]] named {}", options.sandbox))
        })?;
    let resolver = Resolver::new(SandboxConfig {
        gateway: gateway_url.to_owned(),
        gateway_tls: GatewayTls::default(),
        credential: SandboxCredential::from_file(&sandbox.credential_path)
            .map_err(at("the sandbox credential"))?,
        providers: options.providers.clone(),
        managed_identity: options.managed_identity.clone(),
        allowed_hosts: Vec::new(),
        request_timeout: options.request_timeout,
        token_cache_ttl: agentmint_sandbox::DEFAULT_TOKEN_CACHE_TTL,
        path_secret: None,
    })
    .map_err(at("the sandbox resolver"))?;
    let (listener, addr) = loopback().await?;
    let urls = resolver.urls(addr);
    let task = tokio::spawn(async move {
        if let Err(err) = resolver.serve(listener, stop).await {
            tracing::error!("sandbox resolver stopped: {err}");
        }
    });
    Ok((RunningResolver { addr, urls }, task))
}

/// Grants every Agent User the extra delegated Graph scopes, as an admin consenting to them would:
/// the emulator, like Entra, refuses delegated scopes nobody consented to. One consent per resource,
/// so the extra scopes join Graph's existing consent.
fn consent(directory: &mut Directory, scopes: &[String]) {
    if scopes.is_empty() {
        return;
    }
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
        user.consents[index].scopes.extend(scopes.iter().cloned());
    }
}
