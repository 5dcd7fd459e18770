//! Test support: a fake gateway, a real resolver on port 0, and a raw HTTP/1.1 client that sends
//! exactly the bytes a test writes (no normalisation of paths or headers), a lock for the tests
//! whose agents listen to the process's own signals, and one thread's logs captured ([`capture`]).

pub mod capture;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use agentmint_proto::{
    FailureDetails, MintTokenRequest, MintTokenResponse, TokenBroker, TokenBrokerServer, TokenKind,
};
use agentmint_sandbox::{
    LocalUrls, ManagedIdentityMode, Resolver, SandboxConfig, SandboxCredential,
};
use base64::Engine;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;
use tonic::{Code, Request, Response, Status};

pub const CREDENTIAL: &str = "sbx-credential-7f3a9c1e5b2d4f60";
pub const AGENT: &str = "demo-agent";
pub const BOT: &str = "teams-bot";

/// What the fake gateway answers.
#[derive(Clone)]
pub enum Behaviour {
    /// A token named after the request: `token-<provider>-<kind>`.
    Token,
    /// Exactly this token.
    Fixed(String),
    /// An unsigned JWT with these claims (per kind).
    Jwt {
        app: serde_json::Value,
        user: serde_json::Value,
    },
    /// An error status with a message and a detail.
    Fail {
        code: Code,
        message: String,
        detail: FailureDetails,
    },
    /// Never answers.
    Hang,
    /// Answers `Token` once `FakeState::release` is notified.
    Gated,
}

impl Behaviour {
    /// An error status with `message` and `detail`.
    pub fn fail(code: Code, message: &str, detail: FailureDetails) -> Self {
        Behaviour::Fail {
            code,
            message: message.into(),
            detail,
        }
    }
}

/// What the fake gateway saw; shared across restarts.
pub struct FakeState {
    pub calls: AtomicUsize,
    pub bearers: Mutex<Vec<String>>,
    pub requests: Mutex<Vec<MintTokenRequest>>,
    pub behaviour: Mutex<Behaviour>,
    pub release: Notify,
}

impl FakeState {
    pub fn new(behaviour: Behaviour) -> Arc<Self> {
        Arc::new(Self {
            calls: AtomicUsize::new(0),
            bearers: Mutex::new(Vec::new()),
            requests: Mutex::new(Vec::new()),
            behaviour: Mutex::new(behaviour),
            release: Notify::new(),
        })
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    pub fn set(&self, behaviour: Behaviour) {
        *self.behaviour.lock().unwrap() = behaviour;
    }

    pub fn last_request(&self) -> MintTokenRequest {
        self.requests
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("a gateway call")
    }

    /// Waits until the gateway has been called `n` times.
    pub async fn wait_for_calls(&self, n: usize) {
        for _ in 0..500 {
            if self.calls() >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("the gateway saw {} calls, expected {n}", self.calls());
    }
}

struct Fake(Arc<FakeState>);

#[tonic::async_trait]
impl TokenBroker for Fake {
    async fn mint_token(
        &self,
        request: Request<MintTokenRequest>,
    ) -> Result<Response<MintTokenResponse>, Status> {
        let bearer = request
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let req = request.into_inner();
        self.0.bearers.lock().unwrap().push(bearer);
        self.0.requests.lock().unwrap().push(req.clone());
        self.0.calls.fetch_add(1, Ordering::SeqCst);
        let behaviour = self.0.behaviour.lock().unwrap().clone();
        let kind = TokenKind::try_from(req.kind).unwrap_or(TokenKind::Unspecified);
        let token = match behaviour {
            Behaviour::Token => format!("token-{}-{}", req.provider, kind.as_str_name()),
            Behaviour::Fixed(token) => token,
            Behaviour::Jwt { app, user } => unsigned_jwt(if kind == TokenKind::UserPrincipal {
                &user
            } else {
                &app
            }),
            Behaviour::Fail {
                code,
                message,
                detail,
            } => {
                return Err(detail.into_status(code, message));
            }
            Behaviour::Hang => std::future::pending().await,
            Behaviour::Gated => {
                self.0.release.notified().await;
                format!("token-{}-{}", req.provider, kind.as_str_name())
            }
        };
        Ok(Response::new(MintTokenResponse {
            access_token: token,
            token_type: "Bearer".into(),
            expires_at_unix: unix_now() + 3600,
            scopes: req.scopes,
            cache_hit: false,
        }))
    }
}

pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

pub fn unsigned_jwt(claims: &serde_json::Value) -> String {
    let b64 = |v: &serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    format!(
        "{}.{}.c2ln",
        b64(&serde_json::json!({"alg": "RS256", "typ": "JWT"})),
        b64(claims)
    )
}

/// A fake gateway in its own runtime on its own thread, so that stopping it is like the process
/// dying: every connection is dropped mid-flight.
pub struct FakeGateway {
    pub addr: SocketAddr,
    pub state: Arc<FakeState>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeGateway {
    pub fn start(state: Arc<FakeState>) -> Self {
        Self::start_at(state, "127.0.0.1:0".parse().unwrap())
    }

    pub fn start_at(state: Arc<FakeState>, addr: SocketAddr) -> Self {
        capture::install();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let shared = state.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = TcpListener::bind(addr)
                    .await
                    .expect("bind the fake gateway");
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                let server = tonic::transport::Server::builder()
                    .add_service(TokenBrokerServer::new(Fake(shared)))
                    .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener));
                tokio::select! {
                    _ = server => {}
                    _ = stop_rx => {}
                }
            });
            // Dropping the runtime drops every connection task: the gateway "dies".
            drop(rt);
        });
        let addr = addr_rx.recv().expect("the fake gateway's address");
        Self {
            addr,
            state,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Kills the gateway: the listener and every connection close at once.
    pub fn kill(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for FakeGateway {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// A real resolver serving on 127.0.0.1:0.
pub struct Sandbox {
    pub addr: SocketAddr,
    pub urls: LocalUrls,
    /// The sandbox credential file, kept so it lives as long as the resolver.
    _credential_file: tempfile::NamedTempFile,
    stop: Option<oneshot::Sender<()>>,
    pub server: Option<JoinHandle<std::io::Result<()>>>,
}

pub struct Options {
    pub gateway: String,
    pub managed_identity: ManagedIdentityMode,
    pub timeout: Duration,
    pub allowed_hosts: Vec<String>,
    pub token_cache_ttl: Duration,
    /// How long the resolver serves on after the stop, `/readyz` already 503.
    pub drain_grace: Duration,
}

impl Options {
    pub fn new(gateway: String) -> Self {
        Self {
            gateway,
            managed_identity: ManagedIdentityMode::AppOnly {
                provider: AGENT.into(),
            },
            timeout: Duration::from_secs(2),
            allowed_hosts: Vec::new(),
            token_cache_ttl: agentmint_sandbox::DEFAULT_TOKEN_CACHE_TTL,
            drain_grace: Duration::ZERO,
        }
    }
}

pub fn credential_file() -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), format!("{CREDENTIAL}\n")).unwrap();
    file
}

impl Sandbox {
    pub async fn start(gateway: &FakeGateway) -> Self {
        Self::start_with(Options::new(gateway.url())).await
    }

    pub async fn start_with(options: Options) -> Self {
        capture::install();
        let credential_file = credential_file();
        let resolver = Resolver::new(SandboxConfig {
            gateway: options.gateway,
            gateway_tls: agentmint_sandbox::GatewayTls::default(),
            credential: SandboxCredential::from_file(credential_file.path()).unwrap(),
            providers: vec![AGENT.into(), BOT.into()],
            managed_identity: options.managed_identity,
            allowed_hosts: options.allowed_hosts,
            request_timeout: options.timeout,
            token_cache_ttl: options.token_cache_ttl,
            path_secret: None,
        })
        .unwrap()
        .with_drain_grace(options.drain_grace);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let urls = resolver.urls(addr);
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let server = tokio::spawn(resolver.serve(listener, async move {
            let _ = stop_rx.await;
        }));
        Self {
            addr,
            urls,
            _credential_file: credential_file,
            stop: Some(stop_tx),
            server: Some(server),
        }
    }

    /// The path (and no query) of a URL the resolver handed out.
    pub fn path_of(&self, url: &str) -> String {
        url.strip_prefix(&format!("http://{}", self.addr))
            .unwrap()
            .to_owned()
    }

    pub fn app_path(&self) -> String {
        self.path_of(&self.urls.provider(AGENT).unwrap().app_token_url)
    }

    pub fn user_path(&self) -> String {
        self.path_of(&self.urls.provider(AGENT).unwrap().user_token_url)
    }

    pub fn mi_path(&self) -> String {
        self.path_of(&self.urls.managed_identity.as_ref().unwrap().endpoint)
    }

    pub fn identity_header(&self) -> String {
        self.urls
            .managed_identity
            .as_ref()
            .unwrap()
            .identity_header
            .clone()
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.addr.port())
    }

    /// `GET target` with the right Host and `Metadata: true`.
    pub async fn get(&self, target: &str) -> Reply {
        self.send(&get(target, &self.host(), &[("Metadata", "true")]))
            .await
    }

    /// `GET` of the app-token URL with the right Host and exactly `headers`.
    pub async fn get_app_with(&self, headers: &[(&str, &str)]) -> Reply {
        self.send(&get(&self.app_path(), &self.host(), headers))
            .await
    }

    /// A request of `method` to the app-token URL with the right Host, exactly `headers` and `body`.
    pub async fn app_request(&self, method: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        self.send(&request(
            method,
            &self.app_path(),
            &self.host(),
            headers,
            body,
        ))
        .await
    }

    pub async fn send(&self, raw: &[u8]) -> Reply {
        send(self.addr, raw).await
    }

    /// Starts the graceful shutdown.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A raw `GET` with `Connection: close`.
pub fn get(target: &str, host: &str, headers: &[(&str, &str)]) -> Vec<u8> {
    request("GET", target, host, headers, b"")
}

/// A raw request with `Connection: close` and, with a body, `Content-Length`.
pub fn request(
    method: &str,
    target: &str,
    host: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Vec<u8> {
    let mut raw = format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (name, value) in headers {
        raw.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        raw.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    raw.push_str("\r\n");
    let mut raw = raw.into_bytes();
    raw.extend_from_slice(body);
    raw
}

/// A response as received.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// No CORS grant of any kind.
    pub fn assert_no_cors(&self) {
        for (name, _) in &self.headers {
            assert!(
                !name.to_ascii_lowercase().starts_with("access-control-"),
                "CORS header {name}"
            );
        }
    }
}

/// Writes `raw`, reads to EOF, parses a `Content-Length` response.
pub async fn send(addr: SocketAddr, raw: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(addr)
        .await
        .expect("connect to the resolver");
    stream.write_all(raw).await.unwrap();
    let mut bytes = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut bytes))
        .await
        .expect("the resolver answers")
        .unwrap();
    parse_reply(&bytes)
}

/// A JSON string field's text; panics on anything else.
pub fn text(value: &serde_json::Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"))
}

pub fn parse_reply(bytes: &[u8]) -> Reply {
    let text = String::from_utf8_lossy(bytes);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP head in {text:?}"));
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_owned(),
    }
}

/// An address where nothing listens (bound, then released).
pub async fn free_addr() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

/// Held by every test whose agent runs under [`agentmint_sandbox::launcher::run_agent`]: that
/// forwards the *process's* SIGTERM and SIGINT to its agent, so while one test raises SIGTERM on
/// purpose no other such agent may be running in this test binary.
pub async fn process_signals() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

/// [`agentmint_sandbox::launcher::run_agent`], alone among this binary's agents.
pub async fn run_agent(
    program: &str,
    args: &[String],
    env: Vec<(String, String)>,
) -> std::io::Result<u8> {
    let _alone = process_signals().await;
    agentmint_sandbox::launcher::run_agent(program, args, env).await
}

/// Waits (bounded) until an agent has written its `ready` file, i.e. its traps are set.
pub async fn wait_until_started(ready: &std::path::Path) {
    for _ in 0..500 {
        if ready.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(ready.exists(), "the agent did not start");
}

/// The exit code of an agent task that was signalled to stop.
pub async fn exit_code(agent: JoinHandle<std::io::Result<u8>>) -> u8 {
    tokio::time::timeout(Duration::from_secs(5), agent)
        .await
        .unwrap()
        .unwrap()
        .unwrap()
}
