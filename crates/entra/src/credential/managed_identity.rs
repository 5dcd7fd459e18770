//! Managed identity as a federated credential: a token for `api://AzureADTokenExchange` from the
//! host's managed-identity endpoint becomes the client assertion of a `client_credentials` grant.
//!
//! This module only describes the request (endpoint, query, headers) exactly as PROTOCOL.md gives it;
//! [`crate::client::EntraClient`] sends it without any proxy and applies IMDS's retry rules, and the
//! chains cache the result per (endpoint, identity, resource).

use std::fmt;

use crate::grant::FieldValue;
use crate::keys::ManagedIdentityKey;
use crate::secret::Secret;

use super::CredentialError;

/// Azure's instance metadata endpoint for managed-identity tokens.
pub const IMDS_ENDPOINT: &str = "http://169.254.169.254/metadata/identity/oauth2/token";
/// The IMDS token path, appended to an `AZURE_POD_IDENTITY_AUTHORITY_HOST` override.
const IMDS_PATH: &str = "/metadata/identity/oauth2/token";
/// The `api-version` IMDS is called with.
pub const IMDS_API_VERSION: &str = "2018-02-01";
/// The `api-version` App Service / Functions endpoints are called with.
pub const APP_SERVICE_API_VERSION: &str = "2019-08-01";

/// Where managed-identity tokens come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManagedIdentitySource {
    /// Azure VMs, VM scale sets, AKS (and pod-identity style redirects).
    Imds { endpoint: String },
    /// App Service, Functions, Container Apps: `IDENTITY_ENDPOINT` + `IDENTITY_HEADER`.
    AppService { endpoint: String, header: Secret },
}

impl ManagedIdentitySource {
    /// The source the host offers, decided the way the Azure SDKs do: App Service when both
    /// `IDENTITY_ENDPOINT` and `IDENTITY_HEADER` are set, else IMDS (at
    /// `AZURE_POD_IDENTITY_AUTHORITY_HOST` when that is set). `lookup` is the environment, injected.
    pub fn from_env(lookup: &dyn Fn(&str) -> Option<String>) -> Self {
        let set = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        if let (Some(endpoint), Some(header)) = (set("IDENTITY_ENDPOINT"), set("IDENTITY_HEADER")) {
            return ManagedIdentitySource::AppService {
                endpoint: endpoint.trim().to_owned(),
                header: Secret::new(header.trim()),
            };
        }
        let endpoint = match set("AZURE_POD_IDENTITY_AUTHORITY_HOST") {
            Some(host) => format!("{}{IMDS_PATH}", host.trim().trim_end_matches('/')),
            None => IMDS_ENDPOINT.to_owned(),
        };
        ManagedIdentitySource::Imds { endpoint }
    }

    /// The endpoint URL (no secret).
    pub fn endpoint(&self) -> &str {
        match self {
            ManagedIdentitySource::Imds { endpoint }
            | ManagedIdentitySource::AppService { endpoint, .. } => endpoint,
        }
    }
}

/// A user-assigned identity, by exactly one of its ids.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UserAssignedIdentity {
    ClientId(String),
    ObjectId(String),
    /// The ARM resource id (`/subscriptions/.../userAssignedIdentities/name`).
    ResourceId(String),
}

impl UserAssignedIdentity {
    /// The query parameter naming this identity at `source` (the resource-id name differs).
    pub fn query_param(&self, source: &ManagedIdentitySource) -> (&'static str, &str) {
        match (self, source) {
            (UserAssignedIdentity::ClientId(id), _) => ("client_id", id),
            (UserAssignedIdentity::ObjectId(id), _) => ("object_id", id),
            (UserAssignedIdentity::ResourceId(id), ManagedIdentitySource::Imds { .. }) => {
                ("msi_res_id", id)
            }
            (UserAssignedIdentity::ResourceId(id), ManagedIdentitySource::AppService { .. }) => {
                ("mi_res_id", id)
            }
        }
    }

    fn describe(&self) -> String {
        match self {
            UserAssignedIdentity::ClientId(id) => format!("client_id={id}"),
            UserAssignedIdentity::ObjectId(id) => format!("object_id={id}"),
            UserAssignedIdentity::ResourceId(id) => format!("resource_id={id}"),
        }
    }
}

/// One managed-identity token request, ready to send.
#[derive(Debug, Clone)]
pub struct ManagedIdentityRequest {
    /// The endpoint with every query parameter.
    pub url: url::Url,
    pub headers: Vec<(&'static str, FieldValue)>,
}

/// A managed identity (system-assigned when `identity` is `None`).
#[derive(Clone, PartialEq, Eq)]
pub struct ManagedIdentityCredential {
    source: ManagedIdentitySource,
    identity: Option<UserAssignedIdentity>,
}

impl ManagedIdentityCredential {
    pub fn new(source: ManagedIdentitySource, identity: Option<UserAssignedIdentity>) -> Self {
        Self { source, identity }
    }

    pub fn source(&self) -> &ManagedIdentitySource {
        &self.source
    }

    pub fn identity(&self) -> Option<&UserAssignedIdentity> {
        self.identity.as_ref()
    }

    /// `endpoint` or `endpoint (client_id=...)`: non-secret, used in fingerprints and messages.
    pub fn describe(&self) -> String {
        match &self.identity {
            Some(id) => format!("{} ({})", self.source.endpoint(), id.describe()),
            None => format!("{} (system-assigned)", self.source.endpoint()),
        }
    }

    /// The cache key of this identity's token for `resource`.
    pub fn key(&self, resource: &str) -> ManagedIdentityKey {
        ManagedIdentityKey {
            source: self.source.endpoint().to_owned(),
            identity: self.identity.as_ref().map(UserAssignedIdentity::describe),
            resource: resource.to_owned(),
        }
    }

    /// The GET request for a token for `resource` (no `/.default` on these endpoints).
    pub fn request(&self, resource: &str) -> Result<ManagedIdentityRequest, CredentialError> {
        let endpoint = self.source.endpoint();
        let mut url = url::Url::parse(endpoint).map_err(|_| CredentialError::BadEndpoint {
            endpoint: endpoint.to_owned(),
        })?;
        let (api_version, header) = match &self.source {
            ManagedIdentitySource::Imds { .. } => (
                IMDS_API_VERSION,
                ("Metadata", FieldValue::Plain("true".to_owned())),
            ),
            ManagedIdentitySource::AppService { header, .. } => (
                APP_SERVICE_API_VERSION,
                ("X-IDENTITY-HEADER", FieldValue::Secret(header.clone())),
            ),
        };
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("api-version", api_version);
            query.append_pair("resource", resource);
            if let Some(identity) = &self.identity {
                let (name, value) = identity.query_param(&self.source);
                query.append_pair(name, value);
            }
        }
        Ok(ManagedIdentityRequest {
            url,
            headers: vec![header],
        })
    }
}

impl fmt::Debug for ManagedIdentityCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManagedIdentityCredential")
            .field("source", &self.source)
            .field("identity", &self.identity)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn app_service_needs_both_variables() {
        let both = env(&[
            ("IDENTITY_ENDPOINT", "http://127.0.0.1:4141/msi/token"),
            ("IDENTITY_HEADER", "hdr"),
        ]);
        assert_eq!(
            ManagedIdentitySource::from_env(&both),
            ManagedIdentitySource::AppService {
                endpoint: "http://127.0.0.1:4141/msi/token".into(),
                header: Secret::new("hdr"),
            }
        );
        let one = env(&[("IDENTITY_ENDPOINT", "http://127.0.0.1:4141/msi/token")]);
        assert_eq!(
            ManagedIdentitySource::from_env(&one),
            ManagedIdentitySource::Imds {
                endpoint: IMDS_ENDPOINT.into()
            }
        );
    }

    #[test]
    fn pod_identity_host_redirects_imds() {
        let e = env(&[("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://10.0.0.5:2579/")]);
        assert_eq!(
            ManagedIdentitySource::from_env(&e).endpoint(),
            "http://10.0.0.5:2579/metadata/identity/oauth2/token"
        );
    }

    #[test]
    fn resource_id_parameter_name_depends_on_the_source() {
        let id = UserAssignedIdentity::ResourceId("/subs/x".into());
        let imds = ManagedIdentitySource::Imds {
            endpoint: IMDS_ENDPOINT.into(),
        };
        let app = ManagedIdentitySource::AppService {
            endpoint: "http://127.0.0.1/msi".into(),
            header: Secret::new("h"),
        };
        assert_eq!(id.query_param(&imds).0, "msi_res_id");
        assert_eq!(id.query_param(&app).0, "mi_res_id");
    }

    #[test]
    fn debug_never_shows_the_identity_header() {
        let cred = ManagedIdentityCredential::new(
            ManagedIdentitySource::AppService {
                endpoint: "http://127.0.0.1/msi".into(),
                header: Secret::new("header-secret-value"),
            },
            None,
        );
        let shown = format!("{cred:?} {:?}", cred.request("r").unwrap());
        assert!(!shown.contains("header-secret-value"), "{shown}");
    }
}
