//! RELIABILITY 26 at the gateway: a token whose claims are not what was asked is refused with a
//! message naming the claim — the managed-identity `appid` bug cannot ship silently.

use agentmint_proto::{FailureDetails, TokenBrokerClient, TokenKind};
use agentmint_testkit::jwt::unsigned;
use tokio::net::TcpListener;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{APP_CLIENT as APP, APP_TENANT as TENANT, AppGateway, request};

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

    let app = AppGateway::build(&upstream.uri(), "");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(agentmint_gateway::serve(
        app.gateway.state,
        app.gateway.drain,
        listener,
        None,
        std::future::pending(),
    ));
    let mut client = TokenBrokerClient::connect(url).await.unwrap();
    let err = client
        .mint_token(request(
            Some(app.credential),
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
