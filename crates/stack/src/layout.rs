//! The gateway config of a generated world: which provider and sandbox records it holds, written as
//! the TOML an operator would write, with the emulator as the authority host.
//!
//! In-process stacks ([`crate::Stack`]) and cross-process tests (which start the emulator, gateway
//! and resolver as `agentmint` processes) both write their config here, so the records exist once.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use agentmint_emulator::world::World;

use crate::credential::{credential_sha256, random_credential};

/// The app-only scope every provider allows and defaults to.
pub const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";
/// The delegated scope user tokens default to.
pub const USER_READ: &str = "https://graph.microsoft.com/User.Read";
/// A second delegated scope the world's Agent Users have consented to.
pub const MAIL_READ: &str = "https://graph.microsoft.com/Mail.Read";

/// Which of the world's two Blueprints (each with its Agent Identity and Agent User).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blueprint {
    First,
    Second,
}

/// How a provider record names its Agent User.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserBy {
    Upn,
    ObjectId,
}

/// One `[[provider]]` record over the generated world.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provider {
    /// An Entra agent: a Blueprint (certificate credential) → its Agent Identity, and with `user`
    /// its Agent User, allowed `user_scopes` (the first is the default).
    Agent {
        name: String,
        blueprint: Blueprint,
        user: Option<UserBy>,
        user_scopes: Vec<String>,
    },
    /// The world's app registration (a Teams bot) whose credential is the world's managed identity.
    Bot { name: String },
    /// The same app registration with its client secret file as the credential (development
    /// style; the rotation tests renew that file in place).
    SecretApp { name: String },
}

impl Provider {
    /// An agent provider over `blueprint`; with `user`, its Agent User allowed `user_scopes` (the
    /// first is the default).
    pub fn agent(
        name: &str,
        blueprint: Blueprint,
        user: Option<UserBy>,
        user_scopes: &[&str],
    ) -> Self {
        Provider::Agent {
            name: name.to_owned(),
            blueprint,
            user,
            user_scopes: user_scopes.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    /// The agent most tests mint for: the first Blueprint, its Agent User named by object id and
    /// allowed `user_scopes`.
    pub fn first_agent(name: &str, user_scopes: &[&str]) -> Self {
        Self::agent(name, Blueprint::First, Some(UserBy::ObjectId), user_scopes)
    }

    /// The world's app registration under `name`.
    pub fn bot(name: &str) -> Self {
        Provider::Bot {
            name: name.to_owned(),
        }
    }
}

/// One `[[sandbox]]` record and the credential it is known by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sandbox {
    pub name: String,
    /// The bearer credential (the config holds its SHA-256 only).
    pub credential: String,
    pub providers: Vec<String>,
    /// Name the credential by its file (`credential_file`) instead of its hash, so that renewing
    /// the file renews the credential.
    pub by_file: bool,
}

impl Sandbox {
    /// A sandbox with a fresh random credential.
    pub fn new(name: &str, providers: &[&str]) -> Self {
        Self {
            name: name.to_owned(),
            credential: random_credential(),
            providers: providers.iter().map(|p| (*p).to_owned()).collect(),
            by_file: false,
        }
    }
}

/// What the gateway config holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    pub providers: Vec<Provider>,
    pub sandboxes: Vec<Sandbox>,
    /// TOML appended as is (for example `[gateway.tls]` or `[gateway.cache]`).
    pub extra_config: String,
}

/// A sandbox's credential as written next to the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxFile {
    pub name: String,
    pub credential: String,
    /// The file holding the credential, as `agentmint sandbox --credential-file` reads it.
    pub credential_path: PathBuf,
}

/// The files [`Layout::write`] produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    pub config_path: PathBuf,
    pub sandboxes: Vec<SandboxFile>,
}

impl Deployment {
    /// The credential file of the sandbox named `name`.
    pub fn sandbox(&self, name: &str) -> Option<&SandboxFile> {
        self.sandboxes.iter().find(|s| s.name == name)
    }
}

impl Layout {
    /// Writes `gateway.toml` and one `NAME.credential` file per sandbox into the world's folder.
    /// `authority_host` is the emulator's URL; `ca_file` its CA when it serves https.
    pub fn write(
        &self,
        world: &World,
        authority_host: &str,
        ca_file: Option<&Path>,
    ) -> std::io::Result<Deployment> {
        let mut sandboxes = Vec::new();
        for sandbox in &self.sandboxes {
            let credential_path = world.dir.join(format!("{}.credential", sandbox.name));
            std::fs::write(&credential_path, &sandbox.credential)?;
            sandboxes.push(SandboxFile {
                name: sandbox.name.clone(),
                credential: sandbox.credential.clone(),
                credential_path,
            });
        }
        let config_path = world.dir.join("gateway.toml");
        std::fs::write(&config_path, self.toml(world, authority_host, ca_file))?;
        Ok(Deployment {
            config_path,
            sandboxes,
        })
    }

    /// The config text.
    pub fn toml(&self, world: &World, authority_host: &str, ca_file: Option<&Path>) -> String {
        let mut out = String::from(
            "# Generated by agentmint: real provider records pointing at the local emulator.\n\
             [gateway]\nlisten = \"127.0.0.1:0\"\nadmin_listen = \"127.0.0.1:0\"\n",
        );
        let _ = writeln!(out, "authority_host = {}", quote(authority_host));
        if let Some(ca) = ca_file {
            let _ = writeln!(out, "ca_file = {}", quote(&ca.display().to_string()));
        }
        for provider in &self.providers {
            provider_toml(&mut out, world, provider);
        }
        for sandbox in &self.sandboxes {
            let credential = if sandbox.by_file {
                let path = world.dir.join(format!("{}.credential", sandbox.name));
                format!("credential_file = {}", quote(&path.display().to_string()))
            } else {
                format!(
                    "credential_sha256 = \"{}\"",
                    credential_sha256(&sandbox.credential)
                )
            };
            let _ = write!(
                out,
                "\n[[sandbox]]\nname = {}\n{credential}\nproviders = {}\n",
                quote(&sandbox.name),
                list(&sandbox.providers),
            );
        }
        out.push_str(&self.extra_config);
        out
    }
}

fn provider_toml(out: &mut String, world: &World, provider: &Provider) {
    let tenant = &world.tenant_id;
    let graph = [GRAPH_DEFAULT.to_owned()];
    match provider {
        Provider::Agent {
            name,
            blueprint,
            user,
            user_scopes,
        } => {
            let (bp, ai, key, cert, oid, upn) = match blueprint {
                Blueprint::First => (
                    &world.blueprint_app_id,
                    &world.agent_identity_app_id,
                    &world.blueprint_key_path,
                    &world.blueprint_cert_path,
                    &world.agent_user_object_id,
                    &world.agent_user_upn,
                ),
                Blueprint::Second => (
                    &world.second_blueprint_app_id,
                    &world.second_agent_identity_app_id,
                    &world.second_blueprint_key_path,
                    &world.second_blueprint_cert_path,
                    &world.second_agent_user_object_id,
                    &world.second_agent_user_upn,
                ),
            };
            let _ = write!(
                out,
                "\n[[provider]]\nname = {}\ntenant = \"{tenant}\"\nblueprint_client_id = \"{bp}\"\n\
                 agent_identity_client_id = \"{ai}\"\n",
                quote(name)
            );
            match user {
                Some(UserBy::Upn) => {
                    let _ = writeln!(out, "agent_user = {{ upn = {} }}", quote(upn));
                }
                Some(UserBy::ObjectId) => {
                    let _ = writeln!(out, "agent_user = {{ object_id = \"{oid}\" }}");
                }
                None => {}
            }
            let _ = write!(
                out,
                "[provider.credential]\ntype = \"certificate\"\nkey_file = {}\ncertificate_file = {}\n",
                quote(&key.display().to_string()),
                quote(&cert.display().to_string()),
            );
            scopes_toml(out, &graph);
            if user.is_some()
                && let Some(default) = user_scopes.first()
            {
                let _ = write!(
                    out,
                    "user_allowed = {}\nuser_default = {}\n",
                    list(user_scopes),
                    list(std::slice::from_ref(default)),
                );
            }
        }
        Provider::Bot { name } => {
            let _ = write!(
                out,
                "\n[[provider]]\nname = {}\nkind = \"app\"\ntenant = \"{tenant}\"\nclient_id = \"{}\"\n\
                 [provider.credential]\ntype = \"managed_identity\"\nclient_id = \"{}\"\n",
                quote(name),
                world.app_id,
                world.mi_client_id,
            );
            scopes_toml(out, &graph);
        }
        Provider::SecretApp { name } => {
            let _ = write!(
                out,
                "\n[[provider]]\nname = {}\nkind = \"app\"\ntenant = \"{tenant}\"\nclient_id = \"{}\"\n\
                 [provider.credential]\ntype = \"client_secret\"\nsecret_file = {}\n",
                quote(name),
                world.app_id,
                quote(&world.app_secret_path.display().to_string()),
            );
            scopes_toml(out, &graph);
        }
    }
}

fn scopes_toml(out: &mut String, app: &[String]) {
    let _ = write!(
        out,
        "[provider.scopes]\napp_allowed = {}\napp_default = {}\n",
        list(app),
        list(app)
    );
}

/// A TOML basic string.
fn quote(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A TOML array of basic strings.
fn list(values: &[String]) -> String {
    let items: Vec<String> = values.iter().map(|v| quote(v)).collect();
    format!("[{}]", items.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_written_config_is_valid_and_names_each_sandbox_by_its_hash() {
        let dir = tempfile::tempdir().unwrap();
        let world = World::generate(dir.path()).unwrap();
        let layout = Layout {
            providers: vec![
                Provider::Agent {
                    name: "agent".into(),
                    blueprint: Blueprint::First,
                    user: Some(UserBy::Upn),
                    user_scopes: vec![USER_READ.into(), MAIL_READ.into()],
                },
                Provider::Agent {
                    name: "plain".into(),
                    blueprint: Blueprint::Second,
                    user: None,
                    user_scopes: Vec::new(),
                },
                Provider::Bot { name: "bot".into() },
            ],
            sandboxes: vec![Sandbox::new("s", &["agent", "plain", "bot"])],
            extra_config: "\n[gateway.cache]\nmax_entries = 7\n".into(),
        };
        let written = layout.write(&world, "http://127.0.0.1:1", None).unwrap();
        let loaded = agentmint_config::load(&written.config_path).unwrap_or_else(|d| panic!("{d}"));
        let cfg = &loaded.config;
        assert_eq!(cfg.providers.len(), 3);
        assert_eq!(cfg.gateway.cache.max_entries, Some(7));
        let sandbox = written.sandbox("s").unwrap();
        assert_eq!(
            std::fs::read_to_string(&sandbox.credential_path).unwrap(),
            sandbox.credential
        );
        let hash = cfg.sandboxes[0].credential_sha256().map(hex::encode);
        assert_eq!(hash, Some(credential_sha256(&sandbox.credential)));
    }
}
