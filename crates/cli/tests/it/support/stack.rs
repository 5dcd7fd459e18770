//! The three processes of a deployment — emulator, gateway, sandbox resolver — started from the real
//! binary against a generated Entra universe. The config and credentials are the shared stack's
//! ([`agentmint_stack::Layout`]); only the processes are this module's.

use std::path::PathBuf;
use std::time::Duration;

use agentmint_emulator::world::World;
use agentmint_stack::layout::MAIL_READ;
use agentmint_stack::{Blueprint, Layout, Provider, Sandbox};
use serde_json::Value;

use super::{Proc, path_str};

pub use agentmint_stack::layout::{GRAPH_DEFAULT, USER_READ as USER_SCOPE};

pub struct Stack {
    pub world: World,
    pub gateway: Proc,
    pub sandbox: Option<Proc>,
    pub emulator_url: String,
    pub gateway_url: String,
    pub admin_url: String,
    pub config_path: PathBuf,
    pub credential: String,
    pub credential_path: PathBuf,
    pub ca_path: PathBuf,
    _emulator: Proc,
    _dir: tempfile::TempDir,
}

/// How to shape the deployment.
#[derive(Clone)]
pub struct StackOptions {
    pub log: &'static str,
    /// Extra TOML appended to the generated config (such as `[gateway.tls]`).
    pub extra_config: String,
    /// Providers the sandbox process attaches (None: no sandbox process).
    pub sandbox_providers: Option<Vec<&'static str>>,
    pub sandbox_args: Vec<String>,
}

impl Default for StackOptions {
    fn default() -> Self {
        Self {
            log: "info",
            extra_config: String::new(),
            sandbox_providers: Some(PROVIDERS.to_vec()),
            sandbox_args: Vec::new(),
        }
    }
}

/// Every provider of the config, all attached to sandbox-a.
const PROVIDERS: [&str; 3] = ["agent", "bot", "agent-nouser"];

/// "agent" (first Blueprint, Agent User by object id), "agent-nouser" (second Blueprint, no Agent
/// User) and "bot" (app registration, managed identity), all attached to sandbox-a.
fn layout(extra_config: String) -> Layout {
    Layout {
        providers: vec![
            Provider::first_agent("agent", &[USER_SCOPE, MAIL_READ, GRAPH_DEFAULT]),
            Provider::agent("agent-nouser", Blueprint::Second, None, &[]),
            Provider::bot("bot"),
        ],
        sandboxes: vec![Sandbox::new(SANDBOX, &PROVIDERS)],
        extra_config,
    }
}

const SANDBOX: &str = "sandbox-a";

impl Stack {
    pub fn start(options: StackOptions) -> Stack {
        let dir = super::tempdir();
        let world = World::generate(dir.path()).expect("generate world");
        let tls_dir = dir.path().join("tls");
        let emulator_args = [
            "--log".to_string(),
            options.log.to_string(),
            "emulator".into(),
            "--directory".into(),
            path_str(&world.directory_path),
            "--tls-dir".into(),
            path_str(&tls_dir),
        ];
        let args: Vec<&str> = emulator_args.iter().map(String::as_str).collect();
        let emulator = Proc::start("emulator", &args, &[]);
        let emulator_url = emulator.ready["url"].as_str().unwrap().to_string();
        let ca_path = PathBuf::from(emulator.ready["ca"].as_str().unwrap());

        let deployment = layout(options.extra_config.clone())
            .write(&world, &emulator_url, Some(&ca_path))
            .unwrap();
        let config_path = deployment.config_path.clone();
        let sandbox = deployment.sandbox(SANDBOX).unwrap().clone();
        let (credential, credential_path) = (sandbox.credential, sandbox.credential_path);

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
            world,
            gateway,
            sandbox,
            emulator_url,
            gateway_url,
            admin_url,
            config_path,
            credential,
            credential_path,
            ca_path,
            _emulator: emulator,
            _dir: dir,
        }
    }

    /// Emulator and gateway only, for tests that start their own resolver or call the gateway.
    pub fn without_sandbox() -> Stack {
        Stack::start(StackOptions {
            sandbox_providers: None,
            ..StackOptions::default()
        })
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

    /// `sandbox --gateway URL --credential-file FILE --provider agent`: a resolver of sandbox-a,
    /// for a test to extend with its own flags.
    pub fn sandbox_command(&self) -> Vec<String> {
        [
            "sandbox",
            "--gateway",
            &self.gateway_url,
            "--credential-file",
            &path_str(&self.credential_path),
            "--provider",
            "agent",
        ]
        .map(str::to_owned)
        .to_vec()
    }

    /// Everything the emulator process logged so far.
    pub fn emulator_output(&self) -> String {
        self._emulator.output()
    }

    /// The gateway's Prometheus exposition, from its admin port.
    pub async fn metrics(&self) -> String {
        let url = format!("{}/metrics", self.admin_url);
        fetch(&Self::http(), &url).await.text().await.unwrap()
    }

    /// The emulator's request counts.
    pub async fn emulator_stats(&self) -> Value {
        self.emulator_json("/_emulator/stats").await
    }

    /// A JSON document from the emulator.
    pub async fn emulator_json(&self, path: &str) -> Value {
        let url = format!("{}{path}", self.emulator_url);
        fetch(&self.emulator_client(), &url)
            .await
            .json()
            .await
            .unwrap()
    }

    /// `PUT /_emulator/knobs`: changes how the emulator answers (latency, throttling, ...).
    pub async fn set_knobs(&self, knobs: Value) {
        self.emulator_client()
            .put(format!("{}/_emulator/knobs", self.emulator_url))
            .json(&knobs)
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap();
    }

    /// The config text `config` with the bot's managed identity swapped for one no federated
    /// credential trusts, so Entra refuses the app hop with AADSTS70021.
    pub fn with_the_bots_federation_broken(&self, config: &str) -> String {
        let client_id = |id: &str| format!("client_id = \"{id}\"\n[provider.scopes]");
        let broken = config.replace(
            &client_id(&self.world.mi_client_id),
            &client_id(&self.world.stray_mi_client_id),
        );
        assert_ne!(
            config, broken,
            "the config names the bot's managed identity"
        );
        broken
    }

    /// An https client of the emulator, trusting its CA.
    fn emulator_client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .no_proxy()
            .add_root_certificate(
                reqwest::Certificate::from_pem(&std::fs::read(&self.ca_path).unwrap()).unwrap(),
            )
            .build()
            .unwrap()
    }
}

/// Polls `GET url` (every 10 ms, at most `tries` times) until it answers `status`; false if it
/// never did.
pub async fn wait_for_status(url: &str, status: u16, tries: usize) -> bool {
    for _ in 0..tries {
        let answer = Stack::http().get(url).send().await;
        if answer.is_ok_and(|r| r.status().as_u16() == status) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

/// GETs `url`, expecting an answer (of any status).
async fn fetch(client: &reqwest::Client, url: &str) -> reqwest::Response {
    client.get(url).send().await.unwrap()
}

pub use agentmint_testkit::jwt::claims;
