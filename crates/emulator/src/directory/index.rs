//! The directory in the shape requests need: parsed certificates, resources resolved to app ids,
//! case-insensitive lookups. Built once when the emulator starts; immutable afterwards.

use std::collections::HashMap;

use super::{
    AppRegistration, Directory, DirectoryError, FederatedCredential, GRAPH_APP_ID,
    RegisteredCertificate, TOKEN_EXCHANGE_APP_ID, validate,
};
use crate::secret::Secret;

/// What kind of principal a client id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClientKind {
    Blueprint,
    AgentIdentity,
    App,
}

/// A resource with its app id, identifiers and token version.
#[derive(Debug, Clone)]
pub(crate) struct ResolvedResource {
    pub(crate) app_id: String,
    pub(crate) identifier_uris: Vec<String>,
    pub(crate) version: u8,
}

impl ResolvedResource {
    fn named_by(&self, identifier: &str) -> bool {
        let wanted = identifier.trim_end_matches('/');
        std::iter::once(&self.app_id)
            .chain(&self.identifier_uris)
            .any(|name| name.trim_end_matches('/').eq_ignore_ascii_case(wanted))
    }

    /// Whether this is the token exchange app (the audience of T1, T2 and FIC tokens).
    pub(crate) fn is_token_exchange(&self) -> bool {
        self.app_id == TOKEN_EXCHANGE_APP_ID
    }
}

/// A client (Blueprint, Agent Identity or app) of one tenant.
pub(crate) struct ClientRecord {
    pub(crate) kind: ClientKind,
    pub(crate) app_id: String,
    pub(crate) object_id: String,
    pub(crate) certificates: Vec<RegisteredCertificate>,
    pub(crate) secret_hashes: Vec<String>,
    pub(crate) federated_credentials: Vec<FederatedCredential>,
    /// Granted application permissions by resource app id.
    pub(crate) app_roles: HashMap<String, Vec<String>>,
    /// The parent Blueprint of an Agent Identity.
    pub(crate) blueprint_app_id: Option<String>,
}

/// An Agent User of one tenant.
pub(crate) struct UserRecord {
    pub(crate) object_id: String,
    pub(crate) upn: String,
    pub(crate) display_name: String,
    pub(crate) agent_identity_app_id: String,
    /// Consented delegated scopes by resource app id.
    pub(crate) consents: HashMap<String, Vec<String>>,
}

/// A managed identity, with the tenant it belongs to.
pub(crate) struct ManagedIdentityRecord {
    pub(crate) tenant_id: String,
    pub(crate) client_id: String,
    pub(crate) object_id: String,
    pub(crate) resource_id: Option<String>,
    pub(crate) system_assigned: bool,
    pub(crate) app_roles: HashMap<String, Vec<String>>,
}

/// One tenant's principals.
pub(crate) struct TenantIndex {
    pub(crate) id: String,
    domains: Vec<String>,
    clients: HashMap<String, ClientRecord>,
    users: Vec<UserRecord>,
}

impl TenantIndex {
    pub(crate) fn client(&self, app_id: &str) -> Option<&ClientRecord> {
        self.clients.get(&app_id.to_ascii_lowercase())
    }

    pub(crate) fn user_by_object_id(&self, object_id: &str) -> Option<&UserRecord> {
        self.users
            .iter()
            .find(|u| u.object_id.eq_ignore_ascii_case(object_id))
    }

    pub(crate) fn user_by_upn(&self, upn: &str) -> Option<&UserRecord> {
        self.users.iter().find(|u| u.upn.eq_ignore_ascii_case(upn))
    }
}

/// The whole directory, indexed.
pub(crate) struct Index {
    resources: Vec<ResolvedResource>,
    tenants: Vec<TenantIndex>,
    managed_identities: Vec<ManagedIdentityRecord>,
    pub(crate) identity_header: Option<Secret>,
}

impl Index {
    /// Checks and indexes a directory; every problem is reported in one error.
    pub(crate) fn build(directory: &Directory) -> Result<Self, DirectoryError> {
        let mut problems = validate::problems(directory);
        let mut resources = vec![ResolvedResource {
            app_id: TOKEN_EXCHANGE_APP_ID.to_string(),
            identifier_uris: vec![directory.cloud.exchange_uri().to_string()],
            version: 2,
        }];
        resources.extend(directory.resources.iter().map(|r| ResolvedResource {
            app_id: r.app_id.clone(),
            identifier_uris: r.identifier_uris.clone(),
            version: r.access_token_version,
        }));
        let mut index = Index {
            resources,
            tenants: Vec::new(),
            managed_identities: Vec::new(),
            identity_header: directory.identity_header.clone(),
        };
        for tenant in &directory.tenants {
            let mut clients = HashMap::new();
            let apps = tenant
                .blueprints
                .iter()
                .map(|a| (ClientKind::Blueprint, a))
                .chain(tenant.apps.iter().map(|a| (ClientKind::App, a)));
            for (kind, app) in apps {
                let record = index.app_record(kind, app, &mut problems);
                clients.insert(app.app_id.to_ascii_lowercase(), record);
            }
            for ai in &tenant.agent_identities {
                let record = ClientRecord {
                    kind: ClientKind::AgentIdentity,
                    app_id: ai.app_id.clone(),
                    object_id: ai.object_id.clone(),
                    certificates: Vec::new(),
                    secret_hashes: Vec::new(),
                    federated_credentials: Vec::new(),
                    app_roles: index.by_resource(&ai.app_roles, &ai.app_id, &mut problems),
                    blueprint_app_id: Some(ai.blueprint_app_id.clone()),
                };
                clients.insert(ai.app_id.to_ascii_lowercase(), record);
            }
            let users = tenant
                .agent_users
                .iter()
                .map(|u| {
                    let consents: Vec<(&String, &Vec<String>)> = u
                        .consents
                        .iter()
                        .map(|c| (&c.resource, &c.scopes))
                        .collect();
                    UserRecord {
                        object_id: u.object_id.clone(),
                        upn: u.upn.clone(),
                        display_name: u.display_name.clone(),
                        agent_identity_app_id: u.agent_identity_app_id.clone(),
                        consents: index.by_resource(consents, &u.upn, &mut problems),
                    }
                })
                .collect();
            for mi in &tenant.managed_identities {
                let app_roles = index.by_resource(&mi.app_roles, &mi.client_id, &mut problems);
                index.managed_identities.push(ManagedIdentityRecord {
                    tenant_id: tenant.id.clone(),
                    client_id: mi.client_id.clone(),
                    object_id: mi.object_id.clone(),
                    resource_id: mi.resource_id.clone(),
                    system_assigned: mi.system_assigned,
                    app_roles,
                });
            }
            index.tenants.push(TenantIndex {
                id: tenant.id.clone(),
                domains: tenant.domains.clone(),
                clients,
                users,
            });
        }
        if problems.is_empty() {
            Ok(index)
        } else {
            Err(DirectoryError::Invalid(problems))
        }
    }

    fn app_record(
        &self,
        kind: ClientKind,
        app: &AppRegistration,
        problems: &mut Vec<String>,
    ) -> ClientRecord {
        let certificates = app
            .certificates
            .iter()
            .enumerate()
            .filter_map(|(i, pem)| {
                RegisteredCertificate::from_pem(pem)
                    .map_err(|e| {
                        problems.push(format!("app {} certificate #{}: {e}", app.app_id, i + 1))
                    })
                    .ok()
            })
            .collect();
        for hash in &app.client_secret_sha256 {
            if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                problems.push(format!(
                    "app {}: client_secret_sha256 entries must be 64 hex digits",
                    app.app_id
                ));
            }
        }
        ClientRecord {
            kind,
            app_id: app.app_id.clone(),
            object_id: app.object_id.clone(),
            certificates,
            secret_hashes: app
                .client_secret_sha256
                .iter()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
            federated_credentials: app.federated_credentials.clone(),
            app_roles: self.by_resource(&app.app_roles, &app.app_id, problems),
            blueprint_app_id: None,
        }
    }

    /// Re-keys a per-resource map by resource app id, reporting unknown resources.
    fn by_resource<'a>(
        &self,
        map: impl IntoIterator<Item = (&'a String, &'a Vec<String>)>,
        owner: &str,
        problems: &mut Vec<String>,
    ) -> HashMap<String, Vec<String>> {
        let mut out = HashMap::new();
        for (name, values) in map {
            match self.resource(name) {
                Some(resource) => {
                    out.insert(resource.app_id.clone(), values.clone());
                }
                None => problems.push(format!("{owner}: unknown resource {name:?}")),
            }
        }
        out
    }

    /// The tenant named by a URL path segment (its id or one of its domains).
    pub(crate) fn tenant(&self, segment: &str) -> Option<&TenantIndex> {
        self.tenants.iter().find(|t| {
            t.id.eq_ignore_ascii_case(segment)
                || t.domains.iter().any(|d| d.eq_ignore_ascii_case(segment))
        })
    }

    /// The resource named by an app id or identifier URI (a trailing `/` is ignored).
    pub(crate) fn resource(&self, identifier: &str) -> Option<&ResolvedResource> {
        self.resources.iter().find(|r| r.named_by(identifier))
    }

    /// Microsoft Graph, the resource of bare delegated scopes, if registered.
    pub(crate) fn graph(&self) -> Option<&ResolvedResource> {
        self.resource(GRAPH_APP_ID)
    }

    pub(crate) fn managed_identities(&self) -> &[ManagedIdentityRecord] {
        &self.managed_identities
    }
}
