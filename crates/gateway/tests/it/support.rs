//! The deployment every behaviour test runs against (the shared stack: emulator and the real
//! gateway on loopback port 0), and a tonic client authenticated as a sandbox.

use agentmint_emulator::Knobs;
use agentmint_proto::{
    FailureDetails, MintTokenRequest, MintTokenResponse, TokenBrokerClient, TokenKind,
};
use agentmint_stack::{Blueprint, Layout, Provider, Sandbox, Stack, StackOptions, UserBy};
use tonic::transport::Channel;

pub use agentmint_stack::layout::{GRAPH_DEFAULT as GRAPH, MAIL_READ, USER_READ};
pub use agentmint_testkit::credential::credential_sha256 as sha;
pub use agentmint_testkit::jwt::claims;
pub const CRED_A: &str = "sandbox-a-credential-0123456789abcdef";
pub const CRED_B: &str = "sandbox-b-credential-fedcba9876543210";

/// Provider "agent" (with user) and "second" (another Blueprint, with user, named by UPN) and
/// "bot" (app, managed identity). Sandbox A has agent + bot; sandbox B has second.
pub fn layout() -> Layout {
    Layout {
        providers: vec![
            Provider::first_agent("agent", &[USER_READ, MAIL_READ]),
            Provider::agent("second", Blueprint::Second, Some(UserBy::Upn), &[USER_READ]),
            Provider::bot("bot"),
        ],
        sandboxes: vec![
            Sandbox {
                credential: CRED_A.into(),
                ..Sandbox::new("sandbox-a", &["agent", "bot"])
            },
            Sandbox {
                credential: CRED_B.into(),
                ..Sandbox::new("sandbox-b", &["second"])
            },
        ],
        extra_config: String::new(),
    }
}

/// The stack with the emulator's default knobs.
pub async fn start() -> Stack {
    start_with(Knobs::default()).await
}

/// The stack with the emulator's default knobs, and a client of its gateway.
pub async fn start_connected() -> (Stack, TokenBrokerClient<Channel>) {
    let stack = start().await;
    let client = connect(&stack).await;
    (stack, client)
}

/// The stack with the emulator misbehaving as `knobs` say.
pub async fn start_with(knobs: Knobs) -> Stack {
    Stack::start(StackOptions {
        layout: layout(),
        knobs,
        ..StackOptions::default()
    })
    .await
    .unwrap()
}

/// A client of the stack's gateway.
pub async fn connect(stack: &Stack) -> TokenBrokerClient<Channel> {
    TokenBrokerClient::connect(stack.gateway_url.clone())
        .await
        .unwrap()
}

/// Upstream requests the emulator served for a hop and outcome.
pub fn upstream(stack: &Stack, hop: &str, outcome: &str) -> u64 {
    stack.emulator.stats().count(hop, outcome)
}

/// Upstream requests the emulator served, whatever their hop and outcome.
pub fn upstream_total(stack: &Stack) -> u64 {
    stack.emulator.stats().total()
}

/// A `MintToken` request, with `credential` as its bearer when given.
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

/// Mints as the sandbox whose credential is `credential`.
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

/// Mints as sandbox A, expecting a token.
pub async fn minted_a(
    client: &mut TokenBrokerClient<Channel>,
    provider: &str,
    kind: TokenKind,
    scopes: &[&str],
) -> MintTokenResponse {
    mint(client, CRED_A, provider, kind, scopes).await.unwrap()
}

/// Mints as sandbox A, expecting a refusal.
pub async fn refused_a(
    client: &mut TokenBrokerClient<Channel>,
    provider: &str,
    kind: TokenKind,
    scopes: &[&str],
) -> tonic::Status {
    mint(client, CRED_A, provider, kind, scopes)
        .await
        .unwrap_err()
}

/// The error details a refusal carries (gRPC's standard `ErrorInfo` and `RetryInfo`).
pub fn detail(status: &tonic::Status) -> FailureDetails {
    FailureDetails::from_status(status).unwrap_or_default()
}

/// A gateway serving one app provider, "bot" (client secret), against `upstream` (a mock token
/// endpoint), built from a real config whose `[gateway]` section also holds `gateway_extra`.
pub struct AppGateway {
    pub gateway: agentmint_gateway::Gateway,
    pub credential: &'static str,
    _dir: tempfile::TempDir,
}

/// The tenant and client id of [`AppGateway`]'s provider, as its tokens must carry them.
pub const APP_TENANT: &str = "11111111-1111-1111-1111-111111111111";
pub const APP_CLIENT: &str = "22222222-2222-2222-2222-222222222222";
/// The token endpoint path of [`AppGateway`]'s tenant.
pub fn app_token_path() -> String {
    format!("/{APP_TENANT}/oauth2/v2.0/token")
}

/// A token response [`AppGateway`]'s claims check accepts for Graph.
pub fn app_token_response() -> serde_json::Value {
    let token = agentmint_testkit::jwt::unsigned(&serde_json::json!({
        "aud": "https://graph.microsoft.com", "appid": APP_CLIENT, "tid": APP_TENANT,
        "idtyp": "app", "oid": APP_CLIENT
    }));
    serde_json::json!({ "token_type": "Bearer", "expires_in": 3599, "access_token": token })
}

impl AppGateway {
    pub fn build(upstream: &str, gateway_extra: &str) -> Self {
        Self::build_with(
            upstream,
            gateway_extra,
            agentmint_gateway::Overrides::default(),
        )
    }

    /// As [`build`](Self::build), with `overrides` (their `env` is always empty).
    pub fn build_with(
        upstream: &str,
        gateway_extra: &str,
        overrides: agentmint_gateway::Overrides,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("secret"), "dev-secret-value").unwrap();
        let credential = "sandbox-credential-for-app-gateway";
        let provider = agentmint_testkit::config::one_provider(
            "bot",
            &format!("kind = \"app\"\ntenant = \"{APP_TENANT}\"\nclient_id = \"{APP_CLIENT}\""),
            "type = \"client_secret\"\nsecret_file = \"secret\"",
            &sha(credential),
        );
        let config =
            format!("[gateway]\nauthority_host = \"{upstream}\"\n{gateway_extra}\n{provider}");
        let path = dir.path().join("gateway.toml");
        std::fs::write(&path, config).unwrap();
        let loaded = agentmint_config::load(&path).unwrap_or_else(|d| panic!("{d}"));
        let gateway = agentmint_gateway::Gateway::from_config(
            &loaded,
            agentmint_gateway::Overrides {
                env: Some(Box::new(|_| None)),
                ..overrides
            },
        )
        .unwrap();
        Self {
            gateway,
            credential,
            _dir: dir,
        }
    }
}

/// The status code of `GET path` on a plain HTTP server (the admin port).
pub async fn http_status(addr: std::net::SocketAddr, path: &str) -> Option<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).await.ok()?;
    let text = String::from_utf8_lossy(&reply);
    text.split_whitespace().nth(1)?.parse().ok()
}

/// A raw HTTP/1.1 answer: status, header block (lower-cased names) and body.
pub struct HttpReply {
    pub status: u16,
    pub headers: String,
    pub body: String,
}

impl HttpReply {
    /// The value of header `name` (lower case), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.lines().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            (n.trim().eq_ignore_ascii_case(name)).then(|| v.trim())
        })
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.body))
    }
}

/// `GET url` with `Metadata: true`, as an agent asks its resolver, over a fresh connection.
pub async fn agent_get(url: &str) -> HttpReply {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").expect("an http:// URL");
    let (authority, target) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut stream = tokio::net::TcpStream::connect(authority).await.unwrap();
    let request = format!(
        "GET {target} HTTP/1.1\r\nHost: {authority}\r\nMetadata: true\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut reply = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(30),
        stream.read_to_end(&mut reply),
    )
    .await
    .expect("the resolver answers")
    .unwrap();
    let text = String::from_utf8_lossy(&reply).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let (status_line, headers) = head.split_once("\r\n").unwrap_or((head, ""));
    HttpReply {
        status: status_line
            .split_whitespace()
            .nth(1)
            .unwrap()
            .parse()
            .unwrap(),
        headers: headers.to_owned(),
        body: body.to_owned(),
    }
}

/// Asserts a refusal's gRPC code and the reason its error detail carries.
#[track_caller]
pub fn assert_refused(status: &tonic::Status, code: tonic::Code, reason: &str) {
    assert_eq!(
        (status.code(), detail(status).reason.as_str()),
        (code, reason),
        "{}",
        status.message()
    );
}
