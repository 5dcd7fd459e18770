//! The App Service-style managed-identity endpoint that unmodified Azure SDKs call.

use crate::common;
use agentmint_proto::{FailureDetails, Reason, TokenKind};
use agentmint_sandbox::ManagedIdentityMode;
use common::{AGENT, Behaviour, FakeGateway, FakeState, Options, Sandbox, get, text};
use serde_json::json;
use tonic::Code;

const APPID: &str = "aaaaaaaa-0000-4000-8000-000000000001";
const USER_OID: &str = "uuuuuuuu-0000-4000-8000-000000000002";

fn jwt_behaviour() -> Behaviour {
    Behaviour::Jwt {
        app: json!({"appid": APPID, "idtyp": "app", "oid": APPID}),
        user: json!({"appid": APPID, "idtyp": "user", "oid": USER_OID}),
    }
}

async fn setup(mode: ManagedIdentityMode) -> (FakeGateway, Sandbox) {
    let gateway = FakeGateway::start(FakeState::new(jwt_behaviour()));
    let mut options = Options::new(gateway.url());
    options.managed_identity = mode;
    let sandbox = Sandbox::start_with(options).await;
    (gateway, sandbox)
}

fn app_mode() -> ManagedIdentityMode {
    ManagedIdentityMode::AppOnly {
        provider: AGENT.into(),
    }
}

/// The query of an SDK asking for a Graph token.
const GRAPH_QUERY: &str = "api-version=2019-08-01&resource=https://graph.microsoft.com";

fn mi_target(sandbox: &Sandbox, query: &str) -> String {
    format!("{}?{query}", sandbox.mi_path())
}

/// What the Azure SDKs send: the secret header, no `Metadata` (the JS SDK sends none).
async fn sdk_get(sandbox: &Sandbox, query: &str) -> common::Reply {
    let header = sandbox.identity_header();
    mi_get(sandbox, query, &[("X-IDENTITY-HEADER", &header)]).await
}

/// A GET of the managed-identity endpoint with `query` and exactly `headers` (besides `Host`).
async fn mi_get(sandbox: &Sandbox, query: &str, headers: &[(&str, &str)]) -> common::Reply {
    sandbox
        .send(&get(&mi_target(sandbox, query), &sandbox.host(), headers))
        .await
}

#[tokio::test]
async fn returns_the_app_service_response_shape() {
    let (gateway, sandbox) = setup(app_mode()).await;
    let reply = sdk_get(&sandbox, GRAPH_QUERY).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let body = reply.json();
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 5, "{keys:?}");
    assert_eq!(body["resource"], "https://graph.microsoft.com");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["client_id"], APPID);
    let expires_on: i64 = body["expires_on"]
        .as_str()
        .expect("expires_on is a string")
        .parse()
        .unwrap();
    assert!(expires_on > common::unix_now());
    assert!(text(&body["access_token"]).contains('.'));
    let sent = gateway.state.last_request();
    assert_eq!(sent.scopes, ["https://graph.microsoft.com/.default"]);
    assert_eq!(sent.kind, TokenKind::AppOnly as i32);
    assert_eq!(sent.provider, AGENT);
}

#[tokio::test]
async fn user_mode_serves_the_agent_user_token() {
    let (gateway, sandbox) = setup(ManagedIdentityMode::User {
        provider: AGENT.into(),
    })
    .await;
    let reply = sdk_get(
        &sandbox,
        "api-version=2019-08-01&resource=https://graph.microsoft.com/",
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        gateway.state.last_request().kind,
        TokenKind::UserPrincipal as i32
    );
    assert_eq!(
        gateway.state.last_request().scopes,
        ["https://graph.microsoft.com/.default"]
    );
}

#[tokio::test]
async fn a_missing_identity_header_is_refused_in_the_app_service_error_shape() {
    let (gateway, sandbox) = setup(app_mode()).await;
    let reply = mi_get(&sandbox, GRAPH_QUERY, &[("Metadata", "true")]).await;
    assert_eq!(reply.status, 400);
    let body = reply.json();
    assert_eq!(body["statusCode"], 400);
    assert!(text(&body["message"]).contains("X-IDENTITY-HEADER"));
    assert!(!text(&body["correlationId"]).is_empty());
    assert_eq!(gateway.state.calls(), 0);
}

#[tokio::test]
async fn a_wrong_identity_header_is_refused_with_401() {
    let (gateway, sandbox) = setup(app_mode()).await;
    let wrong = "0".repeat(64);
    let reply = mi_get(&sandbox, GRAPH_QUERY, &[("X-IDENTITY-HEADER", &wrong)]).await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.json()["statusCode"], 401);
    assert!(!reply.body.contains(&wrong));
    assert_eq!(gateway.state.calls(), 0);
}

#[tokio::test]
async fn a_missing_resource_or_api_version_is_a_400() {
    let (gateway, sandbox) = setup(app_mode()).await;
    for query in [
        "api-version=2019-08-01",
        "resource=https://graph.microsoft.com",
        "api-version=2017-09-01&resource=r",
    ] {
        assert_eq!(sdk_get(&sandbox, query).await.status, 400, "{query}");
    }
    assert_eq!(gateway.state.calls(), 0);
}

#[tokio::test]
async fn a_client_id_selector_must_name_the_served_identity() {
    let (_gateway, sandbox) = setup(app_mode()).await;
    let ok = sdk_get(
        &sandbox,
        &format!("api-version=2019-08-01&resource=https://graph.microsoft.com&client_id={APPID}"),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let other = sdk_get(
        &sandbox,
        "api-version=2019-08-01&resource=https://graph.microsoft.com&client_id=someone-else",
    )
    .await;
    assert_eq!(other.status, 400);
    assert!(!other.body.contains("someone-else"));
    assert!(!other.body.contains("access_token"));
}

#[tokio::test]
async fn gateway_failures_use_the_app_service_error_shape_with_retry_after() {
    let detail = FailureDetails {
        correlation_id: Some("corr-77".into()),
        retry_after: Some(std::time::Duration::from_secs(3)),
        ..FailureDetails::new(Reason::UpstreamUnavailable)
    };
    let gateway = FakeGateway::start(FakeState::new(Behaviour::fail(
        Code::Unavailable,
        "upstream said something",
        detail,
    )));
    let sandbox = Sandbox::start(&gateway).await;
    let reply = sdk_get(&sandbox, GRAPH_QUERY).await;
    assert_eq!(reply.status, 503);
    assert_eq!(reply.header("retry-after"), Some("3"));
    let body = reply.json();
    assert_eq!(body["statusCode"], 503);
    assert_eq!(body["correlationId"], "corr-77");
    assert!(!reply.body.contains("upstream said"));
}

#[tokio::test]
async fn the_endpoint_does_not_exist_when_managed_identity_is_off() {
    let (gateway, on) = setup(app_mode()).await;
    let mi_path = on.mi_path();
    let mut options = Options::new(gateway.url());
    options.managed_identity = ManagedIdentityMode::Off;
    let off = Sandbox::start_with(options).await;
    assert!(off.urls.managed_identity.is_none());
    // The same shape of path on the other resolver (with its own secret) is unknown.
    let secret = off.app_path().split('/').nth(1).unwrap().to_owned();
    let path = format!("/{secret}/msi/token?api-version=2019-08-01&resource=r");
    let reply = off
        .send(&get(&path, &off.host(), &[("X-IDENTITY-HEADER", "x")]))
        .await;
    assert_eq!(reply.status, 404);
    assert!(mi_path.ends_with("/msi/token"));
    assert_eq!(gateway.state.calls(), 0);
}
