//! Shared test fixtures: ids, unsigned JWTs with chosen claims, RSA certificates, an exact-form
//! wiremock matcher, a fast client, and a caching test double of `HopCache`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use agentmint_entra::agent::{AgentRef, AppRef, Authority};
use agentmint_entra::{
    CertificateCredential, ClientOptions, Credential, EntraClient, EntraError, HopCache, HopKey,
    Jitter, Minted, Minter, RetryPolicy, SigningAlgorithm,
};
pub use agentmint_testkit::entra::{EXCHANGE_APP_ID, GRAPH_DEFAULT as GRAPH, JWT_BEARER};
use agentmint_testkit::{jwt, pki};
use futures::future::BoxFuture;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Match, Mock, MockBuilder, MockServer, Request, ResponseTemplate};

pub const TENANT: &str = "11111111-1111-1111-1111-111111111111";
pub const BLUEPRINT: &str = "b1b1b1b1-0000-0000-0000-000000000001";
pub const AGENT_ID: &str = "a1a1a1a1-0000-0000-0000-000000000002";
pub const USER_OID: &str = "c1c1c1c1-0000-0000-0000-000000000003";
pub const APP_ID: &str = "d1d1d1d1-0000-0000-0000-000000000004";
pub const MI_ID: &str = "e1e1e1e1-0000-0000-0000-000000000005";

/// The token endpoint path for [`TENANT`].
pub fn token_path() -> String {
    format!("/{TENANT}/oauth2/v2.0/token")
}

/// Microsoft Graph's resource URI: the `aud` of v1 Graph tokens.
pub const GRAPH_RESOURCE: &str = "https://graph.microsoft.com";
/// The Agent User's UPN, as the tests' user tokens carry it.
pub const USER_UPN: &str = "agent-user@contoso.example";

/// An app token issued to `appid` in [`TENANT`], tagged with `tag` so tests can tell tokens apart.
/// Tokens tagged `t1…`/`t2…` are exchange tokens (`aud` = the exchange app), others Graph's.
pub fn app_token(appid: &str, tag: &str) -> String {
    let aud = if tag.starts_with("t1") || tag.starts_with("t2") {
        EXCHANGE_APP_ID
    } else {
        GRAPH_RESOURCE
    };
    jwt::unsigned(
        &json!({"tid": TENANT, "aud": aud, "appid": appid, "idtyp": "app", "oid": appid, "tag": tag}),
    )
}

/// A delegated Graph token for the Agent User, issued to the Agent Identity.
pub fn user_token(tag: &str) -> String {
    jwt::unsigned(
        &json!({"tid": TENANT, "aud": GRAPH_RESOURCE, "appid": AGENT_ID, "idtyp": "user", "oid": USER_OID, "upn": USER_UPN, "scp": "User.Read", "tag": tag}),
    )
}

/// Epoch seconds an hour from now, for managed-identity `expires_on`.
pub fn in_an_hour() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600
}

/// A token-endpoint success body.
pub fn token_body(access_token: &str) -> Value {
    json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": access_token})
}

/// A POST to the token endpoint of [`TENANT`].
pub fn token_post() -> MockBuilder {
    Mock::given(method("POST")).and(path(token_path()))
}

/// A token-endpoint success answer carrying `access_token`.
pub fn token_reply(access_token: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(token_body(access_token))
}

/// A token endpoint answering a POST of exactly `form` with `access_token`.
pub fn token_answer(form: ExactForm, access_token: &str) -> Mock {
    token_post()
        .and(form)
        .respond_with(token_reply(access_token))
}

/// An Entra error body.
pub fn error_body(error: &str, code: u32, description: &str) -> Value {
    json!({
        "error": error,
        "error_description": format!("AADSTS{code}: {description} Trace ID: t Correlation ID: c"),
        "error_codes": [code],
        "timestamp": "2025-01-01 00:00:00Z",
        "trace_id": "trace-0001",
        "correlation_id": "corr-0001",
        "error_uri": "https://login.microsoftonline.com/error?code=1"
    })
}

/// Client options for tests: tiny timeouts, no jitter, quick retries.
pub fn fast_options() -> ClientOptions {
    ClientOptions {
        connect_timeout: Duration::from_millis(500),
        request_timeout: Duration::from_secs(2),
        retry: RetryPolicy {
            max_attempts: 3,
            base: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
            deadline: Duration::from_secs(5),
        },
        managed_identity_retry: RetryPolicy {
            max_attempts: 3,
            base: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
            deadline: Duration::from_millis(500),
        },
        jitter: Jitter::fixed(1.0),
        ..ClientOptions::default()
    }
}

pub fn fast_client() -> EntraClient {
    EntraClient::new(fast_options()).expect("client builds")
}

pub fn authority(server: &MockServer) -> Authority {
    Authority::new(format!("{}/", server.uri()), TENANT)
}

pub fn agent(server: &MockServer, credential: Credential) -> Arc<AgentRef> {
    Arc::new(AgentRef {
        authority: authority(server),
        blueprint_client_id: BLUEPRINT.to_owned(),
        agent_identity_client_id: AGENT_ID.to_owned(),
        agent_identity_object_id: None,
        credential,
    })
}

pub fn app(server: &MockServer, credential: Credential) -> Arc<AppRef> {
    Arc::new(AppRef {
        authority: authority(server),
        client_id: APP_ID.to_owned(),
        credential,
    })
}

/// A client-secret credential backed by a temporary file.
pub fn secret_credential(value: &str) -> (Credential, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("client-secret");
    std::fs::write(&path, value).unwrap();
    let cred = agentmint_entra::ClientSecretCredential::from_file(&path).unwrap();
    (Credential::ClientSecret(Arc::new(cred)), dir)
}

/// What one form field must hold.
#[derive(Debug, Clone)]
pub enum Want {
    Eq(String),
    /// Any three-part JWT.
    Jwt,
}

/// A wiremock matcher accepting exactly the listed form fields (no more, no fewer, none twice).
#[derive(Debug, Clone, Default)]
pub struct ExactForm(BTreeMap<&'static str, Want>);

impl ExactForm {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn eq(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.0.insert(name, Want::Eq(value.into()));
        self
    }

    pub fn jwt(mut self, name: &'static str) -> Self {
        self.0.insert(name, Want::Jwt);
        self
    }

    /// Why `body` does not match, or `Ok`.
    pub fn check(&self, body: &[u8]) -> Result<(), String> {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_bytes(body).map_err(|e| format!("not a form: {e}"))?;
        let mut seen = BTreeMap::new();
        for (k, v) in pairs {
            if seen.insert(k.clone(), v).is_some() {
                return Err(format!("{k} sent twice"));
            }
        }
        let want: BTreeSet<&str> = self.0.keys().copied().collect();
        let got: BTreeSet<&str> = seen.keys().map(String::as_str).collect();
        if want != got {
            let missing: Vec<_> = want.difference(&got).collect();
            let extra: Vec<_> = got.difference(&want).collect();
            return Err(format!("missing {missing:?}, unexpected {extra:?}"));
        }
        for (name, want) in &self.0 {
            let value = &seen[*name];
            let ok = match want {
                Want::Eq(expected) => value == expected,
                Want::Jwt => value.split('.').count() == 3,
            };
            if !ok {
                return Err(format!("{name} does not match"));
            }
        }
        Ok(())
    }
}

impl Match for ExactForm {
    fn matches(&self, request: &Request) -> bool {
        self.check(&request.body).is_ok()
    }
}

/// A matcher on the exact set of query parameters.
#[derive(Debug, Clone)]
pub struct ExactQuery(pub BTreeMap<String, String>);

impl ExactQuery {
    pub fn of(pairs: &[(&str, &str)]) -> Self {
        Self(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }
}

impl Match for ExactQuery {
    fn matches(&self, request: &Request) -> bool {
        let got: Vec<(String, String)> = request.url.query_pairs().into_owned().collect();
        let map: BTreeMap<String, String> = got.iter().cloned().collect();
        map.len() == got.len() && map == self.0
    }
}

/// Hop 1's exact form for [`BLUEPRINT`] → [`AGENT_ID`] with a JWT assertion.
pub fn hop1_form() -> ExactForm {
    ExactForm::new()
        .eq("grant_type", "client_credentials")
        .eq("client_id", BLUEPRINT)
        .eq("scope", "api://AzureADTokenExchange/.default")
        .eq("fmi_path", AGENT_ID)
        .eq("client_assertion_type", JWT_BEARER)
        .jwt("client_assertion")
}

/// Hop 2's exact form with T1 = `t1`.
pub fn hop2_form(t1: &str, scope: &str) -> ExactForm {
    ExactForm::new()
        .eq("grant_type", "client_credentials")
        .eq("client_id", AGENT_ID)
        .eq("scope", scope)
        .eq("client_assertion_type", JWT_BEARER)
        .eq("client_assertion", t1)
}

/// Hop 3's exact form.
pub fn hop3_form(
    t1: &str,
    t2: &str,
    user_field: &'static str,
    user: &str,
    scope: &str,
) -> ExactForm {
    ExactForm::new()
        .eq("grant_type", "user_fic")
        .eq("client_id", AGENT_ID)
        .eq("scope", scope)
        .eq("client_assertion_type", JWT_BEARER)
        .eq("client_assertion", t1)
        .eq("user_federated_identity_credential", t2)
        .eq(user_field, user)
        .eq("client_info", "1")
}

type Entries = Arc<Mutex<HashMap<HopKey, (Minted, Minter)>>>;

/// A `HopCache` that keeps every token forever and remembers each key's minter, so a test can run
/// a minter again as a background refresh would.
#[derive(Default)]
pub struct MapCache {
    entries: Entries,
    /// Every key asked for, in order, and whether it was a hit.
    pub lookups: Mutex<Vec<(HopKey, bool)>>,
}

impl MapCache {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Runs the stored minter of `key` again (a background refresh) and replaces the entry.
    pub async fn refresh(&self, key: &HopKey) -> Result<(), EntraError> {
        let minter = self.entries.lock().unwrap()[key].1.clone();
        let token = minter().await?;
        let minted = minted(token, false);
        self.entries
            .lock()
            .unwrap()
            .insert(key.clone(), (minted, minter));
        Ok(())
    }

    pub fn keys(&self) -> Vec<HopKey> {
        self.entries.lock().unwrap().keys().cloned().collect()
    }
}

fn minted(token: agentmint_entra::IssuedToken, cache_hit: bool) -> Minted {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    Minted {
        expires_at_unix: now + token.expires_in.as_secs() as i64,
        token: Arc::new(token),
        cache_hit,
    }
}

impl HopCache for MapCache {
    fn get_or_mint(
        &self,
        key: HopKey,
        mint: Minter,
    ) -> BoxFuture<'static, Result<Minted, EntraError>> {
        let hit = self
            .entries
            .lock()
            .unwrap()
            .get(&key)
            .map(|(m, _)| m.clone());
        self.lookups
            .lock()
            .unwrap()
            .push((key.clone(), hit.is_some()));
        match hit {
            Some(mut m) => {
                m.cache_hit = true;
                Box::pin(async move { Ok(m) })
            }
            None => {
                let entries = self.entries.clone();
                Box::pin(async move {
                    let token = mint().await?;
                    let m = minted(token, false);
                    entries.lock().unwrap().insert(key, (m.clone(), mint));
                    Ok(m)
                })
            }
        }
    }
}

/// The kit's RSA key and a self-signed certificate for it, made once per test binary.
pub struct TestCert {
    /// PKCS#8 `PRIVATE KEY` PEM.
    pub key_pkcs8_pem: String,
    /// PKCS#1 `RSA PRIVATE KEY` PEM of the same key.
    pub key_pkcs1_pem: String,
    pub cert_pem: String,
    pub cert_der: Vec<u8>,
}

/// Valid until 2035-01-01.
pub fn cert() -> &'static TestCert {
    static CERT: OnceLock<TestCert> = OnceLock::new();
    CERT.get_or_init(|| make_cert(pki::rsa_key()))
}

/// A second, unrelated key and certificate.
pub fn other_cert() -> &'static TestCert {
    static CERT: OnceLock<TestCert> = OnceLock::new();
    CERT.get_or_init(|| make_cert(pki::other_rsa_key()))
}

/// The test certificates' notAfter.
pub fn cert_not_after() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(2_051_222_400) // 2035-01-01T00:00:00Z
}

fn make_cert(key: &rcgen::KeyPair) -> TestCert {
    let cert_pem = pki::self_signed_until(
        key,
        time::OffsetDateTime::from_unix_timestamp(2_051_222_400).unwrap(),
    );
    TestCert {
        key_pkcs8_pem: key.serialize_pem(),
        key_pkcs1_pem: pki::pkcs1_pem(key),
        cert_der: pki::certificate_der(&cert_pem),
        cert_pem,
    }
}

/// A certificate credential from [`cert`], signing with `algorithm`.
pub fn certificate_credential(algorithm: SigningAlgorithm) -> CertificateCredential {
    let c = cert();
    CertificateCredential::from_pem(c.key_pkcs8_pem.as_bytes(), c.cert_pem.as_bytes(), algorithm)
        .unwrap()
}
