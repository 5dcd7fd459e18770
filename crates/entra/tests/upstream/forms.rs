//! Every grant's form and every credential source's request, pinned field for field against
//! PROTOCOL.md through the real client, plus proof that the matcher catches a wrong form.

use std::sync::Arc;

use agentmint_entra::credential::{ManagedIdentitySource, UserAssignedIdentity};
use agentmint_entra::grant::{self, ClientAuth};
use agentmint_entra::{
    Chain, Credential, Hop, ManagedIdentityCredential, NoCache, ScopeSet, Secret, SigningAlgorithm,
    UserSelector, WorkloadIdentityCredential,
};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use agentmint_testkit::jwt;

use crate::support::*;

fn scopes(s: &str) -> ScopeSet {
    ScopeSet::new([s]).unwrap()
}

async fn respond(server: &MockServer, form: ExactForm, token: &str) {
    token_post()
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(form)
        .respond_with(token_reply(token))
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn hop1_with_a_certificate_sends_exactly_the_protocol_fields() {
    let server = MockServer::start().await;
    let t1 = app_token(BLUEPRINT, "t1");
    respond(&server, hop1_form(), &t1).await;
    respond(&server, hop2_form(&t1, GRAPH), &app_token(AGENT_ID, "app")).await;
    let cred = certificate_credential(SigningAlgorithm::Ps256);
    let agent = agent(&server, Credential::Certificate(Arc::new(cred)));
    let chain = Chain::new(fast_client(), Arc::new(NoCache));
    chain.app_only_token(&agent, &scopes(GRAPH)).await.unwrap();
}

#[test]
fn the_matcher_rejects_a_hop1_form_without_fmi_path() {
    let body = format!(
        "grant_type=client_credentials&client_id={BLUEPRINT}&scope=api%3A%2F%2FAzureADTokenExchange%2F.default&client_assertion_type={}&client_assertion=a.b.c",
        urlencode(JWT_BEARER)
    );
    let err = hop1_form().check(body.as_bytes()).unwrap_err();
    assert!(err.contains("fmi_path"), "{err}");
    let with = format!("{body}&fmi_path={AGENT_ID}");
    assert_eq!(hop1_form().check(with.as_bytes()), Ok(()));
}

#[test]
fn the_matcher_rejects_extra_duplicate_and_wrong_fields() {
    let ok = format!(
        "grant_type=client_credentials&client_id={BLUEPRINT}&scope=api%3A%2F%2FAzureADTokenExchange%2F.default&fmi_path={AGENT_ID}&client_assertion_type={}&client_assertion=a.b.c",
        urlencode(JWT_BEARER)
    );
    assert!(
        hop1_form()
            .check(format!("{ok}&requested_token_use=on_behalf_of").as_bytes())
            .is_err()
    );
    assert!(
        hop1_form()
            .check(format!("{ok}&fmi_path={AGENT_ID}").as_bytes())
            .is_err()
    );
    assert!(
        hop1_form()
            .check(ok.replace("client_credentials", "password").as_bytes())
            .is_err()
    );
    assert!(
        hop1_form()
            .check(ok.replace("a.b.c", "not-a-jwt").as_bytes())
            .is_err()
    );
}

#[tokio::test]
async fn a_form_the_matcher_rejects_never_gets_a_token() {
    let server = MockServer::start().await;
    respond(&server, hop1_form(), &app_token(BLUEPRINT, "t1")).await;
    // A hop-1 form missing fmi_path: the exact matcher does not answer it, wiremock says 404.
    let mut form = grant::blueprint(
        BLUEPRINT,
        AGENT_ID,
        agentmint_entra::scope::EXCHANGE_SCOPE,
        ClientAuth::Assertion(Secret::new("a.b.c")),
    );
    form.retain(|(k, _)| *k != "fmi_path");
    let err = fast_client()
        .request_token(Hop::Blueprint, &authority(&server).token_endpoint(), &form)
        .await
        .unwrap_err();
    assert_eq!(err.status, Some(404));
    // Satisfy the `expect(1)` with the right form.
    let form = grant::blueprint(
        BLUEPRINT,
        AGENT_ID,
        agentmint_entra::scope::EXCHANGE_SCOPE,
        ClientAuth::Assertion(Secret::new("a.b.c")),
    );
    fast_client()
        .request_token(Hop::Blueprint, &authority(&server).token_endpoint(), &form)
        .await
        .unwrap();
}

#[tokio::test]
async fn hop2_sends_t1_as_the_assertion_with_the_resource_scope() {
    let server = MockServer::start().await;
    let t1 = app_token(BLUEPRINT, "t1");
    respond(&server, hop2_form(&t1, GRAPH), &app_token(AGENT_ID, "app")).await;
    let form = grant::agent_identity(AGENT_ID, &Secret::new(t1.clone()), &scopes(GRAPH));
    fast_client()
        .request_token(
            Hop::AgentIdentity,
            &authority(&server).token_endpoint(),
            &form,
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn hop3_sends_user_fic_with_t1_t2_user_id_and_client_info() {
    let server = MockServer::start().await;
    let (t1, t2) = (app_token(BLUEPRINT, "t1"), app_token(AGENT_ID, "t2"));
    let scope = "https://graph.microsoft.com/User.Read openid profile offline_access";
    respond(
        &server,
        hop3_form(&t1, &t2, "user_id", USER_OID, scope),
        &user_token("u"),
    )
    .await;
    let form = grant::agent_user(
        AGENT_ID,
        &Secret::new(t1.clone()),
        &Secret::new(t2.clone()),
        &UserSelector::ObjectId(USER_OID.into()),
        &scopes("https://graph.microsoft.com/User.Read"),
    );
    fast_client()
        .request_token(Hop::AgentUser, &authority(&server).token_endpoint(), &form)
        .await
        .unwrap();
}

#[test]
fn the_matcher_rejects_a_hop3_form_with_both_user_selectors_or_requested_token_use() {
    let form = hop3_form(
        "a.b.c",
        "d.e.f",
        "username",
        "u@x",
        "s openid profile offline_access",
    );
    let ok = "grant_type=user_fic&client_id=a1a1a1a1-0000-0000-0000-000000000002&scope=s+openid+profile+offline_access&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=a.b.c&user_federated_identity_credential=d.e.f&username=u%40x&client_info=1";
    assert_eq!(form.check(ok.as_bytes()), Ok(()));
    assert!(form.check(format!("{ok}&user_id=x").as_bytes()).is_err());
    assert!(
        form.check(format!("{ok}&requested_token_use=on_behalf_of").as_bytes())
            .is_err()
    );
    assert!(
        form.check(ok.replace("&client_info=1", "").as_bytes())
            .is_err()
    );
}

#[tokio::test]
async fn a_client_secret_replaces_the_assertion_fields_on_the_wire() {
    let server = MockServer::start().await;
    let form = app_form().eq("client_secret", "dev-secret-value");
    respond(&server, form, &app_token(APP_ID, "app")).await;
    let (cred, _dir) = secret_credential("dev-secret-value\n");
    app_registration_token(&server, cred).await;
}

#[tokio::test]
async fn a_workload_identity_token_file_is_the_client_assertion() {
    let server = MockServer::start().await;
    let federated = jwt::unsigned(
        &serde_json::json!({"iss": "https://oidc.example", "sub": "system:serviceaccount:ns:sa"}),
    );
    respond(
        &server,
        assertion_form(&federated),
        &app_token(APP_ID, "app"),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("token");
    std::fs::write(&path, format!("{federated}\n")).unwrap();
    let cred = Credential::WorkloadIdentity(Arc::new(WorkloadIdentityCredential::new(path)));
    app_registration_token(&server, cred).await;
}

#[tokio::test]
async fn imds_is_asked_with_its_api_version_metadata_header_and_identity_parameter() {
    let server = MockServer::start().await;
    let mi_token = app_token(MI_ID, "mi");
    Mock::given(method("GET"))
        .and(path("/metadata/identity/oauth2/token"))
        .and(header("Metadata", "true"))
        .and(ExactQuery::of(&[
            ("api-version", "2018-02-01"),
            ("resource", "api://AzureADTokenExchange"),
            ("msi_res_id", "/subscriptions/s/rg/r/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id"),
        ]))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": mi_token, "expires_in": "86399", "expires_on": in_an_hour().to_string(),
            "ext_expires_in": "86399", "not_before": "1700000000",
            "resource": "api://AzureADTokenExchange", "token_type": "Bearer"
        })))
        .expect(1)
        .mount(&server)
        .await;
    respond(
        &server,
        assertion_form(&mi_token),
        &app_token(APP_ID, "app"),
    )
    .await;

    let source = ManagedIdentitySource::Imds {
        endpoint: format!("{}/metadata/identity/oauth2/token", server.uri()),
    };
    let identity = UserAssignedIdentity::ResourceId(
        "/subscriptions/s/rg/r/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id"
            .into(),
    );
    let cred = Credential::ManagedIdentity(Arc::new(ManagedIdentityCredential::new(
        source,
        Some(identity),
    )));
    let minted = app_registration_token(&server, cred).await;
    assert!(minted.token.access_token.expose().contains('.'));
}

#[tokio::test]
async fn app_service_is_asked_with_its_api_version_identity_header_and_client_id() {
    let server = MockServer::start().await;
    let mi_token = app_token(MI_ID, "mi");
    Mock::given(method("GET"))
        .and(path("/msi/token"))
        .and(header("X-IDENTITY-HEADER", "identity-header-value"))
        .and(ExactQuery::of(&[
            ("api-version", "2019-08-01"),
            ("resource", "api://AzureADTokenExchange"),
            ("client_id", MI_ID),
        ]))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": mi_token, "expires_on": in_an_hour(),
            "resource": "api://AzureADTokenExchange", "token_type": "Bearer", "client_id": MI_ID
        })))
        .expect(1)
        .mount(&server)
        .await;
    let form = hop1_form().eq("client_assertion", mi_token.clone());
    respond(&server, form, &app_token(BLUEPRINT, "t1")).await;
    token_post()
        .and(hop2_form(&app_token(BLUEPRINT, "t1"), GRAPH))
        .respond_with(token_reply(&app_token(AGENT_ID, "app")))
        .expect(1)
        .mount(&server)
        .await;

    let env = |name: &str| match name {
        "IDENTITY_ENDPOINT" => Some(format!("{}/msi/token", server.uri())),
        "IDENTITY_HEADER" => Some("identity-header-value".to_owned()),
        _ => None,
    };
    let source = ManagedIdentitySource::from_env(&env);
    let cred =
        ManagedIdentityCredential::new(source, Some(UserAssignedIdentity::ClientId(MI_ID.into())));
    let agent = agent(&server, Credential::ManagedIdentity(Arc::new(cred)));
    let chain = Chain::new(fast_client(), Arc::new(NoCache));
    chain.app_only_token(&agent, &scopes(GRAPH)).await.unwrap();
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("x", s)]).unwrap()[2..].to_owned()
}

/// The app registration's `client_credentials` form for Graph, before its client authentication.
fn app_form() -> ExactForm {
    ExactForm::new()
        .eq("grant_type", "client_credentials")
        .eq("client_id", APP_ID)
        .eq("scope", GRAPH)
}

/// [`app_form`] authenticated by the client assertion `assertion`.
fn assertion_form(assertion: &str) -> ExactForm {
    app_form()
        .eq("client_assertion_type", JWT_BEARER)
        .eq("client_assertion", assertion.to_owned())
}

/// The app registration's Graph token with `credential`, from `server` (no cache).
async fn app_registration_token(
    server: &MockServer,
    credential: Credential,
) -> agentmint_entra::Minted {
    Chain::new(fast_client(), Arc::new(NoCache))
        .app_registration_token(&app(server, credential), &scopes(GRAPH))
        .await
        .unwrap()
}
