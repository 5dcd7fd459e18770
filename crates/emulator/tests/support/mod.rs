//! Test harness: a real emulator on 127.0.0.1:0 over a generated world, a reqwest client, and
//! small helpers that build what a client would send (written here from PROTOCOL.md, not taken
//! from the client crate).

#![allow(dead_code)] // each test binary uses a different part of this module

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use agentmint_emulator::world::World;
use agentmint_emulator::{Directory, Emulator, Knobs, pki};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
pub const EXCHANGE_SCOPE: &str = "api://AzureADTokenExchange/.default";
pub const EXCHANGE_APP_ID: &str = "fb60f99c-7a34-4190-8149-302f77469936";
pub const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";
pub const USER_READ: &str = "https://graph.microsoft.com/User.Read";

/// A running emulator and what tests need to talk to it.
pub struct Server {
    pub url: String,
    pub world: World,
    pub emulator: Emulator,
    pub client: reqwest::Client,
    /// The CA to trust when serving https.
    pub ca_pem: Option<String>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
    _dir: tempfile::TempDir,
}

/// Changes the generated directory before the emulator starts.
pub type EditDirectory = Box<dyn FnOnce(&World, &mut Directory)>;

/// How to start a server.
pub struct Setup {
    pub knobs: Knobs,
    pub tls: bool,
    /// A chance to change the generated directory before the emulator starts.
    pub edit: EditDirectory,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            knobs: Knobs::default(),
            tls: false,
            edit: Box::new(|_, _| {}),
        }
    }
}

impl Server {
    pub async fn start() -> Server {
        Self::start_with(Setup::default()).await
    }

    pub async fn with_knobs(knobs: Knobs) -> Server {
        Self::start_with(Setup {
            knobs,
            ..Setup::default()
        })
        .await
    }

    pub async fn with_directory(edit: impl FnOnce(&World, &mut Directory) + 'static) -> Server {
        Self::start_with(Setup {
            edit: Box::new(edit),
            ..Setup::default()
        })
        .await
    }

    pub async fn start_with(setup: Setup) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let world = World::generate(dir.path()).unwrap();
        let mut directory = Directory::load(&world.directory_path).unwrap();
        (setup.edit)(&world, &mut directory);
        let emulator = Emulator::new(directory, setup.knobs).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tls, ca_pem, url) = if setup.tls {
            let (ca, identity) = pki::generate_ca_and_server(&["localhost", "127.0.0.1"]).unwrap();
            (
                Some(identity),
                Some(ca),
                format!("https://localhost:{port}"),
            )
        } else {
            (None, None, format!("http://127.0.0.1:{port}"))
        };
        let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(10));
        if let Some(ca) = &ca_pem {
            let cert = reqwest::Certificate::from_pem(ca.as_bytes()).unwrap();
            builder = builder.tls_certs_only([cert]);
        }
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(agentmint_emulator::serve(
            listener,
            emulator.clone(),
            tls,
            async {
                let _ = stopped.await;
            },
        ));
        Server {
            url,
            world,
            emulator,
            client: builder.build().unwrap(),
            ca_pem,
            stop: Some(stop),
            task: Some(task),
            _dir: dir,
        }
    }

    /// Signals shutdown and waits for `serve` to return.
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task.await.unwrap(),
            None => Ok(()),
        }
    }

    pub fn token_url(&self) -> String {
        format!("{}/{}/oauth2/v2.0/token", self.url, self.world.tenant_id)
    }

    pub async fn post_form(&self, url: &str, form: &[(&str, &str)]) -> Reply {
        Reply::read(self.client.post(url).form(form).send().await.unwrap()).await
    }

    pub async fn post_token(&self, form: &[(&str, &str)]) -> Reply {
        self.post_form(&self.token_url(), form).await
    }

    pub async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut request = self.client.get(format!("{}{path}", self.url));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Reply::read(request.send().await.unwrap()).await
    }

    pub fn chain(&self) -> Chain {
        Chain::primary(&self.world)
    }

    pub fn second_chain(&self) -> Chain {
        Chain::second(&self.world)
    }

    /// A fresh certificate assertion of `chain`'s Blueprint for this token endpoint.
    pub fn blueprint_assertion(&self, chain: &Chain) -> String {
        AssertionSpec::new(
            &chain.key_pem(),
            &chain.cert_pem(),
            &chain.blueprint,
            &self.token_url(),
        )
        .sign()
    }

    /// Hop 1: `chain`'s Blueprint asks for T1 naming `fmi_path`.
    pub async fn hop1(&self, chain: &Chain, fmi_path: &str) -> Reply {
        let assertion = self.blueprint_assertion(chain);
        self.post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", &chain.blueprint),
            ("scope", EXCHANGE_SCOPE),
            ("fmi_path", fmi_path),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", &assertion),
        ])
        .await
    }

    /// T1 of `chain`'s Agent Identity.
    pub async fn t1(&self, chain: &Chain) -> String {
        let reply = self.hop1(chain, &chain.agent_identity).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.access_token()
    }

    /// Hop 2: `client_id` presents `t1` for `scope`.
    pub async fn hop2(&self, client_id: &str, t1: &str, scope: &str) -> Reply {
        self.post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("scope", scope),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", t1),
        ])
        .await
    }

    /// T2 of `chain`'s Agent Identity.
    pub async fn t2(&self, chain: &Chain) -> String {
        let t1 = self.t1(chain).await;
        let reply = self.hop2(&chain.agent_identity, &t1, EXCHANGE_SCOPE).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.access_token()
    }

    /// Hop 3 as MSAL sends it, plus `extra` fields.
    pub async fn hop3(
        &self,
        client_id: &str,
        t1: &str,
        t2: &str,
        user: (&str, &str),
        scope: &str,
        extra: &[(&str, &str)],
    ) -> Reply {
        let mut form = vec![
            ("grant_type", "user_fic"),
            ("client_id", client_id),
            ("scope", scope),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", t1),
            ("user_federated_identity_credential", t2),
            ("client_info", "1"),
            user,
        ];
        form.extend_from_slice(extra);
        self.post_token(&form).await
    }

    /// A managed-identity token from IMDS for `resource`, with optional extra query.
    pub async fn imds_token(&self, resource: &str, extra_query: &str) -> String {
        let reply = self
            .get(
                &format!(
                    "/metadata/identity/oauth2/token?api-version=2018-02-01&resource={resource}{extra_query}"
                ),
                &[("Metadata", "true")],
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.access_token()
    }

    pub async fn stats_json(&self) -> Value {
        self.get("/_emulator/stats", &[]).await.body
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The ids of one Blueprint → Agent Identity → Agent User chain.
pub struct Chain {
    pub blueprint: String,
    pub key_path: std::path::PathBuf,
    pub cert_path: std::path::PathBuf,
    pub agent_identity: String,
    pub agent_identity_object_id: String,
    pub user_object_id: String,
    pub upn: String,
}

impl Chain {
    pub fn primary(w: &World) -> Chain {
        Chain {
            blueprint: w.blueprint_app_id.clone(),
            key_path: w.blueprint_key_path.clone(),
            cert_path: w.blueprint_cert_path.clone(),
            agent_identity: w.agent_identity_app_id.clone(),
            agent_identity_object_id: w.agent_identity_object_id.clone(),
            user_object_id: w.agent_user_object_id.clone(),
            upn: w.agent_user_upn.clone(),
        }
    }

    pub fn second(w: &World) -> Chain {
        Chain {
            blueprint: w.second_blueprint_app_id.clone(),
            key_path: w.second_blueprint_key_path.clone(),
            cert_path: w.second_blueprint_cert_path.clone(),
            agent_identity: w.second_agent_identity_app_id.clone(),
            agent_identity_object_id: w.second_agent_identity_object_id.clone(),
            user_object_id: w.second_agent_user_object_id.clone(),
            upn: w.second_agent_user_upn.clone(),
        }
    }

    pub fn key_pem(&self) -> String {
        std::fs::read_to_string(&self.key_path).unwrap()
    }

    pub fn cert_pem(&self) -> String {
        std::fs::read_to_string(&self.cert_path).unwrap()
    }
}

/// Which certificate thumbprint header an assertion carries.
#[derive(Clone, Copy)]
pub enum Thumbprint {
    Sha256,
    Sha1,
}

/// A certificate client assertion, as PROTOCOL.md describes it. Fields are public so a test
/// can break exactly one thing.
pub struct AssertionSpec {
    pub key_pem: String,
    pub cert_pem: String,
    pub alg: Algorithm,
    pub thumbprint: Thumbprint,
    pub aud: String,
    pub iss: String,
    pub sub: String,
    /// Seconds relative to now.
    pub nbf: Option<i64>,
    pub exp: i64,
}

impl AssertionSpec {
    /// PS256 with `x5t#S256`, valid for ten minutes.
    pub fn new(key_pem: &str, cert_pem: &str, client_id: &str, aud: &str) -> Self {
        Self {
            key_pem: key_pem.into(),
            cert_pem: cert_pem.into(),
            alg: Algorithm::PS256,
            thumbprint: Thumbprint::Sha256,
            aud: aud.into(),
            iss: client_id.into(),
            sub: client_id.into(),
            nbf: Some(0),
            exp: 600,
        }
    }

    pub fn sign(&self) -> String {
        let der = pem::parse(&self.cert_pem).unwrap().into_contents();
        let mut header = Header::new(self.alg);
        match self.thumbprint {
            Thumbprint::Sha256 => {
                header.x5t_s256 = Some(URL_SAFE_NO_PAD.encode(Sha256::digest(&der)))
            }
            Thumbprint::Sha1 => header.x5t = Some(URL_SAFE_NO_PAD.encode(Sha1::digest(&der))),
        }
        let now = now() as i64;
        let mut claims = json!({
            "aud": self.aud,
            "iss": self.iss,
            "sub": self.sub,
            "jti": uuid::Uuid::new_v4().to_string(),
            "iat": now,
            "exp": now + self.exp,
        });
        if let Some(nbf) = self.nbf {
            claims["nbf"] = json!(now + nbf);
        }
        let key = EncodingKey::from_rsa_pem(self.key_pem.as_bytes()).unwrap();
        jsonwebtoken::encode(&header, &claims, &key).unwrap()
    }
}

/// An HTTP answer, body parsed as JSON when it is JSON.
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub async fn read(response: reqwest::Response) -> Reply {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply {
            status,
            headers,
            body,
        }
    }

    pub fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or("")
    }

    /// The first AADSTS code of an Entra error.
    pub fn aadsts(&self) -> u64 {
        self.body["error_codes"][0].as_u64().unwrap_or(0)
    }

    pub fn access_token(&self) -> String {
        self.body["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no access_token in {}", self.body))
            .to_string()
    }

    /// The decoded payload of the access token.
    pub fn claims(&self) -> Value {
        claims(&self.access_token())
    }

    /// Asserts an Entra error: status, `error` and AADSTS code.
    #[track_caller]
    pub fn assert_entra_error(&self, status: u16, error: &str, code: u64) {
        assert_eq!(
            (self.status, self.error(), self.aadsts()),
            (status, error, code),
            "body: {}",
            self.body
        );
        let description = self.body["error_description"].as_str().unwrap_or("");
        assert!(
            description.starts_with(&format!("AADSTS{code}:")),
            "description: {description}"
        );
    }
}

/// Decodes a JWT payload without verifying it.
pub fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// Decodes a JWT header.
pub fn header(token: &str) -> Value {
    let part = token.split('.').next().expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Whether a space-separated `xms_sub_fct` contains `facet`.
pub fn has_facet(claims: &Value, facet: &str) -> bool {
    claims["xms_sub_fct"]
        .as_str()
        .is_some_and(|f| f.split(' ').any(|x| x == facet))
}
