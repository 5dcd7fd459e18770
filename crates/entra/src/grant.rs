//! The form bodies of every grant, as pure functions, field for field as PROTOCOL.md gives them.
//!
//! Keeping them pure lets tests pin each field (and the absence of every other one) without a
//! server, and keeps the secret-bearing values wrapped until the moment the body is encoded.

use std::fmt;

use crate::scope::ScopeSet;
use crate::secret::Secret;
use crate::user::UserSelector;

/// `client_assertion_type` for every JWT client assertion.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A form field's (or header's) value: plain, or a secret exposed only while encoding.
#[derive(Clone, PartialEq, Eq)]
pub enum FieldValue {
    Plain(String),
    Secret(Secret),
}

impl FieldValue {
    /// The value to put on the wire.
    pub fn expose(&self) -> &str {
        match self {
            FieldValue::Plain(v) => v,
            FieldValue::Secret(s) => s.expose(),
        }
    }
}

impl fmt::Debug for FieldValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldValue::Plain(v) => v.fmt(f),
            FieldValue::Secret(s) => s.fmt(f),
        }
    }
}

fn plain(v: impl Into<String>) -> FieldValue {
    FieldValue::Plain(v.into())
}

/// A form body: ordered (name, value) pairs.
pub type Form = Vec<(&'static str, FieldValue)>;

/// `application/x-www-form-urlencoded` encoding of `form`.
pub fn encode(form: &Form) -> String {
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.expose())).collect();
    // Encoding a list of string pairs cannot fail.
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

/// How a client authenticates a `client_credentials` grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientAuth {
    /// A JWT: a certificate assertion, a managed-identity token, a workload-identity token, or T1.
    Assertion(Secret),
    /// `client_secret=` (development only).
    Secret(Secret),
}

impl ClientAuth {
    fn push(self, form: &mut Form) {
        match self {
            ClientAuth::Assertion(jwt) => {
                form.push(("client_assertion_type", plain(JWT_BEARER)));
                form.push(("client_assertion", FieldValue::Secret(jwt)));
            }
            ClientAuth::Secret(secret) => form.push(("client_secret", FieldValue::Secret(secret))),
        }
    }
}

/// Hop 1: the Blueprint proves itself and asks for T1 on behalf of the Agent Identity (`fmi_path`).
/// `exchange_scope` is the cloud's ([`crate::Authority::exchange_scope`]).
pub fn blueprint(
    blueprint_client_id: &str,
    agent_identity_client_id: &str,
    exchange_scope: &str,
    auth: ClientAuth,
) -> Form {
    let mut form = vec![
        ("grant_type", plain("client_credentials")),
        ("client_id", plain(blueprint_client_id)),
        ("scope", plain(exchange_scope)),
        ("fmi_path", plain(agent_identity_client_id)),
    ];
    auth.push(&mut form);
    form
}

/// Hop 2: the Agent Identity presents T1; `scopes` is the exchange scope (T2) or a resource's
/// `/.default` (an app-only agent token).
pub fn agent_identity(agent_identity_client_id: &str, t1: &Secret, scopes: &ScopeSet) -> Form {
    let mut form = vec![
        ("grant_type", plain("client_credentials")),
        ("client_id", plain(agent_identity_client_id)),
        ("scope", plain(scopes.to_form_value())),
    ];
    ClientAuth::Assertion(t1.clone()).push(&mut form);
    form
}

/// Hop 3: `user_fic` turns T1 (client assertion) and T2 (the user's federated credential) into the
/// Agent User's token. MSAL sends `client_info=1` and no `requested_token_use`; so do we.
pub fn agent_user(
    agent_identity_client_id: &str,
    t1: &Secret,
    t2: &Secret,
    user: &UserSelector,
    scopes: &ScopeSet,
) -> Form {
    let (user_field, user_value) = user.form_field();
    let mut form = vec![
        ("grant_type", plain("user_fic")),
        ("client_id", plain(agent_identity_client_id)),
        ("scope", plain(scopes.with_oidc_form_value())),
    ];
    ClientAuth::Assertion(t1.clone()).push(&mut form);
    form.push((
        "user_federated_identity_credential",
        FieldValue::Secret(t2.clone()),
    ));
    form.push((user_field, plain(user_value)));
    form.push(("client_info", plain("1")));
    form
}

/// A plain app registration exchanging its credential for a resource token.
pub fn app(client_id: &str, auth: ClientAuth, scopes: &ScopeSet) -> Form {
    let mut form = vec![
        ("grant_type", plain("client_credentials")),
        ("client_id", plain(client_id)),
        ("scope", plain(scopes.to_form_value())),
    ];
    auth.push(&mut form);
    form
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scope::{EXCHANGE_RESOURCE, EXCHANGE_SCOPE};
    use std::collections::BTreeMap;

    fn fields(form: &Form) -> BTreeMap<&'static str, String> {
        let mut map = BTreeMap::new();
        for (k, v) in form {
            assert!(map.insert(*k, v.expose().to_owned()).is_none(), "{k} twice");
        }
        map
    }

    /// Hop 1 of Blueprint "bp" for Agent Identity "ai", authenticated by `auth`.
    fn hop1(auth: ClientAuth) -> Form {
        blueprint("bp", "ai", EXCHANGE_SCOPE, auth)
    }

    fn expect(pairs: &[(&'static str, &str)]) -> BTreeMap<&'static str, String> {
        pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
    }

    #[test]
    fn hop1_sends_fmi_path_and_the_exchange_scope() {
        let form = hop1(ClientAuth::Assertion(Secret::new("jwt")));
        assert_eq!(
            fields(&form),
            expect(&[
                ("grant_type", "client_credentials"),
                ("client_id", "bp"),
                ("scope", "api://AzureADTokenExchange/.default"),
                ("fmi_path", "ai"),
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", "jwt"),
            ])
        );
    }

    #[test]
    fn a_client_secret_replaces_both_assertion_fields() {
        let form = hop1(ClientAuth::Secret(Secret::new("pw")));
        let f = fields(&form);
        assert_eq!(f.get("client_secret").map(String::as_str), Some("pw"));
        assert!(!f.contains_key("client_assertion"));
        assert!(!f.contains_key("client_assertion_type"));
    }

    #[test]
    fn hop3_sends_user_fic_with_one_user_selector_and_oidc_scopes() {
        let scopes = ScopeSet::new(["https://graph.microsoft.com/User.Read"]).unwrap();
        let form = agent_user(
            "ai",
            &Secret::new("t1"),
            &Secret::new("t2"),
            &UserSelector::Upn("u@x".into()),
            &scopes,
        );
        assert_eq!(
            fields(&form),
            expect(&[
                ("grant_type", "user_fic"),
                ("client_id", "ai"),
                (
                    "scope",
                    "https://graph.microsoft.com/User.Read openid profile offline_access"
                ),
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", "t1"),
                ("user_federated_identity_credential", "t2"),
                ("username", "u@x"),
                ("client_info", "1"),
            ])
        );
    }

    #[test]
    fn debug_of_a_form_redacts_assertions() {
        let form = agent_identity(
            "ai",
            &Secret::new("t1-secret-jwt"),
            &ScopeSet::exchange(EXCHANGE_RESOURCE),
        );
        let shown = format!("{form:?}");
        assert!(!shown.contains("t1-secret-jwt"), "{shown}");
        assert!(shown.contains("[redacted]"));
    }

    #[test]
    fn encoding_escapes_reserved_characters() {
        let form: Form = vec![("scope", plain("a b/.default")), ("x", plain("&="))];
        assert_eq!(encode(&form), "scope=a+b%2F.default&x=%26%3D");
    }
}
