//! A ready-made universe for the demo and tests: one tenant with two Blueprint → Agent Identity →
//! Agent User chains (the second for isolation tests), a plain app (a "teams bot") whose federated
//! credential trusts the host's system-assigned managed identity, a "stray" user-assigned managed
//! identity nobody trusts, and Microsoft Graph. Every id is a fresh random GUID.
//!
//! Files written into the folder: `directory.toml`, `blueprint.key.pem` / `blueprint.cert.pem`,
//! `second-blueprint.key.pem` / `second-blueprint.cert.pem`, and `teams-bot.secret` (a client
//! secret of the app, for the secret credential).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::directory::{
    AgentIdentity, AgentUser, AppRegistration, Consent, Directory, DirectoryError,
    FederatedCredential, GRAPH_APP_ID, GRAPH_URI, ManagedIdentity, Resource, TOKEN_EXCHANGE_URI,
    Tenant, hash_client_secret,
};
use crate::pki::{self, PkiError};
use crate::secret::Secret;
use crate::tokens::{issuer, random_string};

/// Delegated Graph scopes every generated Agent User has consented to.
pub const CONSENTED_GRAPH_SCOPES: [&str; 3] = ["User.Read", "Mail.Read", "Calendars.Read"];
/// Application permissions on Graph granted to every generated Agent Identity.
pub const AGENT_GRAPH_ROLES: [&str; 1] = ["User.Read.All"];
/// How long generated Blueprint certificates are valid.
const CERT_VALIDITY: Duration = Duration::from_secs(365 * 24 * 3600);

/// Why a world could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum WorldError {
    #[error(transparent)]
    Pki(#[from] PkiError),
    #[error(transparent)]
    Directory(#[from] DirectoryError),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// One Blueprint → Agent Identity → Agent User chain and its credential files.
struct AgentChain {
    blueprint_app_id: String,
    blueprint_object_id: String,
    blueprint_key_path: PathBuf,
    blueprint_cert_path: PathBuf,
    agent_identity_app_id: String,
    agent_identity_object_id: String,
    agent_user_object_id: String,
    agent_user_upn: String,
}

/// The generated universe: ids and file paths. Not `Debug`: it holds the identity header.
#[derive(Clone)]
pub struct World {
    pub dir: PathBuf,
    pub directory_path: PathBuf,
    pub directory: Directory,
    pub tenant_id: String,
    pub tenant_domain: String,
    /// "demo-blueprint", its certificate files, its Agent Identity and that identity's Agent User
    /// (consented to [`CONSENTED_GRAPH_SCOPES`] on Graph).
    pub blueprint_app_id: String,
    pub blueprint_object_id: String,
    pub blueprint_key_path: PathBuf,
    pub blueprint_cert_path: PathBuf,
    pub agent_identity_app_id: String,
    pub agent_identity_object_id: String,
    pub agent_user_object_id: String,
    pub agent_user_upn: String,
    /// A second, unrelated chain ("second-blueprint"), for isolation tests.
    pub second_blueprint_app_id: String,
    pub second_blueprint_object_id: String,
    pub second_blueprint_key_path: PathBuf,
    pub second_blueprint_cert_path: PathBuf,
    pub second_agent_identity_app_id: String,
    pub second_agent_identity_object_id: String,
    pub second_agent_user_object_id: String,
    pub second_agent_user_upn: String,
    /// The plain app registration ("teams bot"); its federated credential trusts the managed
    /// identity below.
    pub app_id: String,
    pub app_object_id: String,
    /// A file holding a client secret registered on the app.
    pub app_secret_path: PathBuf,
    /// The (system-assigned) managed identity.
    pub mi_client_id: String,
    pub mi_object_id: String,
    pub mi_resource_id: String,
    /// A user-assigned managed identity that no federated credential trusts (a FIC mismatch,
    /// AADSTS70021, when an app presents its token).
    pub stray_mi_client_id: String,
    pub stray_mi_object_id: String,
    /// The value App Service-style clients send as `X-IDENTITY-HEADER`.
    pub identity_header: String,
    pub graph_resource: String,
    pub graph_app_id: String,
}

fn guid() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl World {
    /// Generates keys, certificates and `directory.toml` into `dir` (which must exist).
    pub fn generate(dir: &Path) -> Result<World, WorldError> {
        let tenant_id = guid();
        let tenant_domain = format!("agentmint-{}.onmicrosoft.com", &tenant_id[..8]);
        let mut tenant = Tenant {
            id: tenant_id.clone(),
            domains: vec![tenant_domain.clone()],
            ..Tenant::default()
        };
        let primary = add_chain(
            dir,
            &mut tenant,
            "demo-blueprint",
            "blueprint",
            "demo-agent",
        )?;
        let second = add_chain(
            dir,
            &mut tenant,
            "second-blueprint",
            "second-blueprint",
            "second-agent",
        )?;

        let (mi_client_id, mi_object_id) = (guid(), guid());
        let mi_resource_id = format!(
            "/subscriptions/{}/resourceGroups/agentmint/providers/Microsoft.Compute/virtualMachines/agentmint-host",
            guid()
        );
        tenant.managed_identities.push(ManagedIdentity {
            client_id: mi_client_id.clone(),
            object_id: mi_object_id.clone(),
            resource_id: Some(mi_resource_id.clone()),
            system_assigned: true,
            ..ManagedIdentity::default()
        });

        let (stray_mi_client_id, stray_mi_object_id) = (guid(), guid());
        tenant.managed_identities.push(ManagedIdentity {
            client_id: stray_mi_client_id.clone(),
            object_id: stray_mi_object_id.clone(),
            resource_id: Some(format!(
                "/subscriptions/{}/resourceGroups/agentmint/providers/Microsoft.ManagedIdentity/userAssignedIdentities/stray",
                guid()
            )),
            ..ManagedIdentity::default()
        });

        let (app_id, app_object_id) = (guid(), guid());
        let app_secret = random_string(30);
        let app_secret_path = write(dir, "teams-bot.secret", &app_secret)?;
        tenant.apps.push(AppRegistration {
            app_id: app_id.clone(),
            object_id: app_object_id.clone(),
            display_name: "teams bot".into(),
            client_secret_sha256: vec![hash_client_secret(&app_secret)],
            federated_credentials: vec![FederatedCredential {
                issuer: issuer(&tenant_id, 2),
                subject: mi_object_id.clone(),
                audience: TOKEN_EXCHANGE_URI.into(),
            }],
            app_roles: [(
                GRAPH_URI.to_string(),
                vec!["ChannelMessage.Send".to_string()],
            )]
            .into(),
            ..AppRegistration::default()
        });

        let identity_header = random_string(32);
        let directory = Directory {
            identity_header: Some(Secret::new(identity_header.clone())),
            cloud: Default::default(),
            resources: vec![Resource {
                app_id: GRAPH_APP_ID.into(),
                identifier_uris: vec![GRAPH_URI.into()],
                access_token_version: 1,
            }],
            tenants: vec![tenant],
        };
        directory.validate()?;
        let directory_path = write(dir, "directory.toml", &directory.to_toml_string()?)?;
        Ok(World {
            dir: dir.to_path_buf(),
            directory_path,
            directory,
            tenant_id,
            tenant_domain,
            blueprint_app_id: primary.blueprint_app_id,
            blueprint_object_id: primary.blueprint_object_id,
            blueprint_key_path: primary.blueprint_key_path,
            blueprint_cert_path: primary.blueprint_cert_path,
            agent_identity_app_id: primary.agent_identity_app_id,
            agent_identity_object_id: primary.agent_identity_object_id,
            agent_user_object_id: primary.agent_user_object_id,
            agent_user_upn: primary.agent_user_upn,
            second_blueprint_app_id: second.blueprint_app_id,
            second_blueprint_object_id: second.blueprint_object_id,
            second_blueprint_key_path: second.blueprint_key_path,
            second_blueprint_cert_path: second.blueprint_cert_path,
            second_agent_identity_app_id: second.agent_identity_app_id,
            second_agent_identity_object_id: second.agent_identity_object_id,
            second_agent_user_object_id: second.agent_user_object_id,
            second_agent_user_upn: second.agent_user_upn,
            app_id,
            app_object_id,
            app_secret_path,
            mi_client_id,
            mi_object_id,
            mi_resource_id,
            stray_mi_client_id,
            stray_mi_object_id,
            identity_header,
            graph_resource: GRAPH_URI.into(),
            graph_app_id: GRAPH_APP_ID.into(),
        })
    }
}

/// Adds a Blueprint (with a fresh certificate written to `{file_stem}.key.pem`/`.cert.pem`), its
/// Agent Identity and that identity's Agent User.
fn add_chain(
    dir: &Path,
    tenant: &mut Tenant,
    blueprint_name: &str,
    file_stem: &str,
    agent_name: &str,
) -> Result<AgentChain, WorldError> {
    let now = SystemTime::now();
    let cert = pki::generate_client_certificate(
        blueprint_name,
        now - Duration::from_secs(3600),
        now + CERT_VALIDITY,
    )?;
    let blueprint_key_path = write(dir, &format!("{file_stem}.key.pem"), &cert.key_pem)?;
    let blueprint_cert_path = write(dir, &format!("{file_stem}.cert.pem"), &cert.cert_pem)?;
    let chain = AgentChain {
        blueprint_app_id: guid(),
        blueprint_object_id: guid(),
        blueprint_key_path,
        blueprint_cert_path,
        agent_identity_app_id: guid(),
        agent_identity_object_id: guid(),
        agent_user_object_id: guid(),
        agent_user_upn: format!("{agent_name}@{}", tenant.domains[0]),
    };
    tenant.blueprints.push(AppRegistration {
        app_id: chain.blueprint_app_id.clone(),
        object_id: chain.blueprint_object_id.clone(),
        display_name: blueprint_name.into(),
        certificates: vec![cert.cert_pem],
        ..AppRegistration::default()
    });
    tenant.agent_identities.push(AgentIdentity {
        app_id: chain.agent_identity_app_id.clone(),
        object_id: chain.agent_identity_object_id.clone(),
        blueprint_app_id: chain.blueprint_app_id.clone(),
        display_name: format!("{agent_name} identity"),
        app_roles: [(
            GRAPH_URI.to_string(),
            AGENT_GRAPH_ROLES.iter().map(|r| (*r).to_string()).collect(),
        )]
        .into(),
    });
    tenant.agent_users.push(AgentUser {
        object_id: chain.agent_user_object_id.clone(),
        upn: chain.agent_user_upn.clone(),
        agent_identity_app_id: chain.agent_identity_app_id.clone(),
        display_name: format!("{agent_name} user"),
        consents: vec![Consent {
            resource: GRAPH_URI.into(),
            scopes: CONSENTED_GRAPH_SCOPES
                .iter()
                .map(|s| (*s).to_string())
                .collect(),
        }],
    });
    Ok(chain)
}

fn write(dir: &Path, name: &str, contents: &str) -> Result<PathBuf, WorldError> {
    let path = dir.join(name);
    std::fs::write(&path, contents).map_err(|source| WorldError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}
