//! Hop 3 (`user_fic`): the Agent Identity's T1 and T2 buy its Agent User's delegated token.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use crate::support::*;

const MSAL_SCOPE: &str = "https://graph.microsoft.com/User.Read openid profile offline_access";

/// A server, its primary chain, its T1, and the hop 3 form of that chain with fresh T1 and T2.
struct UserFic {
    server: Server,
    chain: Chain,
    t1: String,
    form: Form,
}

impl UserFic {
    async fn start() -> Self {
        let server = Server::start().await;
        let chain = server.chain();
        let (t1, t2) = server.credentials(&chain).await;
        let form = server.hop3_form(&chain, &t1, &t2);
        Self {
            server,
            chain,
            t1,
            form,
        }
    }

    /// Posts the hop 3 form with `edit` applied.
    async fn post(&self, edit: impl FnOnce(Form) -> Form) -> Reply {
        self.server.post_token(&edit(self.form.clone())).await
    }
}

#[tokio::test]
async fn agent_user_token_by_object_id_has_user_claims() {
    let fic = UserFic::start().await;
    let reply = fic.post(|f| f.set("scope", MSAL_SCOPE)).await;
    let c = reply.assert_ok().claims();
    let chain = &fic.chain;
    assert_claims(
        &c,
        json!({
            "aud": "https://graph.microsoft.com",
            "iss": fic.server.v1_issuer(),
            "appid": chain.agent_identity,
            "oid": chain.user_object_id,
            "idtyp": "user",
            "scp": "User.Read",
            "upn": chain.upn,
            "tid": fic.server.world.tenant_id,
            "xms_par_app_azp": chain.blueprint,
        }),
    );
    assert!(has_facet(&c, "13"), "{c}");
}

#[tokio::test]
async fn agent_user_response_has_the_user_flow_fields() {
    let fic = UserFic::start().await;
    let (chain, tid) = (&fic.chain, &fic.server.world.tenant_id);
    let body = fic.post(|f| f.set("scope", MSAL_SCOPE)).await.body;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["ext_expires_in"], 3600);
    assert!(
        body["refresh_token"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    let scope = body["scope"].as_str().unwrap();
    assert!(scope.split(' ').any(|s| s == USER_READ), "{scope}");
    let id = claims(body["id_token"].as_str().unwrap());
    assert_claims(
        &id,
        json!({
            "aud": chain.agent_identity,
            "oid": chain.user_object_id,
            "preferred_username": chain.upn,
            "tid": tid,
        }),
    );
    let info = body["client_info"].as_str().unwrap();
    let info: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(info).unwrap()).unwrap();
    assert_eq!(info["uid"], chain.user_object_id);
    assert_eq!(info["utid"], *tid);
}

#[tokio::test]
async fn agent_user_token_by_username() {
    let fic = UserFic::start().await;
    let upn = fic.chain.upn.clone();
    let reply = fic
        .post(|f| f.without("user_id").set("username", &upn))
        .await;
    assert_eq!(reply.assert_ok().claims()["oid"], fic.chain.user_object_id);
}

#[tokio::test]
async fn requested_token_use_on_behalf_of_is_accepted() {
    let fic = UserFic::start().await;
    let reply = fic
        .post(|f| f.set("requested_token_use", "on_behalf_of"))
        .await;
    reply.assert_ok();
}

#[tokio::test]
async fn default_scope_grants_every_consented_scope() {
    let fic = UserFic::start().await;
    let reply = fic.post(|f| f.set("scope", GRAPH_DEFAULT)).await;
    let expected = agentmint_emulator::world::CONSENTED_GRAPH_SCOPES.join(" ");
    assert_eq!(reply.assert_ok().claims()["scp"], expected);
}

#[tokio::test]
async fn scope_not_consented_is_65001() {
    let fic = UserFic::start().await;
    let scope = "https://graph.microsoft.com/Files.ReadWrite.All openid";
    let reply = fic.post(|f| f.set("scope", scope)).await;
    reply.assert_entra_error(400, "invalid_grant", 65001);
    assert_eq!(reply.body["suberror"], "consent_required");
}

#[tokio::test]
async fn credentials_other_than_the_agent_identitys_own_t1_and_t2_are_refused() {
    let fic = UserFic::start().await;
    let (server, chain) = (&fic.server, &fic.chain);
    let (other_t1, other_t2) = server.credentials(&server.second_chain()).await;
    let by_blueprint = fic
        .form
        .clone()
        .set("client_id", &chain.blueprint)
        .assertion(&server.blueprint_assertion(chain));
    assert_refusals(vec![
        (
            "T2 of another Agent Identity",
            fic.post(|f| f.set("user_federated_identity_credential", &other_t2))
                .await,
            (400, "invalid_grant", 70021),
        ),
        (
            "T1 presented as the user credential",
            fic.post(|f| f.set("user_federated_identity_credential", &fic.t1))
                .await,
            (400, "invalid_grant", 70021),
        ),
        (
            "T1 of another Agent Identity as client assertion",
            fic.post(|f| f.assertion(&other_t1)).await,
            (400, "invalid_request", 70021),
        ),
        (
            "missing user credential is 900144",
            fic.post(|f| f.without("user_federated_identity_credential"))
                .await,
            (400, "invalid_request", 900144),
        ),
        (
            "user_fic by a Blueprint is 70003",
            server.post_token(&by_blueprint).await,
            (400, "unsupported_grant_type", 70003),
        ),
    ]);
    // The second chain's T2 is good for its own Agent Identity: the refusal above is about whose.
    let own = server.hop3_form(&server.second_chain(), &other_t1, &other_t2);
    server.post_token(&own).await.assert_ok();
}

#[tokio::test]
async fn user_not_named_once_as_one_of_the_agent_identitys_users_is_refused() {
    let fic = UserFic::start().await;
    let other_user = fic.server.second_chain().user_object_id;
    let upn = fic.chain.upn.clone();
    assert_refusals(vec![
        (
            "user of another Agent Identity is 50034",
            fic.post(|f| f.set("user_id", &other_user)).await,
            (400, "invalid_grant", 50034),
        ),
        (
            "unknown user is 50034",
            fic.post(|f| f.without("user_id").set("username", "nobody@example.com"))
                .await,
            (400, "invalid_grant", 50034),
        ),
        (
            "both user_id and username is 9002313",
            fic.post(|f| f.set("username", &upn)).await,
            (400, "invalid_request", 9002313),
        ),
        (
            "missing user selector is 900144",
            fic.post(|f| f.without("user_id")).await,
            (400, "invalid_request", 900144),
        ),
        (
            "only OIDC scopes is 70011",
            fic.post(|f| f.set("scope", "openid profile offline_access"))
                .await,
            (400, "invalid_scope", 70011),
        ),
    ]);
}
