//! Whole chains against wiremock: request counts, cache use, refresh through the cache, and the
//! claims check after every hop.

use std::sync::Arc;
use std::time::Duration;

use agentmint_base::ManualClock;
use agentmint_entra::credential::{ManagedIdentitySource, UserAssignedIdentity};
use agentmint_entra::{
    Chain, Credential, ErrorClass, Hop, HopKey, ManagedIdentityCredential, NoCache, Reason,
    ScopeSet, SigningAlgorithm, UserSelector,
};
use serde_json::json;
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use agentmint_testkit::jwt;

use crate::support::*;

const USER_READ: &str = "https://graph.microsoft.com/User.Read";

fn scopes(s: &str) -> ScopeSet {
    ScopeSet::new([s]).unwrap()
}

fn certificate() -> Credential {
    Credential::Certificate(Arc::new(certificate_credential(SigningAlgorithm::Ps256)))
}

struct Tokens {
    t1: String,
    t2: String,
    app: String,
    user: String,
}

impl Tokens {
    fn good() -> Self {
        Self {
            t1: app_token(BLUEPRINT, "t1"),
            t2: app_token(AGENT_ID, "t2"),
            app: app_token(AGENT_ID, "app"),
            user: user_token("user"),
        }
    }

    /// The good tokens with one changed by `edit`.
    fn good_but(edit: impl FnOnce(&mut Tokens)) -> Self {
        let mut tokens = Self::good();
        edit(&mut tokens);
        tokens
    }
}

/// A token endpoint serving the three hops with `t`, each answering only its exact form.
async fn agent_hops(t: &Tokens) -> MockServer {
    let server = MockServer::start().await;
    let hop3_scope = format!("{USER_READ} openid profile offline_access");
    let routes = [
        (hop1_form(), t.t1.clone()),
        (
            hop2_form(&t.t1, "api://AzureADTokenExchange/.default"),
            t.t2.clone(),
        ),
        (hop2_form(&t.t1, GRAPH), t.app.clone()),
        (
            hop3_form(&t.t1, &t.t2, "user_id", USER_OID, &hop3_scope),
            t.user.clone(),
        ),
    ];
    for (form, token) in routes {
        token_answer(form, &token).mount(&server).await;
    }
    server
}

async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.unwrap().len()
}

/// Mounts hop 3 for the Agent User named by UPN (`agent_hops` names it by object id).
async fn mount_upn_hop3(server: &MockServer, t: &Tokens) {
    let hop3_scope = format!("{USER_READ} openid profile offline_access");
    let form = hop3_form(&t.t1, &t.t2, "username", USER_UPN, &hop3_scope);
    token_answer(form, &t.user).mount(server).await;
}

#[tokio::test]
async fn an_app_only_token_takes_exactly_two_requests() {
    let t = Tokens::good();
    let server = agent_hops(&t).await;
    let chain = Chain::new(fast_client(), MapCache::new());
    let minted = chain
        .app_only_token(&agent(&server, certificate()), &scopes(GRAPH))
        .await
        .unwrap();
    assert_eq!(minted.token.access_token.expose(), t.app);
    assert_eq!(requests(&server).await, 2);
}

#[tokio::test]
async fn an_agent_user_token_takes_exactly_three_requests_and_then_none() {
    let t = Tokens::good();
    let server = agent_hops(&t).await;
    let chain = Chain::new(fast_client(), MapCache::new());
    let agent = agent(&server, certificate());
    let user = UserSelector::ObjectId(USER_OID.into());
    let minted = chain
        .agent_user_token(&agent, &user, &scopes(USER_READ))
        .await
        .unwrap();
    assert_eq!(minted.token.access_token.expose(), t.user);
    assert!(!minted.cache_hit);
    assert_eq!(requests(&server).await, 3);

    let again = chain
        .agent_user_token(&agent, &user, &scopes(USER_READ))
        .await
        .unwrap();
    assert!(again.cache_hit);
    // The app-only token reuses the cached T1: one more request (hop 2).
    chain.app_only_token(&agent, &scopes(GRAPH)).await.unwrap();
    assert_eq!(requests(&server).await, 4);
}

#[tokio::test]
async fn no_cache_mints_every_hop_on_every_call() {
    let server = agent_hops(&Tokens::good()).await;
    let chain = Chain::new(fast_client(), Arc::new(NoCache));
    let agent = agent(&server, certificate());
    let first = chain.app_only_token(&agent, &scopes(GRAPH)).await.unwrap();
    chain.app_only_token(&agent, &scopes(GRAPH)).await.unwrap();
    assert!(!first.cache_hit);
    assert_eq!(requests(&server).await, 4);
    // The user chain: T1 for T2, T2, T1 again for hop 3, hop 3.
    let user = UserSelector::ObjectId(USER_OID.into());
    chain
        .agent_user_token(&agent, &user, &scopes(USER_READ))
        .await
        .unwrap();
    assert_eq!(requests(&server).await, 8);
}

#[tokio::test]
async fn a_refresh_of_hop2_gets_t1_through_the_cache() {
    let server = agent_hops(&Tokens::good()).await;
    let cache = MapCache::new();
    let chain = Chain::new(fast_client(), cache.clone());
    chain
        .app_only_token(&agent(&server, certificate()), &scopes(GRAPH))
        .await
        .unwrap();
    let hop2 = cache
        .keys()
        .into_iter()
        .find(|k| matches!(k, HopKey::AgentIdentity(_)))
        .unwrap();
    cache.lookups.lock().unwrap().clear();

    cache.refresh(&hop2).await.unwrap();
    assert_eq!(requests(&server).await, 3, "only hop 2 was called again");
    let lookups = cache.lookups.lock().unwrap().clone();
    assert_eq!(lookups.len(), 1);
    assert!(
        matches!(lookups[0], (HopKey::Exchange(ref k), true) if k.fmi_path == AGENT_ID && k.client_id == BLUEPRINT)
    );
}

#[tokio::test]
async fn the_t1_key_names_the_credential_fingerprint_and_fmi_path() {
    let server = agent_hops(&Tokens::good()).await;
    let cache = MapCache::new();
    let chain = Chain::new(fast_client(), cache.clone());
    let credential = certificate();
    chain
        .app_only_token(&agent(&server, credential.clone()), &scopes(GRAPH))
        .await
        .unwrap();
    let key = cache.keys().into_iter().find_map(|k| match k {
        HopKey::Exchange(k) => Some(k),
        _ => None,
    });
    let key = key.unwrap();
    assert_eq!(key.credential, credential.fingerprint());
    assert_eq!(
        (key.tenant.as_str(), key.fmi_path.as_str()),
        (TENANT, AGENT_ID)
    );
    assert_eq!(
        key.authority_host,
        server.uri(),
        "the trailing slash is trimmed"
    );
}

async fn mismatch(t: Tokens, user: bool) -> agentmint_entra::EntraError {
    let server = agent_hops(&t).await;
    let chain = Chain::new(fast_client(), Arc::new(NoCache));
    let agent = agent(&server, certificate());
    let err = if user {
        let user = UserSelector::ObjectId(USER_OID.into());
        chain
            .agent_user_token(&agent, &user, &scopes(USER_READ))
            .await
            .unwrap_err()
    } else {
        chain
            .app_only_token(&agent, &scopes(GRAPH))
            .await
            .unwrap_err()
    };
    assert_eq!(
        (err.class, err.reason),
        (ErrorClass::Permanent, Reason::ClaimsMismatch)
    );
    err
}

/// Tokens whose claims do not match what was asked for, each refused at its hop with a message
/// naming the claim (and, where given, both the expected and the found value).
#[tokio::test]
async fn a_token_with_the_wrong_claims_is_refused_at_its_hop() {
    let other_tenant = jwt::unsigned(
        &json!({"tid": "99999999-9999-9999-9999-999999999999", "appid": AGENT_ID, "idtyp": "app"}),
    );
    let other_user = jwt::unsigned(
        &json!({"tid": TENANT, "aud": GRAPH_RESOURCE, "appid": AGENT_ID, "idtyp": "user", "oid": MI_ID}),
    );
    let other_resource = jwt::unsigned(
        &json!({"tid": TENANT, "aud": "https://management.azure.com", "appid": AGENT_ID, "idtyp": "app"}),
    );
    let graph_t1 = jwt::unsigned(
        &json!({"tid": TENANT, "aud": GRAPH_RESOURCE, "appid": BLUEPRINT, "idtyp": "app"}),
    );
    // The good tokens but one, whether the user chain runs, the hop that refuses, the needles.
    #[rustfmt::skip]
    let cases: [(Tokens, bool, Hop, &[&str]); 7] = [
        (Tokens::good_but(|t| t.t1 = app_token(APP_ID, "t1")), false, Hop::Blueprint, &["appid", APP_ID, BLUEPRINT]),
        (Tokens::good_but(|t| t.app = other_tenant), false, Hop::AgentIdentity, &["tid"]),
        (Tokens::good_but(|t| t.t2 = app_token(BLUEPRINT, "t2")), true, Hop::AgentIdentity, &["appid"]),
        (Tokens::good_but(|t| t.user = app_token(AGENT_ID, "user")), true, Hop::AgentUser, &["idtyp"]),
        (Tokens::good_but(|t| t.user = other_user), true, Hop::AgentUser, &["oid", MI_ID, USER_OID]),
        (Tokens::good_but(|t| t.app = other_resource), false, Hop::AgentIdentity, &["aud", "https://management.azure.com", GRAPH_RESOURCE]),
        (Tokens::good_but(|t| t.t1 = graph_t1), false, Hop::Blueprint, &["aud", EXCHANGE_APP_ID]),
    ];
    for (tokens, user, hop, needles) in cases {
        let err = mismatch(tokens, user).await;
        assert_eq!(err.hop, hop, "{}", err.message);
        for needle in needles {
            assert!(err.message.contains(needle), "{needle}: {}", err.message);
        }
    }
}

async fn mount_app_service_mi(server: &MockServer) -> Credential {
    Mock::given(method("GET"))
        .and(path("/msi/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": app_token(MI_ID, "mi"), "expires_on": in_an_hour().to_string(),
            "resource": "api://AzureADTokenExchange", "token_type": "Bearer", "client_id": MI_ID
        })))
        .mount(server)
        .await;
    let source = ManagedIdentitySource::AppService {
        endpoint: format!("{}/msi/token", server.uri()),
        header: "h".into(),
    };
    let mi =
        ManagedIdentityCredential::new(source, Some(UserAssignedIdentity::ClientId(MI_ID.into())));
    Credential::ManagedIdentity(Arc::new(mi))
}

#[tokio::test]
async fn a_managed_identity_token_returned_as_the_apps_token_is_refused_naming_appid() {
    let server = MockServer::start().await;
    let credential = mount_app_service_mi(&server).await;
    // A broken upstream (or the openclaw bug's shape): the "app token" carries the MI's appid.
    token_post()
        .respond_with(token_reply(&app_token(MI_ID, "wrong")))
        .mount(&server)
        .await;
    let chain = Chain::new(fast_client(), Arc::new(NoCache));
    let err = chain
        .app_registration_token(&app(&server, credential), &scopes(GRAPH))
        .await
        .unwrap_err();
    assert_eq!((err.hop, err.reason), (Hop::App, Reason::ClaimsMismatch));
    assert!(
        err.message.contains("appid")
            && err.message.contains(MI_ID)
            && err.message.contains(APP_ID),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn the_managed_identity_assertion_is_cached_across_scopes() {
    let server = MockServer::start().await;
    let credential = mount_app_service_mi(&server).await;
    let vault = jwt::unsigned(
        &json!({"tid": TENANT, "aud": "https://vault.azure.net", "appid": APP_ID, "idtyp": "app"}),
    );
    token_post()
        .and(body_string_contains("vault.azure.net"))
        .respond_with(token_reply(&vault))
        .with_priority(1)
        .mount(&server)
        .await;
    token_post()
        .respond_with(token_reply(&app_token(APP_ID, "app")))
        .mount(&server)
        .await;
    let cache = MapCache::new();
    let chain = Chain::new(fast_client(), cache.clone());
    let app = app(&server, credential);
    chain
        .app_registration_token(&app, &scopes(GRAPH))
        .await
        .unwrap();
    chain
        .app_registration_token(&app, &scopes("https://vault.azure.net/.default"))
        .await
        .unwrap();
    let received = server.received_requests().await.unwrap();
    let gets = received
        .iter()
        .filter(|r| r.method.as_str() == "GET")
        .count();
    assert_eq!((gets, received.len()), (1, 3));
    assert!(cache.keys().iter().any(
        |k| matches!(k, HopKey::ManagedIdentity(m) if m.resource == "api://AzureADTokenExchange")
    ));
}

#[tokio::test]
async fn an_expired_certificate_fails_hop1_without_calling_entra() {
    let server = agent_hops(&Tokens::good()).await;
    let clock = ManualClock::starting_at(cert_not_after() + Duration::from_secs(60));
    let cred = certificate_credential(SigningAlgorithm::Ps256).with_clock(Arc::new(clock));
    let chain = Chain::new(fast_client(), Arc::new(NoCache));
    let err = chain
        .app_only_token(
            &agent(&server, Credential::Certificate(Arc::new(cred))),
            &scopes(GRAPH),
        )
        .await
        .unwrap_err();
    assert_eq!(
        (err.hop, err.class, err.reason),
        (Hop::Blueprint, ErrorClass::Permanent, Reason::Credential)
    );
    assert!(err.message.contains("expired"), "{}", err.message);
    assert_eq!(requests(&server).await, 0);
}

#[tokio::test]
async fn an_upn_selects_the_user_with_username() {
    let t = Tokens::good();
    let server = agent_hops(&t).await;
    mount_upn_hop3(&server, &t).await;
    let chain = Chain::new(fast_client(), MapCache::new());
    let user = UserSelector::Upn(USER_UPN.into());
    let minted = chain
        .agent_user_token(&agent(&server, certificate()), &user, &scopes(USER_READ))
        .await
        .unwrap();
    assert_eq!(minted.token.access_token.expose(), t.user);
}

#[tokio::test]
async fn a_user_token_for_another_upn_is_refused_at_hop3() {
    let t = Tokens {
        user: jwt::unsigned(
            &json!({"tid": TENANT, "aud": GRAPH_RESOURCE, "appid": AGENT_ID, "idtyp": "user", "upn": "mallory@contoso.example"}),
        ),
        ..Tokens::good()
    };
    let server = agent_hops(&t).await;
    mount_upn_hop3(&server, &t).await;
    let chain = Chain::new(fast_client(), Arc::new(NoCache));
    let err = chain
        .agent_user_token(
            &agent(&server, certificate()),
            &UserSelector::Upn(USER_UPN.into()),
            &scopes(USER_READ),
        )
        .await
        .unwrap_err();
    assert_eq!(
        (err.hop, err.reason),
        (Hop::AgentUser, Reason::ClaimsMismatch)
    );
    assert!(
        err.message.contains("upn") && err.message.contains("mallory@contoso.example"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn no_public_operation_mints_an_exchange_scope_and_none_calls_upstream() {
    let server = agent_hops(&Tokens::good()).await;
    let chain = Chain::new(fast_client(), MapCache::new());
    let agent = agent(&server, certificate());
    let app = app(&server, certificate());
    let user = UserSelector::ObjectId(USER_OID.into());
    for scope in [
        "api://AzureADTokenExchange/.default",
        "api://AzureADTokenExchangeUSGov/.default",
        "api://AzureADTokenExchangeChina/.default",
        "fb60f99c-7a34-4190-8149-302f77469936/.default",
    ] {
        let s = scopes(scope);
        let errors = [
            chain.app_only_token(&agent, &s).await.unwrap_err(),
            chain.agent_user_token(&agent, &user, &s).await.unwrap_err(),
            chain.app_registration_token(&app, &s).await.unwrap_err(),
        ];
        for err in errors {
            assert_eq!(
                (err.class, err.reason),
                (ErrorClass::Permanent, Reason::InvalidScope),
                "{scope}"
            );
        }
    }
    let requests = server.received_requests().await.unwrap();
    assert!(requests.is_empty(), "{} upstream requests", requests.len());
}

#[tokio::test]
async fn a_sovereign_cloud_uses_its_own_exchange_audience_on_every_hop_and_for_the_mi_assertion() {
    const USGOV: &str = "api://AzureADTokenExchangeUSGov";
    let server = MockServer::start().await;
    let mi_token = app_token(MI_ID, "mi");
    Mock::given(method("GET"))
        .and(path("/msi/token"))
        .and(wiremock::matchers::query_param("resource", USGOV))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": mi_token, "expires_on": in_an_hour().to_string(),
            "resource": USGOV, "token_type": "Bearer", "client_id": MI_ID
        })))
        .mount(&server)
        .await;
    let t = Tokens::good();
    let exchange_scope = format!("{USGOV}/.default");
    let hop3_scope = format!("{USER_READ} openid profile offline_access");
    let routes = [
        (
            ExactForm::new()
                .eq("grant_type", "client_credentials")
                .eq("client_id", BLUEPRINT)
                .eq("scope", &exchange_scope)
                .eq("fmi_path", AGENT_ID)
                .eq("client_assertion_type", JWT_BEARER)
                .eq("client_assertion", &mi_token),
            t.t1.clone(),
        ),
        (hop2_form(&t.t1, &exchange_scope), t.t2.clone()),
        (
            hop3_form(&t.t1, &t.t2, "user_id", USER_OID, &hop3_scope),
            t.user.clone(),
        ),
    ];
    for (form, token) in routes {
        token_answer(form, &token).expect(1).mount(&server).await;
    }
    let source = ManagedIdentitySource::AppService {
        endpoint: format!("{}/msi/token", server.uri()),
        header: "h".into(),
    };
    let mi = ManagedIdentityCredential::new(source, None);
    let mut agent = (*agent(&server, Credential::ManagedIdentity(Arc::new(mi)))).clone();
    // The mock server is on loopback, so the cloud is named explicitly, as an operator would for a
    // host agentmint does not know.
    agent.authority.exchange_resource = Some(USGOV.into());
    let chain = Chain::new(fast_client(), MapCache::new());
    let minted = chain
        .agent_user_token(
            &Arc::new(agent),
            &UserSelector::ObjectId(USER_OID.into()),
            &scopes(USER_READ),
        )
        .await
        .unwrap();
    assert_eq!(minted.token.access_token.expose(), t.user);
}
