//! RELIABILITY 31: `{:?}` and `{}` of every type that holds a secret show no part of it.

use std::sync::Arc;
use std::time::Duration;

use agentmint_entra::credential::{ManagedIdentitySource, UserAssignedIdentity};
use agentmint_entra::grant::{self, ClientAuth};
use agentmint_entra::{
    CertificateCredential, ClientSecretCredential, Credential, IssuedToken,
    ManagedIdentityCredential, Minted, ScopeSet, Secret, SigningAlgorithm, UserSelector,
    WorkloadIdentityCredential,
};

use crate::support::*;

const TOKEN: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.payload-SECRET-TOKEN-VALUE.sig";
const CLIENT_SECRET: &str = "cs-SECRET-value-0123456789";
const IDENTITY_HEADER: &str = "ih-SECRET-value-93kd";
const FEDERATED: &str = "wi-SECRET-token-content-7q";

/// No 8-character window of any secret appears in `shown`.
fn assert_clean(what: &str, shown: &str) {
    let key_lines: Vec<&str> = cert()
        .key_pkcs8_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    for secret in [TOKEN, CLIENT_SECRET, IDENTITY_HEADER, FEDERATED]
        .iter()
        .chain(key_lines.iter())
    {
        let bytes = secret.as_bytes();
        for window in bytes.windows(8) {
            let window = std::str::from_utf8(window).unwrap();
            // Common JSON/JWT prefixes are not secret on their own.
            if window.starts_with("eyJ0eXAi") || window.chars().all(|c| c == 'A') {
                continue;
            }
            assert!(!shown.contains(window), "{what} shows {window:?}: {shown}");
        }
    }
}

fn both<T: std::fmt::Debug + std::fmt::Display>(what: &str, value: &T) {
    assert_clean(what, &format!("{value:?}"));
    assert_clean(what, &format!("{value}"));
}

fn debug<T: std::fmt::Debug>(what: &str, value: &T) {
    assert_clean(what, &format!("{value:?}"));
}

#[tokio::test]
async fn every_secret_holding_type_prints_redacted() {
    let secret = Secret::new(TOKEN);
    both("Secret", &secret);

    let token = IssuedToken {
        access_token: Secret::new(TOKEN),
        token_type: "Bearer".into(),
        expires_in: Duration::from_secs(60),
        refresh_in: None,
        scope: None,
    };
    debug("IssuedToken", &token);
    debug(
        "Minted",
        &Minted {
            token: Arc::new(token),
            cache_hit: false,
            expires_at_unix: 0,
        },
    );

    let dir = tempfile::tempdir().unwrap();
    let secret_path = dir.path().join("secret");
    std::fs::write(&secret_path, CLIENT_SECRET).unwrap();
    let client_secret = Arc::new(ClientSecretCredential::from_file(&secret_path).unwrap());
    debug("ClientSecretCredential", &client_secret);

    let fed_path = dir.path().join("federated");
    std::fs::write(&fed_path, FEDERATED).unwrap();
    let workload = Arc::new(WorkloadIdentityCredential::new(fed_path));
    assert_eq!(workload.assertion().await.unwrap().expose(), FEDERATED);
    debug("WorkloadIdentityCredential", &workload);

    let source = ManagedIdentitySource::AppService {
        endpoint: "http://127.0.0.1:1/msi".into(),
        header: Secret::new(IDENTITY_HEADER),
    };
    debug("ManagedIdentitySource", &source);
    let mi = Arc::new(ManagedIdentityCredential::new(
        source,
        Some(UserAssignedIdentity::ClientId(MI_ID.into())),
    ));
    debug("ManagedIdentityCredential", &mi);
    debug(
        "ManagedIdentityRequest",
        &mi.request("api://AzureADTokenExchange").unwrap(),
    );

    let c = cert();
    let certificate = Arc::new(
        CertificateCredential::from_pem(
            c.key_pkcs8_pem.as_bytes(),
            c.cert_pem.as_bytes(),
            SigningAlgorithm::Ps256,
        )
        .unwrap(),
    );
    let assertion = certificate
        .assertion("https://login/t/oauth2/v2.0/token", BLUEPRINT)
        .unwrap();
    debug("CertificateCredential", &certificate);
    let assertion_text = assertion.expose().to_owned();
    assert!(!format!("{assertion:?} {assertion}").contains(&assertion_text[20..40]));

    let credentials = [
        Credential::Certificate(certificate),
        Credential::ManagedIdentity(mi),
        Credential::WorkloadIdentity(workload),
        Credential::ClientSecret(client_secret.clone()),
    ];
    for credential in &credentials {
        debug("Credential", credential);
        assert_clean("fingerprint", &format!("{:?}", credential.fingerprint()));
    }

    let server = wiremock::MockServer::start().await;
    debug("AgentRef", &agent(&server, credentials[3].clone()));
    debug("AppRef", &app(&server, credentials[1].clone()));

    let auth = ClientAuth::Secret(Secret::new(CLIENT_SECRET));
    debug("ClientAuth", &auth);
    let scopes = ScopeSet::new([GRAPH]).unwrap();
    debug(
        "hop 1 form",
        &grant::blueprint(
            BLUEPRINT,
            AGENT_ID,
            agentmint_entra::scope::EXCHANGE_SCOPE,
            auth,
        ),
    );
    debug(
        "app form",
        &grant::app(APP_ID, ClientAuth::Assertion(Secret::new(TOKEN)), &scopes),
    );
    let user = UserSelector::ObjectId(USER_OID.into());
    debug(
        "hop 3 form",
        &grant::agent_user(
            AGENT_ID,
            &Secret::new(TOKEN),
            &Secret::new(FEDERATED),
            &user,
            &scopes,
        ),
    );
    debug("ClientOptions", &fast_options());
    debug("EntraClient", &fast_client());
}
