//! Test harness: a real emulator on 127.0.0.1:0 over a generated world, a reqwest client, and
//! the requests a client would send for each hop (written here from PROTOCOL.md, not taken from
//! the client crate).

mod assertion;
mod chain;
mod form;
mod reply;

use std::time::Duration;

use agentmint_emulator::world::World;
use agentmint_emulator::{Directory, Emulator, Knobs, pki};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use agentmint_testkit::entra::{
    EXCHANGE_APP_ID, EXCHANGE_SCOPE, GRAPH_DEFAULT, IMDS_TOKEN as IMDS, JWT_BEARER, USER_READ,
};
pub use assertion::{AssertionSpec, Thumbprint, now};
pub use chain::Chain;
pub use form::Form;
pub use reply::{Reply, assert_claims, assert_refusals, claims, has_facet, header};

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
type EditDirectory = Box<dyn FnOnce(&World, &mut Directory)>;

impl Server {
    pub async fn start() -> Server {
        Self::start_with(Knobs::default(), false, Box::new(|_, _| {})).await
    }

    pub async fn with_knobs(knobs: Knobs) -> Server {
        Self::start_with(knobs, false, Box::new(|_, _| {})).await
    }

    /// Over https, with a CA generated for the occasion (`ca_pem`).
    pub async fn tls() -> Server {
        Self::start_with(Knobs::default(), true, Box::new(|_, _| {})).await
    }

    pub async fn with_directory(edit: impl FnOnce(&World, &mut Directory) + 'static) -> Server {
        Self::start_with(Knobs::default(), false, Box::new(edit)).await
    }

    async fn start_with(knobs: Knobs, tls: bool, edit: EditDirectory) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let world = World::generate(dir.path()).unwrap();
        let mut directory = Directory::load(&world.directory_path).unwrap();
        edit(&world, &mut directory);
        let emulator = Emulator::new(directory, knobs).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tls, ca_pem, url) = if tls {
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

    /// The `iss` of this tenant's v2 tokens.
    pub fn v2_issuer(&self) -> String {
        format!(
            "https://login.microsoftonline.com/{}/v2.0",
            self.world.tenant_id
        )
    }

    /// The `iss` of this tenant's v1 tokens.
    pub fn v1_issuer(&self) -> String {
        format!("https://sts.windows.net/{}/", self.world.tenant_id)
    }

    pub async fn post_form(&self, url: &str, form: &Form) -> Reply {
        let request = self.client.post(url).form(form.fields());
        Reply::read(request.send().await.unwrap()).await
    }

    pub async fn post_token(&self, form: &Form) -> Reply {
        self.post_form(&self.token_url(), form).await
    }

    pub async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut request = self.client.get(format!("{}{path}", self.url));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Reply::read(request.send().await.unwrap()).await
    }

    /// `GET` an IMDS token with `query` after the api-version, as Azure SDKs send it.
    pub async fn imds(&self, query: &str) -> Reply {
        self.get(&format!("{IMDS}{query}"), &[("Metadata", "true")])
            .await
    }

    /// A managed-identity token from IMDS for `resource`, with optional extra query.
    pub async fn imds_token(&self, resource: &str, extra_query: &str) -> String {
        let reply = self
            .imds(&format!("&resource={resource}{extra_query}"))
            .await;
        reply.assert_ok().access_token()
    }

    pub fn chain(&self) -> Chain {
        Chain::primary(&self.world)
    }

    pub fn second_chain(&self) -> Chain {
        Chain::second(&self.world)
    }

    /// A fresh assertion of `chain`'s Blueprint for this token endpoint, to edit before signing.
    pub fn assertion_spec(&self, chain: &Chain) -> AssertionSpec {
        AssertionSpec::new(
            &chain.key_pem(),
            &chain.cert_pem(),
            &chain.blueprint,
            &self.token_url(),
        )
    }

    /// A fresh, valid certificate assertion of `chain`'s Blueprint.
    pub fn blueprint_assertion(&self, chain: &Chain) -> String {
        self.assertion_spec(chain).sign()
    }

    /// Hop 1 as a client sends it: `chain`'s Blueprint asks for T1 of its Agent Identity.
    pub fn hop1_form(&self, chain: &Chain) -> Form {
        Form::client_credentials(&chain.blueprint, EXCHANGE_SCOPE)
            .set("fmi_path", &chain.agent_identity)
            .assertion(&self.blueprint_assertion(chain))
    }

    /// Hop 1: `chain`'s Blueprint asks for T1 naming `fmi_path`.
    pub async fn hop1(&self, chain: &Chain, fmi_path: &str) -> Reply {
        let form = self.hop1_form(chain).set("fmi_path", fmi_path);
        self.post_token(&form).await
    }

    /// T1 of `chain`'s Agent Identity.
    pub async fn t1(&self, chain: &Chain) -> String {
        let reply = self.hop1(chain, &chain.agent_identity).await;
        reply.assert_ok().access_token()
    }

    /// Hop 2: `client_id` presents `t1` for `scope`.
    pub async fn hop2(&self, client_id: &str, t1: &str, scope: &str) -> Reply {
        let form = Form::client_credentials(client_id, scope).assertion(t1);
        self.post_token(&form).await
    }

    /// T1 and T2 of `chain`'s Agent Identity.
    pub async fn credentials(&self, chain: &Chain) -> (String, String) {
        let t1 = self.t1(chain).await;
        let reply = self.hop2(&chain.agent_identity, &t1, EXCHANGE_SCOPE).await;
        let t2 = reply.assert_ok().access_token();
        (t1, t2)
    }

    /// T2 of `chain`'s Agent Identity.
    pub async fn t2(&self, chain: &Chain) -> String {
        self.credentials(chain).await.1
    }

    /// Hop 3 as MSAL sends it: `chain`'s Agent Identity buys its Agent User's User.Read token
    /// with `t1` and `t2`.
    pub fn hop3_form(&self, chain: &Chain, t1: &str, t2: &str) -> Form {
        Form::grant("user_fic")
            .set("client_id", &chain.agent_identity)
            .set("scope", USER_READ)
            .assertion(t1)
            .set("user_federated_identity_credential", t2)
            .set("client_info", "1")
            .set("user_id", &chain.user_object_id)
    }

    /// The whole chain: `chain`'s Agent User's User.Read token (the reply, unchecked).
    pub async fn user_token(&self, chain: &Chain) -> Reply {
        let (t1, t2) = self.credentials(chain).await;
        self.post_token(&self.hop3_form(chain, &t1, &t2)).await
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
