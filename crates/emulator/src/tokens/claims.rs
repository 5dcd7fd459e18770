//! The claims of every token kind, as PROTOCOL.md's table lists them.
//!
//! v1 tokens (Graph) carry `appid`/`appidacr` and `iss` `https://sts.windows.net/{tid}/`; v2 tokens
//! (the token exchange app, v2 APIs) carry `azp`/`azpacr` and `iss`
//! `https://login.microsoftonline.com/{tid}/v2.0`. Faithfully so: a client that only reads one of
//! the two must fail here as it would against Entra.

use serde_json::{Map, Value, json};

use super::random_string;

/// Like Entra, `iat` and `nbf` are set five minutes in the past to absorb clock skew, so clients
/// must compute expiry from `expires_in`/`exp`, never from `iat` + lifetime.
pub(crate) const TOKEN_BACKDATE_SECS: u64 = 300;

/// The issuer of tokens of `version` for a tenant.
pub(crate) fn issuer(tenant_id: &str, version: u8) -> String {
    if version == 1 {
        format!("https://sts.windows.net/{tenant_id}/")
    } else {
        format!("https://login.microsoftonline.com/{tenant_id}/v2.0")
    }
}

/// Who the token is about.
pub(crate) enum Identity<'a> {
    /// An application (Blueprint, Agent Identity, app, managed identity) acting as itself.
    App { roles: Option<&'a [String]> },
    /// A user (an Agent User) on whose behalf the client acts.
    User {
        upn: &'a str,
        name: &'a str,
        scopes: &'a [String],
    },
}

/// An access token to be signed.
pub(crate) struct AccessToken<'a> {
    pub(crate) tenant_id: &'a str,
    pub(crate) version: u8,
    pub(crate) audience: String,
    /// `appid` (v1) / `azp` (v2).
    pub(crate) client_app_id: &'a str,
    /// `appidacr` / `azpacr`: "1" client secret, "2" certificate or federated assertion.
    pub(crate) client_acr: &'static str,
    pub(crate) object_id: &'a str,
    pub(crate) subject: String,
    pub(crate) identity: Identity<'a>,
    /// `xms_par_app_azp`: the Blueprint behind an Agent Identity.
    pub(crate) parent_app: Option<&'a str>,
    /// `xms_sub_fct`: space-separated subject facets (11 agent identity, 13 agent user).
    pub(crate) sub_facets: Option<&'static str>,
    /// `xms_mirid`: the managed identity's ARM resource id.
    pub(crate) mi_resource_id: Option<&'a str>,
}

impl AccessToken<'_> {
    /// The claims for a token issued at `now` that expires `lifetime` seconds later.
    pub(crate) fn claims(&self, now: u64, lifetime: u64) -> Map<String, Value> {
        let iss = issuer(self.tenant_id, self.version);
        let mut c = Map::new();
        c.insert("aud".into(), json!(self.audience));
        c.insert("iss".into(), json!(iss));
        c.insert("iat".into(), json!(now.saturating_sub(TOKEN_BACKDATE_SECS)));
        c.insert("nbf".into(), json!(now.saturating_sub(TOKEN_BACKDATE_SECS)));
        c.insert("exp".into(), json!(now + lifetime));
        c.insert("aio".into(), json!(random_string(48)));
        if self.version == 1 {
            c.insert("appid".into(), json!(self.client_app_id));
            c.insert("appidacr".into(), json!(self.client_acr));
            c.insert("ver".into(), json!("1.0"));
        } else {
            c.insert("azp".into(), json!(self.client_app_id));
            c.insert("azpacr".into(), json!(self.client_acr));
            c.insert("ver".into(), json!("2.0"));
        }
        match &self.identity {
            Identity::App { roles } => {
                c.insert("idtyp".into(), json!("app"));
                if self.version == 1 {
                    c.insert("idp".into(), json!(iss));
                }
                if let Some(roles) = roles.filter(|r| !r.is_empty()) {
                    c.insert("roles".into(), json!(roles));
                }
            }
            Identity::User { upn, name, scopes } => {
                c.insert("idtyp".into(), json!("user"));
                c.insert("scp".into(), json!(scopes.join(" ")));
                c.insert("upn".into(), json!(upn));
                c.insert("name".into(), json!(name));
                if self.version == 1 {
                    c.insert("unique_name".into(), json!(upn));
                } else {
                    c.insert("preferred_username".into(), json!(upn));
                }
            }
        }
        c.insert("oid".into(), json!(self.object_id));
        c.insert("sub".into(), json!(self.subject));
        c.insert("tid".into(), json!(self.tenant_id));
        c.insert("uti".into(), json!(random_string(16)));
        if let Some(parent) = self.parent_app {
            c.insert("xms_par_app_azp".into(), json!(parent));
        }
        if let Some(facets) = self.sub_facets {
            c.insert("xms_sub_fct".into(), json!(facets));
        }
        if let Some(mirid) = self.mi_resource_id {
            c.insert("xms_mirid".into(), json!(mirid));
        }
        c
    }
}

/// The OpenID Connect ID token of an Agent User (hop 3 with `openid`).
pub(crate) struct IdToken<'a> {
    pub(crate) tenant_id: &'a str,
    pub(crate) client_app_id: &'a str,
    pub(crate) object_id: &'a str,
    pub(crate) subject: String,
    pub(crate) upn: &'a str,
    pub(crate) name: &'a str,
}

impl IdToken<'_> {
    pub(crate) fn claims(&self, now: u64, lifetime: u64) -> Map<String, Value> {
        let mut c = Map::new();
        c.insert("aud".into(), json!(self.client_app_id));
        c.insert("iss".into(), json!(issuer(self.tenant_id, 2)));
        c.insert("iat".into(), json!(now.saturating_sub(TOKEN_BACKDATE_SECS)));
        c.insert("nbf".into(), json!(now.saturating_sub(TOKEN_BACKDATE_SECS)));
        c.insert("exp".into(), json!(now + lifetime));
        c.insert("name".into(), json!(self.name));
        c.insert("oid".into(), json!(self.object_id));
        c.insert("preferred_username".into(), json!(self.upn));
        c.insert("sub".into(), json!(self.subject));
        c.insert("tid".into(), json!(self.tenant_id));
        c.insert("uti".into(), json!(random_string(16)));
        c.insert("ver".into(), json!("2.0"));
        c
    }
}

/// The `sub` of a T1: the FMI path of the Agent Identity it was issued for.
pub(crate) fn fmi_subject(tenant_id: &str, blueprint_app_id: &str, fmi_path: &str) -> String {
    format!("/eid1/c/pub/t/{tenant_id}/a/{blueprint_app_id}/{fmi_path}")
}
