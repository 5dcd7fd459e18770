//! RELIABILITY 26 at the gateway: a token whose claims are not what was asked is refused with a
//! message naming the claim — the managed-identity `appid` bug cannot ship silently.

use agentmint_proto::{FailureDetails, TokenBrokerClient, TokenKind};
use agentmint_testkit::config::one_provider;
use agentmint_testkit::credential::credential_sha256;
use agentmint_testkit::jwt::unsigned;
use tokio::net::TcpListener;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::request;

const TENANT: &str = "11111111-1111-1111-1111-111111111111";
const APP: &str = "22222222-2222-2222-2222-222222222222";
const MI_APPID: &str = "33333333-3333-3333-3333-333333333333";

#[tokio::test]
async fn a_token_carrying_the_managed_identitys_appid_is_refused_naming_the_claim() {
    let upstream = MockServer::start().await;
    let wrong = unsigned(&serde_json::json!({
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
    let provider = one_provider(
        "bot",
        &format!("kind = \"app\"\ntenant = \"{TENANT}\"\nclient_id = \"{APP}\""),
        "type = \"client_secret\"\nsecret_file = \"secret\"",
        &credential_sha256(credential),
    );
    let config = format!(
        "[gateway]\nauthority_host = \"{}\"\n{provider}",
        upstream.uri()
    );
    let path = dir.path().join("gateway.toml");
    std::fs::write(&path, config).unwrap();
    let loaded = agentmint_config::load(&path).unwrap_or_else(|d| panic!("{d}"));
    let gateway = agentmint_gateway::Gateway::from_config(
        &loaded,
        agentmint_gateway::Overrides {
            env: Some(Box::new(|_| None)),
            ..Default::default()
        },
    )
    .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(agentmint_gateway::serve(
        gateway.state,
        gateway.drain,
        listener,
        None,
        std::future::pending(),
    ));
    let mut client = TokenBrokerClient::connect(url).await.unwrap();
    let err = client
        .mint_token(request(
            Some(credential),
            "bot",
            TokenKind::AppOnly,
            &["https://graph.microsoft.com/.default"],
        ))
        .await
        .unwrap_err();
    let detail = FailureDetails::from_status(&err).unwrap();
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
