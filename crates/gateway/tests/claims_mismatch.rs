//! RELIABILITY 26 at the gateway: a token whose claims are not what was asked is refused with a
//! message naming the claim — the managed-identity `appid` bug cannot ship silently.

use std::sync::Arc;

use agentmint_cache::{CachePolicy, SystemClock};
use agentmint_entra::ClientOptions;
use agentmint_proto::{ErrorDetail, MintTokenRequest, TokenBrokerClient, TokenKind};
use base64::Engine;
use prost::Message;
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TENANT: &str = "11111111-1111-1111-1111-111111111111";
const APP: &str = "22222222-2222-2222-2222-222222222222";
const MI_APPID: &str = "33333333-3333-3333-3333-333333333333";

fn unsigned_jwt(claims: serde_json::Value) -> String {
    let b64 = |v: &serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    format!(
        "{}.{}.c2ln",
        b64(&serde_json::json!({"alg":"RS256","typ":"JWT"})),
        b64(&claims)
    )
}

#[tokio::test]
async fn a_token_carrying_the_managed_identitys_appid_is_refused_naming_the_claim() {
    let upstream = MockServer::start().await;
    let wrong = unsigned_jwt(serde_json::json!({
        "aud": "https://graph.microsoft.com", "appid": MI_APPID, "tid": TENANT, "idtyp": "app", "oid": MI_APPID
    }));
    Mock::given(method("POST"))
        .and(path(format!("/{TENANT}/oauth2/v2.0/token")))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "token_type": "Bearer", "expires_in": 3599, "access_token": wrong
        })))
        .mount(&upstream)
        .await;

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("secret"), "dev-secret-value").unwrap();
    let credential = "sandbox-credential-for-claims-test";
    let config = format!(
        r#"[gateway]
authority_host = "{uri}"
[[provider]]
name = "bot"
kind = "app"
tenant = "{TENANT}"
client_id = "{APP}"
[provider.credential]
type = "client_secret"
secret_file = "secret"
[provider.scopes]
app_allowed = ["https://graph.microsoft.com/.default"]
[[sandbox]]
name = "s"
credential_sha256 = "{hash}"
providers = ["bot"]
"#,
        uri = upstream.uri(),
        hash = hex::encode(Sha256::digest(credential.as_bytes())),
    );
    let path = dir.path().join("gateway.toml");
    std::fs::write(&path, config).unwrap();
    let loaded = agentmint_config::load(&path).unwrap_or_else(|d| panic!("{d}"));
    let state = agentmint_gateway::build(
        &loaded.config,
        agentmint_gateway::GatewayOptions {
            clock: Arc::new(SystemClock),
            cache: CachePolicy::default(),
            client: ClientOptions::default(),
            config_path: None,
            env: Box::new(|_| None),
        },
    )
    .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(agentmint_gateway::serve(
        state,
        listener,
        None,
        std::future::pending(),
    ));
    let mut client = TokenBrokerClient::connect(url).await.unwrap();
    let mut request = tonic::Request::new(MintTokenRequest {
        provider: "bot".into(),
        kind: TokenKind::AppOnly as i32,
        scopes: vec!["https://graph.microsoft.com/.default".into()],
    });
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {credential}").parse().unwrap(),
    );
    let err = client.mint_token(request).await.unwrap_err();
    let detail = ErrorDetail::decode(err.details()).unwrap();
    assert_eq!(detail.reason, "CLAIMS_MISMATCH");
    assert!(err.message().contains("appid"), "{}", err.message());
    assert!(
        err.message().contains(MI_APPID) && err.message().contains(APP),
        "{}",
        err.message()
    );
    assert!(
        !err.message().contains("eyJ"),
        "no token fragment in the error"
    );
}
