//! The emulated directory: who exists in each tenant and how each principal proves itself.
//!
//! A [`Directory`] is read from TOML and checked as a whole before the emulator starts (every
//! problem is reported at once). The schema mirrors what an Entra admin would register:
//!
//! ```toml
//! # Optional. The value App Service-style clients must send as X-IDENTITY-HEADER; when absent the
//! # emulator generates one (see Emulator::identity_header).
//! identity_header = "a-long-random-string"
//!
//! # Optional. The cloud the emulator plays: "public" (default), "us_government" or "china". It
//! # decides the token exchange app's identifier URI (api://AzureADTokenExchange,
//! # api://AzureADTokenExchangeUSGov, api://AzureADTokenExchangeChina): T1, T2 and FIC tokens are
//! # requested for that one, and the other clouds' spellings are unknown resources.
//! cloud = "public"
//!
//! # Resources (APIs) that tokens can be requested for, shared by all tenants. The token exchange
//! # app (api://AzureADTokenExchange, fb60f99c-7a34-4190-8149-302f77469936) is built in.
//! [[resource]]
//! app_id = "00000003-0000-0000-c000-000000000000"
//! identifier_uris = ["https://graph.microsoft.com"]
//! access_token_version = 1          # 1: iss https://sts.windows.net/{tid}/ ; 2 (default): v2.0
//!
//! [[tenant]]
//! id = "a GUID"
//! domains = ["contoso.onmicrosoft.com"]   # optional aliases accepted in URL paths
//!
//! [[tenant.blueprint]]                    # an Agent ID Blueprint (an app registration)
//! app_id = "GUID"
//! object_id = "GUID"                      # its service principal's object id
//! display_name = "demo-blueprint"
//! certificates = ["-----BEGIN CERTIFICATE-----\n..."]   # public PEM, RSA
//! client_secret_sha256 = ["hex"]          # see hash_client_secret
//! [[tenant.blueprint.federated_credential]]
//! issuer = "https://login.microsoftonline.com/{tenant}/v2.0"
//! subject = "managed identity object id"
//! audience = "api://AzureADTokenExchange"
//!
//! [[tenant.agent_identity]]
//! app_id = "GUID"
//! object_id = "GUID"
//! blueprint_app_id = "the parent Blueprint's app_id"
//! app_roles = { "https://graph.microsoft.com" = ["User.Read.All"] }   # optional, per resource
//!
//! [[tenant.agent_user]]
//! object_id = "GUID"
//! upn = "agent@contoso.onmicrosoft.com"
//! agent_identity_app_id = "the Agent Identity's app_id"
//! [[tenant.agent_user.consent]]           # delegated permissions granted to the Agent Identity
//! resource = "https://graph.microsoft.com"
//! scopes = ["User.Read", "Mail.Read"]
//!
//! [[tenant.app]]                          # a plain app registration, same fields as a blueprint
//! app_id = "GUID"
//! object_id = "GUID"
//!
//! [[tenant.managed_identity]]
//! client_id = "GUID"
//! object_id = "GUID"
//! resource_id = "/subscriptions/.../userAssignedIdentities/x"   # optional
//! system_assigned = false
//! ```
//!
//! Resource keys (`app_roles`, `consent.resource`) accept an identifier URI or an app id.

mod certificate;
mod index;
mod validate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::secret::Secret;

pub(crate) use certificate::RegisteredCertificate;
pub(crate) use index::{
    ClientKind, ClientRecord, Index, ManagedIdentityRecord, ResolvedResource, TenantIndex,
    UserRecord,
};

/// The token exchange app every tenant has: the audience of federated credentials.
pub const TOKEN_EXCHANGE_APP_ID: &str = "fb60f99c-7a34-4190-8149-302f77469936";
/// The identifier URI of the token exchange app.
pub const TOKEN_EXCHANGE_URI: &str = "api://AzureADTokenExchange";
/// Which Entra cloud the emulator plays. Each has its own token exchange identifier URI (Microsoft's
/// workload identity federation docs); the exchange app's id is the same.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cloud {
    #[default]
    Public,
    UsGovernment,
    China,
}

impl Cloud {
    /// Every cloud.
    pub const ALL: [Cloud; 3] = [Cloud::Public, Cloud::UsGovernment, Cloud::China];

    /// The token exchange app's identifier URI in this cloud.
    pub fn exchange_uri(self) -> &'static str {
        match self {
            Cloud::Public => TOKEN_EXCHANGE_URI,
            Cloud::UsGovernment => "api://AzureADTokenExchangeUSGov",
            Cloud::China => "api://AzureADTokenExchangeChina",
        }
    }

    fn is_public(&self) -> bool {
        *self == Cloud::Public
    }
}

/// Microsoft Graph's app id, the default resource of bare delegated scopes such as `User.Read`.
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
/// Microsoft Graph's identifier URI.
pub const GRAPH_URI: &str = "https://graph.microsoft.com";

/// Everything the emulator knows about: resources, tenants and their principals.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Directory {
    /// The value App Service-style managed-identity clients must send as `X-IDENTITY-HEADER`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_header: Option<Secret>,
    /// The cloud played (its token exchange identifier URI).
    #[serde(default, skip_serializing_if = "Cloud::is_public")]
    pub cloud: Cloud,
    /// APIs tokens can be requested for (besides the built-in token exchange app).
    #[serde(default, rename = "resource", skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<Resource>,
    /// The tenants and their principals.
    #[serde(default, rename = "tenant", skip_serializing_if = "Vec::is_empty")]
    pub tenants: Vec<Tenant>,
}

/// An API (a resource service principal) that tokens can be issued for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    pub app_id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identifier_uris: Vec<String>,
    /// 1 for v1 tokens (`iss` `https://sts.windows.net/{tid}/`, `appid`), 2 for v2 (`azp`).
    #[serde(default = "default_token_version")]
    pub access_token_version: u8,
}

fn default_token_version() -> u8 {
    2
}

/// One tenant and its principals.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tenant {
    pub id: String,
    /// Domain names accepted in place of the id in URL paths.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub domains: Vec<String>,
    #[serde(default, rename = "blueprint", skip_serializing_if = "Vec::is_empty")]
    pub blueprints: Vec<AppRegistration>,
    #[serde(
        default,
        rename = "agent_identity",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub agent_identities: Vec<AgentIdentity>,
    #[serde(default, rename = "agent_user", skip_serializing_if = "Vec::is_empty")]
    pub agent_users: Vec<AgentUser>,
    #[serde(default, rename = "app", skip_serializing_if = "Vec::is_empty")]
    pub apps: Vec<AppRegistration>,
    #[serde(
        default,
        rename = "managed_identity",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub managed_identities: Vec<ManagedIdentity>,
}

/// An app registration with its own credentials: a Blueprint or a plain app.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppRegistration {
    pub app_id: String,
    pub object_id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub display_name: String,
    /// Public certificates (PEM, RSA) whose keys may sign client assertions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<String>,
    /// Hex SHA-256 of each accepted client secret (see [`hash_client_secret`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub client_secret_sha256: Vec<String>,
    #[serde(
        default,
        rename = "federated_credential",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub federated_credentials: Vec<FederatedCredential>,
    /// Application permissions granted, per resource (identifier URI or app id).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub app_roles: BTreeMap<String, Vec<String>>,
}

/// A federated identity credential: a token from `issuer` about `subject` for `audience` is
/// accepted as this app's client assertion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FederatedCredential {
    pub issuer: String,
    pub subject: String,
    pub audience: String,
}

/// An Agent Identity: no credential of its own; it authenticates with a T1 from its Blueprint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentIdentity {
    pub app_id: String,
    pub object_id: String,
    pub blueprint_app_id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub display_name: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub app_roles: BTreeMap<String, Vec<String>>,
}

/// An Agent User: a user account an Agent Identity acts as (hop 3, `user_fic`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentUser {
    pub object_id: String,
    pub upn: String,
    pub agent_identity_app_id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub display_name: String,
    #[serde(default, rename = "consent", skip_serializing_if = "Vec::is_empty")]
    pub consents: Vec<Consent>,
}

/// Delegated scopes of one resource the user's Agent Identity may use on the user's behalf.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consent {
    pub resource: String,
    pub scopes: Vec<String>,
}

/// A managed identity the IMDS and App Service endpoints can issue tokens for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManagedIdentity {
    pub client_id: String,
    pub object_id: String,
    /// The ARM resource id (`xms_mirid`), also usable as `msi_res_id` / `mi_res_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    /// The identity used when a request names none (at most one in the whole directory).
    #[serde(default)]
    pub system_assigned: bool,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub app_roles: BTreeMap<String, Vec<String>>,
}

/// Why a directory could not be read or is inconsistent.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid TOML: {0}")]
    Parse(#[from] toml::de::Error),
    #[error("cannot write TOML: {0}")]
    Serialize(#[from] toml::ser::Error),
    #[error("inconsistent directory: {}", .0.join("; "))]
    Invalid(Vec<String>),
}

impl Directory {
    /// Parses and checks a directory.
    pub fn from_toml_str(text: &str) -> Result<Self, DirectoryError> {
        let directory: Directory = toml::from_str(text)?;
        directory.validate()?;
        Ok(directory)
    }

    /// Reads, parses and checks a directory file.
    pub fn load(path: &Path) -> Result<Self, DirectoryError> {
        let text = std::fs::read_to_string(path).map_err(|source| DirectoryError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml_str(&text)
    }

    /// The TOML form, readable by [`Directory::from_toml_str`].
    pub fn to_toml_string(&self) -> Result<String, DirectoryError> {
        Ok(toml::to_string_pretty(self)?)
    }

    /// Checks every cross-reference and certificate; reports all problems at once.
    pub fn validate(&self) -> Result<(), DirectoryError> {
        Index::build(self).map(|_| ())
    }
}

/// The hex SHA-256 of a client secret, as stored in `client_secret_sha256`.
pub fn hash_client_secret(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
