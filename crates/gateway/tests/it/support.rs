//! The deployment every behaviour test runs against (the shared stack: emulator and the real
//! gateway on loopback port 0), and a tonic client authenticated as a sandbox.

use agentmint_emulator::Knobs;
use agentmint_proto::{
    ErrorDetail, MintTokenRequest, MintTokenResponse, TokenBrokerClient, TokenKind,
};
use agentmint_stack::{Blueprint, Layout, Provider, Sandbox, Stack, StackOptions, UserBy};
use prost::Message;
use tonic::transport::Channel;

pub use agentmint_stack::layout::{GRAPH_DEFAULT as GRAPH, MAIL_READ, USER_READ};
pub use agentmint_testkit::credential::credential_sha256 as sha;
pub use agentmint_testkit::jwt::claims;
pub const CRED_A: &str = "sandbox-a-credential-0123456789abcdef";
pub const CRED_B: &str = "sandbox-b-credential-fedcba9876543210";

/// Provider "agent" (with user) and "second" (another Blueprint, with user, named by UPN) and
/// "bot" (app, managed identity). Sandbox A has agent + bot; sandbox B has second.
fn layout() -> Layout {
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

/// The error detail a refusal carries.
pub fn detail(status: &tonic::Status) -> ErrorDetail {
    ErrorDetail::decode(status.details()).unwrap_or_default()
}
