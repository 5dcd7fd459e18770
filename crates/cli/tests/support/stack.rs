//! The three processes of a deployment — emulator, gateway, sandbox resolver — started from the real
//! binary against a generated Entra universe.

use std::path::{Path, PathBuf};
use std::time::Duration;

use agentmint_emulator::world::World;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{Proc, path_str};

pub const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";
pub const USER_SCOPE: &str = "https://graph.microsoft.com/User.Read";

pub struct Stack {
    pub dir: tempfile::TempDir,
    pub world: World,
    pub emulator: Proc,
    pub gateway: Proc,
    pub sandbox: Option<Proc>,
    pub emulator_url: String,
    pub gateway_url: String,
    pub admin_url: String,
    pub config_path: PathBuf,
    pub credential: String,
    pub credential_path: PathBuf,
    pub ca_path: PathBuf,
}

/// How to shape the generated config.
#[derive(Clone)]
pub struct StackOptions {
    pub log: &'static str,
    /// Extra TOML appended to the generated config (more providers or sandboxes).
    pub extra_config: String,
    /// Providers the sandbox attaches (None: no sandbox process).
    pub sandbox_providers: Option<Vec<&'static str>>,
    pub sandbox_args: Vec<String>,
    pub emulator_args: Vec<String>,
}

impl Default for StackOptions {
    fn default() -> Self {
        Self {
            log: "info",
            extra_config: String::new(),
            sandbox_providers: Some(vec!["agent", "bot", "agent-nouser"]),
            sandbox_args: Vec::new(),
            emulator_args: Vec::new(),
        }
    }
}

pub fn random_credential() -> String {
    use base64::Engine;
    let bytes: [u8; 32] = rand_bytes();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn rand_bytes() -> [u8; 32] {
    // Tests avoid a direct rand dependency: hash the time and a counter.
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let seed = format!(
        "{:?}{}{}",
        std::time::SystemTime::now(),
        N.fetch_add(1, Ordering::Relaxed),
        std::process::id()
    );
    Sha256::digest(seed.as_bytes()).into()
}

pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// The gateway config for a generated world.
pub fn gateway_config(
    world: &World,
    emulator_url: &str,
    ca: &Path,
    credential_sha256: &str,
) -> String {
    format!(
        r#"[gateway]
listen = "127.0.0.1:0"
admin_listen = "127.0.0.1:0"
authority_host = "{emulator_url}"
ca_file = "{ca}"

[[provider]]
name = "agent"
tenant = "{tenant}"
blueprint_client_id = "{blueprint}"
agent_identity_client_id = "{ai}"
agent_user = {{ object_id = "{user_oid}" }}
[provider.credential]
type = "certificate"
key_file = "{key}"
certificate_file = "{cert}"
[provider.scopes]
app_allowed = ["{GRAPH_DEFAULT}"]
app_default = ["{GRAPH_DEFAULT}"]
user_allowed = ["{USER_SCOPE}", "https://graph.microsoft.com/Mail.Read", "{GRAPH_DEFAULT}"]
user_default = ["{USER_SCOPE}"]

[[provider]]
name = "agent-nouser"
tenant = "{tenant}"
blueprint_client_id = "{blueprint2}"
agent_identity_client_id = "{ai2}"
[provider.credential]
type = "certificate"
key_file = "{key2}"
certificate_file = "{cert2}"
[provider.scopes]
app_allowed = ["{GRAPH_DEFAULT}"]
app_default = ["{GRAPH_DEFAULT}"]

[[provider]]
name = "bot"
kind = "app"
tenant = "{tenant}"
client_id = "{app}"
[provider.credential]
type = "managed_identity"
client_id = "{mi}"
[provider.scopes]
app_allowed = ["{GRAPH_DEFAULT}"]
app_default = ["{GRAPH_DEFAULT}"]

[[sandbox]]
name = "sandbox-a"
credential_sha256 = "{credential_sha256}"
providers = ["agent", "bot", "agent-nouser"]
"#,
        ca = ca.display(),
        tenant = world.tenant_id,
        blueprint = world.blueprint_app_id,
        ai = world.agent_identity_app_id,
        user_oid = world.agent_user_object_id,
        key = world.blueprint_key_path.display(),
        cert = world.blueprint_cert_path.display(),
        blueprint2 = world.second_blueprint_app_id,
        ai2 = world.second_agent_identity_app_id,
        key2 = world.second_blueprint_key_path.display(),
        cert2 = world.second_blueprint_cert_path.display(),
        app = world.app_id,
        mi = world.mi_client_id,
    )
}

impl Stack {
    pub fn start(options: StackOptions) -> Stack {
        let dir = super::tempdir();
        let world = World::generate(dir.path()).expect("generate world");
        let tls_dir = dir.path().join("tls");
        let mut emulator_args = vec![
            "--log".to_string(),
            options.log.to_string(),
            "emulator".into(),
            "--directory".into(),
            path_str(&world.directory_path),
            "--tls-dir".into(),
            path_str(&tls_dir),
        ];
        emulator_args.extend(options.emulator_args.iter().cloned());
        let args: Vec<&str> = emulator_args.iter().map(String::as_str).collect();
        let emulator = Proc::start("emulator", &args, &[]);
        let emulator_url = emulator.ready["url"].as_str().unwrap().to_string();
        let ca_path = PathBuf::from(emulator.ready["ca"].as_str().unwrap());

        let credential = random_credential();
        let credential_path = dir.path().join("sandbox.credential");
        std::fs::write(&credential_path, &credential).unwrap();
        let config_path = dir.path().join("gateway.toml");
        let mut config = gateway_config(&world, &emulator_url, &ca_path, &sha256_hex(&credential));
        config.push_str(&options.extra_config);
        std::fs::write(&config_path, config).unwrap();

        let mi_endpoint = format!("{emulator_url}/msi/token");
        let gateway = Proc::start(
            "gateway",
            &[
                "--log",
                options.log,
                "gateway",
                "--config",
                &path_str(&config_path),
                "--reload-poll-seconds",
                "1",
            ],
            &[
                ("IDENTITY_ENDPOINT", &mi_endpoint),
                ("IDENTITY_HEADER", &world.identity_header),
            ],
        );
        let gateway_url = gateway.ready["grpc"].as_str().unwrap().to_string();
        let admin_url = gateway.ready["admin"].as_str().unwrap().to_string();

        let sandbox = options.sandbox_providers.as_ref().map(|providers| {
            let mut args = vec![
                "--log".to_string(),
                options.log.to_string(),
                "sandbox".into(),
                "--gateway".into(),
                gateway_url.clone(),
                "--credential-file".into(),
                path_str(&credential_path),
            ];
            for p in providers {
                args.push("--provider".into());
                args.push(p.to_string());
            }
            args.extend(options.sandbox_args.iter().cloned());
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            Proc::start("sandbox", &args, &[])
        });
        Stack {
            dir,
            world,
            emulator,
            gateway,
            sandbox,
            emulator_url,
            gateway_url,
            admin_url,
            config_path,
            credential,
            credential_path,
            ca_path,
        }
    }

    /// The sandbox's URL for a provider: `kind` is "token" or "user-token".
    pub fn url(&self, provider: &str, kind: &str) -> String {
        let ready = &self.sandbox.as_ref().expect("sandbox").ready;
        let key = if kind == "token" {
            "token_url"
        } else {
            "user_token_url"
        };
        ready["urls"][provider][key]
            .as_str()
            .unwrap_or_else(|| panic!("no {key} for {provider} in {ready}"))
            .to_string()
    }

    /// A blocking HTTP client that never uses a proxy.
    pub fn http() -> reqwest::Client {
        reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap()
    }

    /// The emulator's request counts.
    pub async fn emulator_stats(&self) -> Value {
        self.emulator_json("/_emulator/stats").await
    }

    /// A JSON document from the emulator (https, trusting its CA).
    pub async fn emulator_json(&self, path: &str) -> Value {
        let client = reqwest::Client::builder()
            .no_proxy()
            .add_root_certificate(
                reqwest::Certificate::from_pem(&std::fs::read(&self.ca_path).unwrap()).unwrap(),
            )
            .build()
            .unwrap();
        client
            .get(format!("{}{path}", self.emulator_url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

/// Decodes a JWT payload for assertions.
pub fn claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("jwt");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("json")
}
