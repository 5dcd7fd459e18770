//! Post-mint claim checks: every token is decoded (without verifying its signature — it came
//! straight from Entra over TLS, and the resource verifies it) and compared with what was asked.
//!
//! A token for the wrong client, tenant, kind or user is a permanent error naming the claim, the
//! expected and the found value. This is what makes the "managed-identity token used directly"
//! bug impossible to ship: that token's `appid` is the managed identity's, not the app's.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use crate::error::{EntraError, ErrorClass, Reason};
use crate::hop::Hop;
use crate::response::sanitize;
use crate::scope::{EXCHANGE_RESOURCES, OIDC_SCOPES, ScopeSet, TOKEN_EXCHANGE_APP_ID};
pub use crate::tenant::TenantPins;

/// The longest token decoded; Entra's are a few KiB.
pub const MAX_TOKEN_LEN: usize = 64 * 1024;

/// Whose token it must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenUse {
    /// An application token (`idtyp` = `app`).
    App,
    /// A delegated user token (`idtyp` = `user`).
    User,
}

impl TokenUse {
    fn as_str(self) -> &'static str {
        match self {
            TokenUse::App => "app",
            TokenUse::User => "user",
        }
    }
}

/// Who a token must be for (`aud`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// An exchange token (T1, T2, a managed identity's assertion): the token exchange app, by id or
    /// by any cloud's `api://` name.
    Exchange,
    /// A resource token: the resource the requested scopes name. See [`resource_of`] and
    /// [`audience_matches`] for the rule.
    Resource(String),
}

/// What a minted token must say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// Checked against `tid`. A GUID is compared directly; a domain name (`contoso.onmicrosoft.com`)
    /// is pinned to the GUID of the first token minted for it (see [`TenantPins`]).
    pub tenant: String,
    /// Checked against `aud`.
    pub audience: Audience,
    /// Checked against `appid` (v1 tokens) or `azp` (v2 tokens).
    pub app_id: String,
    pub token_use: TokenUse,
    /// Checked against `oid` when set (the Agent User's object id when the user is selected by
    /// object id; the Agent Identity's when the operator configured it).
    pub oid: Option<String>,
    /// Checked, case-insensitively, against `upn` or else `preferred_username` when set (the Agent
    /// User when selected by UPN).
    pub upn: Option<String>,
}

/// Well-known Microsoft resources whose tokens may carry the app id instead of the URI as `aud`.
const KNOWN_RESOURCES: [(&str, &str); 8] = [
    (
        "https://graph.microsoft.com",
        "00000003-0000-0000-c000-000000000000",
    ),
    (
        "https://graph.microsoft.us",
        "00000003-0000-0000-c000-000000000000",
    ),
    (
        "https://dod-graph.microsoft.us",
        "00000003-0000-0000-c000-000000000000",
    ),
    (
        "https://microsoftgraph.chinacloudapi.cn",
        "00000003-0000-0000-c000-000000000000",
    ),
    (
        "https://management.azure.com",
        "797f4846-ba00-4fd7-ba43-dac1f8f63013",
    ),
    (
        "https://vault.azure.net",
        "cfa8b339-82a2-471a-a3c9-0fc0be7a4093",
    ),
    (
        "https://storage.azure.com",
        "e406a681-f3d4-42a8-90b6-c2b029497af1",
    ),
    (
        "https://database.windows.net",
        "022907d3-0f1b-48f7-badc-1ba6abab6d66",
    ),
];

/// The resource that `scopes` name: the part of the first non-OIDC scope before its last `/`
/// (`https://graph.microsoft.com/Mail.Read` → `https://graph.microsoft.com`). A bare permission
/// (`Mail.Read`) and OIDC scopes alone are Microsoft Graph's, as Entra reads them.
pub fn resource_of(scopes: &ScopeSet) -> String {
    let graph = KNOWN_RESOURCES[0].0;
    let scope = scopes
        .as_slice()
        .iter()
        .find(|s| !OIDC_SCOPES.contains(&s.as_str()) && s.as_str() != "email");
    let resource = match scope.map(|s| (s, s.rfind('/'))) {
        // `api://x` without a permission: the '/' found belongs to the scheme.
        Some((s, Some(i))) if s[..i].ends_with(':') || s[..i].ends_with(":/") => s.as_str(),
        Some((s, Some(i))) => &s[..i],
        Some((_, None)) | None => graph,
    };
    resource.trim_end_matches('/').to_owned()
}

/// Whether a token's `aud` names `resource`. The rule, in order:
/// 1. `aud` equals the resource's URI (letter case and a trailing `/` ignored): v1 tokens;
/// 2. the resource is named by its app id (`{guid}` or `api://{guid}`) and `aud` is that id;
/// 3. the resource is a well-known Microsoft resource and `aud` is its app id;
/// 4. the resource is any other URI and `aud` is a GUID: a v2 token names its resource by app id,
///    which agentmint cannot look up, so any GUID is accepted here (documented in docs/config.md).
///
/// Every other `aud` (another URI, the exchange app, a GUID for a resource known to have a different
/// one) is a mismatch.
pub fn audience_matches(resource: &str, aud: &str) -> bool {
    let norm = |s: &str| s.trim_end_matches('/').to_ascii_lowercase();
    let (resource, aud) = (norm(resource), norm(aud));
    if aud == resource {
        return true;
    }
    if !is_guid(&aud) {
        return false;
    }
    let named_id = resource.strip_prefix("api://").unwrap_or(&resource);
    if is_guid(named_id) {
        return aud == named_id;
    }
    if let Some((_, id)) = KNOWN_RESOURCES.iter().find(|(uri, _)| *uri == resource) {
        return aud == *id;
    }
    aud != TOKEN_EXCHANGE_APP_ID
}

fn is_guid(s: &str) -> bool {
    uuid::Uuid::try_parse(s).is_ok()
}

/// Why a token could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("the token is longer than {MAX_TOKEN_LEN} bytes")]
    TooLong,
    #[error("the token is not a three-part JWT")]
    NotJwt,
    #[error("the token's payload is not base64url")]
    NotBase64,
    #[error("the token's payload is not a JSON object")]
    NotJson,
}

/// The payload (claims) of a JWT, unverified.
pub fn decode_payload(token: &str) -> Result<Map<String, Value>, DecodeError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(DecodeError::TooLong);
    }
    let mut parts = token.split('.');
    let (Some(_header), Some(payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(DecodeError::NotJwt);
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| DecodeError::NotBase64)?;
    serde_json::from_slice(&bytes).map_err(|_| DecodeError::NotJson)
}

/// Checks `token` against `expected`; the error names `hop`. `pins` holds the GUIDs learned for
/// domain-name tenants: the first token for such a tenant pins it, every later one must match.
pub fn check(
    token: &str,
    expected: &Expected,
    pins: &TenantPins,
    hop: Hop,
) -> Result<(), EntraError> {
    let claims = decode_payload(token).map_err(|e| {
        EntraError::new(
            hop,
            ErrorClass::Permanent,
            Reason::InvalidResponse,
            format!("the access token cannot be decoded: {e}"),
        )
    })?;
    let text = |name: &str| claims.get(name).and_then(Value::as_str);

    match pins.expected_tid(&expected.tenant) {
        Some(tid) => compare(hop, "tid", &tid, text("tid"))?,
        // A domain not pinned yet: any GUID will do, and pins it (below).
        None if text("tid").is_some_and(|t| uuid::Uuid::try_parse(t).is_ok()) => {}
        None => return Err(mismatch(hop, "tid", &expected.tenant, text("tid"))),
    }
    check_audience(hop, &expected.audience, claims.get("aud"))?;
    let (app_claim, app) = match (text("appid"), text("azp")) {
        (Some(appid), _) => ("appid", Some(appid)),
        (None, Some(azp)) => ("azp", Some(azp)),
        (None, None) => ("appid", None),
    };
    compare(hop, app_claim, &expected.app_id, app)?;

    // `idtyp` is optional in tokens for some resources; without it, a `scp` claim marks a
    // delegated (user) token and its absence an application token.
    let found_use = match text("idtyp") {
        Some(idtyp) => idtyp.to_owned(),
        None if claims.contains_key("scp") => "user".to_owned(),
        None => "app".to_owned(),
    };
    compare(hop, "idtyp", expected.token_use.as_str(), Some(&found_use))?;

    if let Some(oid) = &expected.oid {
        compare(hop, "oid", oid, text("oid"))?;
    }
    if let Some(upn) = &expected.upn {
        let (claim, found) = match text("upn") {
            Some(found) => ("upn", Some(found)),
            None => ("preferred_username", text("preferred_username")),
        };
        compare(hop, claim, upn, found)?;
    }
    if let Some(tid) = text("tid") {
        pins.learn(&expected.tenant, tid);
    }
    Ok(())
}

/// `aud` may be a string or, in general JWTs, an array: every value must be acceptable.
fn check_audience(hop: Hop, expected: &Audience, aud: Option<&Value>) -> Result<(), EntraError> {
    let values: Vec<&str> = match aud {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let ok = !values.is_empty()
        && values.iter().all(|aud| match expected {
            Audience::Exchange => {
                aud.eq_ignore_ascii_case(TOKEN_EXCHANGE_APP_ID)
                    || EXCHANGE_RESOURCES
                        .iter()
                        .any(|r| aud.trim_end_matches('/').eq_ignore_ascii_case(r))
            }
            Audience::Resource(resource) => audience_matches(resource, aud),
        });
    if ok {
        return Ok(());
    }
    let wanted = match expected {
        Audience::Exchange => TOKEN_EXCHANGE_APP_ID,
        Audience::Resource(resource) => resource.as_str(),
    };
    let found = values
        .iter()
        .find(|aud| !aud.eq_ignore_ascii_case(wanted))
        .or(values.first())
        .copied();
    Err(mismatch(hop, "aud", wanted, found))
}

fn compare(hop: Hop, claim: &str, expected: &str, found: Option<&str>) -> Result<(), EntraError> {
    if found.is_some_and(|f| f.eq_ignore_ascii_case(expected)) {
        return Ok(());
    }
    Err(mismatch(hop, claim, expected, found))
}

/// The error naming `claim`, what was expected and what was found (sanitised, bounded).
fn mismatch(hop: Hop, claim: &str, expected: &str, found: Option<&str>) -> EntraError {
    let found = match found {
        Some(f) => format!("{:?}", sanitize(f).unwrap_or_default()),
        None => "missing".to_owned(),
    };
    EntraError::new(
        hop,
        ErrorClass::Permanent,
        Reason::ClaimsMismatch,
        format!("the minted token's claim {claim} is {found}, expected {expected:?}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    const TENANT: &str = "11111111-1111-1111-1111-111111111111";
    const APP: &str = "22222222-2222-2222-2222-222222222222";
    const OTHER: &str = "33333333-3333-3333-3333-333333333333";
    const GRAPH: &str = "https://graph.microsoft.com";
    const GRAPH_ID: &str = "00000003-0000-0000-c000-000000000000";

    fn jwt(claims: Value) -> String {
        let enc = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
        format!("{}.{}.c2ln", enc(&json!({"alg":"RS256"})), enc(&claims))
    }

    /// A Graph app token's claims, with `extra` merged over them.
    fn app_claims(extra: Value) -> Value {
        let mut c = json!({"tid": TENANT, "aud": GRAPH, "appid": APP, "idtyp": "app"});
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    }

    fn expect(token_use: TokenUse, oid: Option<&str>) -> Expected {
        Expected {
            tenant: TENANT.into(),
            audience: Audience::Resource(GRAPH.into()),
            app_id: APP.into(),
            token_use,
            oid: oid.map(str::to_owned),
            upn: None,
        }
    }

    fn run(token: &str, expected: &Expected) -> Result<(), EntraError> {
        check(token, expected, &TenantPins::default(), Hop::AgentIdentity)
    }

    fn mismatch(token: &str, expected: &Expected) -> String {
        let err = run(token, expected).unwrap_err();
        assert_eq!(err.reason, Reason::ClaimsMismatch);
        assert_eq!(err.class, ErrorClass::Permanent);
        err.message
    }

    /// Asserts that `message` names every one of `words`.
    #[track_caller]
    fn assert_names(message: &str, words: &[&str]) {
        for word in words {
            assert!(message.contains(word), "{word}: {message}");
        }
    }

    /// The mismatch message for an app-only token carrying `claims`.
    fn app_mismatch(claims: Value) -> String {
        mismatch(&jwt(claims), &expect(TokenUse::App, None))
    }

    #[test]
    fn a_matching_app_token_passes_by_appid_or_azp() {
        let v1 = jwt(app_claims(json!({})));
        let v2 =
            jwt(json!({"tid": TENANT, "aud": GRAPH_ID, "azp": APP.to_uppercase(), "idtyp": "app"}));
        assert!(run(&v1, &expect(TokenUse::App, None)).is_ok());
        assert!(run(&v2, &expect(TokenUse::App, None)).is_ok());
    }

    #[test]
    fn a_wrong_appid_names_the_claim_and_both_values() {
        let m = app_mismatch(app_claims(json!({"appid": OTHER})));
        assert_names(&m, &["appid", OTHER, APP]);
    }

    #[test]
    fn a_wrong_azp_names_azp() {
        assert!(
            app_mismatch(json!({"tid": TENANT, "aud": GRAPH, "azp": OTHER, "idtyp": "app"}))
                .contains("azp")
        );
    }

    #[test]
    fn a_wrong_or_missing_tenant_is_refused() {
        let m = app_mismatch(app_claims(json!({"tid": OTHER})));
        assert_names(&m, &["tid", OTHER, TENANT]);
        assert!(
            app_mismatch(json!({"aud": GRAPH, "appid": APP, "idtyp": "app"}))
                .contains("tid is missing")
        );
    }

    #[test]
    fn a_domain_tenant_is_pinned_by_its_first_token() {
        let pins = TenantPins::default();
        let mut e = expect(TokenUse::App, None);
        e.tenant = "contoso.onmicrosoft.com".into();
        let first = jwt(app_claims(json!({"tid": OTHER})));
        assert!(check(&first, &e, &pins, Hop::App).is_ok());
        assert!(check(&first, &e, &pins, Hop::App).is_ok());
        let moved = jwt(app_claims(json!({"tid": TENANT})));
        let err = check(&moved, &e, &pins, Hop::App).unwrap_err();
        assert!(
            err.message.contains("tid") && err.message.contains(OTHER),
            "{}",
            err.message
        );
        // Before any pin, a domain tenant still needs a GUID `tid`.
        let no_guid = jwt(app_claims(json!({"tid": "contoso.onmicrosoft.com"})));
        assert!(check(&no_guid, &e, &TenantPins::default(), Hop::App).is_err());
    }

    #[test]
    fn a_user_token_where_an_app_token_was_asked_is_refused_and_vice_versa() {
        let user = jwt(app_claims(json!({"idtyp": "user", "oid": OTHER})));
        let m = mismatch(&user, &expect(TokenUse::App, None));
        assert!(
            m.contains("idtyp") && m.contains("user") && m.contains("app"),
            "{m}"
        );
        let app = jwt(app_claims(json!({})));
        assert!(mismatch(&app, &expect(TokenUse::User, None)).contains("idtyp"));
    }

    #[test]
    fn without_idtyp_scp_marks_a_user_token() {
        let user = jwt(json!({"tid": TENANT, "aud": GRAPH, "appid": APP, "scp": "User.Read"}));
        assert!(run(&user, &expect(TokenUse::User, None)).is_ok());
        assert!(mismatch(&user, &expect(TokenUse::App, None)).contains("idtyp"));
    }

    #[test]
    fn the_oid_must_match_when_expected() {
        let t = jwt(app_claims(json!({"idtyp": "user", "oid": OTHER})));
        let m = mismatch(&t, &expect(TokenUse::User, Some(APP)));
        assert!(m.contains("oid") && m.contains(OTHER), "{m}");
        assert!(run(&t, &expect(TokenUse::User, Some(OTHER))).is_ok());
        let app = jwt(app_claims(json!({"oid": OTHER})));
        assert!(mismatch(&app, &expect(TokenUse::App, Some(APP))).contains("oid"));
    }

    #[test]
    fn the_upn_must_match_case_insensitively_by_upn_or_preferred_username() {
        let mut e = expect(TokenUse::User, None);
        e.upn = Some("Agent@Contoso.com".into());
        let by_upn = jwt(app_claims(
            json!({"idtyp": "user", "upn": "agent@contoso.com"}),
        ));
        let by_preferred = jwt(app_claims(
            json!({"idtyp": "user", "preferred_username": "AGENT@contoso.com"}),
        ));
        assert!(run(&by_upn, &e).is_ok());
        assert!(run(&by_preferred, &e).is_ok());
        let other = jwt(app_claims(
            json!({"idtyp": "user", "upn": "mallory@contoso.com"}),
        ));
        let m = mismatch(&other, &e);
        assert!(
            m.contains("upn") && m.contains("mallory@contoso.com"),
            "{m}"
        );
        let missing = jwt(app_claims(json!({"idtyp": "user"})));
        assert!(mismatch(&missing, &e).contains("preferred_username is missing"));
    }

    #[test]
    fn the_audience_must_be_the_requested_resource() {
        let e = expect(TokenUse::App, None);
        for ok in [
            GRAPH,
            "https://graph.microsoft.com/",
            "HTTPS://GRAPH.microsoft.com",
            GRAPH_ID,
        ] {
            assert!(
                run(&jwt(app_claims(json!({"aud": ok}))), &e).is_ok(),
                "{ok}"
            );
        }
        for bad in [
            json!("https://management.azure.com"),
            json!(OTHER),
            json!(TOKEN_EXCHANGE_APP_ID),
            json!(["https://graph.microsoft.com", "https://evil.example"]),
            json!([]),
            json!(42),
        ] {
            let m = mismatch(&jwt(app_claims(json!({"aud": bad}))), &e);
            assert!(m.contains("aud"), "{bad}: {m}");
        }
        let m = mismatch(
            &jwt(json!({"tid": TENANT, "appid": APP, "idtyp": "app"})),
            &e,
        );
        assert!(m.contains("aud is missing"), "{m}");
    }

    #[test]
    fn exchange_tokens_must_be_for_the_exchange_app() {
        let mut e = expect(TokenUse::App, None);
        e.audience = Audience::Exchange;
        for ok in [
            TOKEN_EXCHANGE_APP_ID,
            "api://AzureADTokenExchange",
            "api://AzureADTokenExchangeUSGov",
        ] {
            assert!(
                run(&jwt(app_claims(json!({"aud": ok}))), &e).is_ok(),
                "{ok}"
            );
        }
        let m = mismatch(&jwt(app_claims(json!({"aud": GRAPH}))), &e);
        assert!(
            m.contains("aud") && m.contains(TOKEN_EXCHANGE_APP_ID),
            "{m}"
        );
    }

    #[test]
    fn the_audience_rule_ties_guids_to_resources_where_it_can() {
        // Named by app id: that id only.
        assert!(audience_matches(&format!("api://{APP}"), APP));
        assert!(audience_matches(APP, &APP.to_uppercase()));
        assert!(!audience_matches(APP, OTHER));
        // A well-known resource: its own id only.
        assert!(audience_matches(GRAPH, GRAPH_ID));
        assert!(!audience_matches(GRAPH, OTHER));
        // Any other URI: its URI, or a GUID (a v2 token's app id, which cannot be looked up).
        assert!(audience_matches("api://contoso-api", "api://contoso-api/"));
        assert!(audience_matches("api://contoso-api", OTHER));
        assert!(!audience_matches(
            "api://contoso-api",
            TOKEN_EXCHANGE_APP_ID
        ));
        assert!(!audience_matches("api://contoso-api", "api://other-api"));
    }

    #[test]
    fn the_resource_is_read_from_the_scopes() {
        let of = |scopes: &[&str]| resource_of(&ScopeSet::new(scopes).unwrap());
        assert_eq!(of(&["https://graph.microsoft.com/.default"]), GRAPH);
        assert_eq!(
            of(&["openid", "https://graph.microsoft.com/Mail.Read"]),
            GRAPH
        );
        assert_eq!(of(&["Mail.Read"]), GRAPH);
        assert_eq!(of(&["openid", "profile"]), GRAPH);
        assert_eq!(
            of(&["api://contoso-api/access_as_user"]),
            "api://contoso-api"
        );
        assert_eq!(of(&["api://contoso-api"]), "api://contoso-api");
        assert_eq!(of(&[&format!("{APP}/.default")]), APP);
    }

    #[test]
    fn garbage_is_an_invalid_response_not_a_panic() {
        for token in [
            "",
            "a.b",
            "a.!!!.c",
            "a.b.c.d",
            &"x".repeat(MAX_TOKEN_LEN + 1),
        ] {
            let err = run(token, &expect(TokenUse::App, None)).unwrap_err();
            assert_eq!(err.reason, Reason::InvalidResponse, "{token:.20}");
        }
        let not_object = format!("a.{}.c", URL_SAFE_NO_PAD.encode("[1]"));
        assert_eq!(decode_payload(&not_object), Err(DecodeError::NotJson));
    }

    #[test]
    fn found_values_are_sanitised_in_messages() {
        let m = app_mismatch(app_claims(json!({"appid": "evil\r\nInjected: yes"})));
        assert!(!m.contains('\n') && !m.contains('\r'), "{m}");
    }

    proptest! {
        #[test]
        fn decoding_arbitrary_text_never_panics(s in ".{0,300}") {
            let _ = decode_payload(&s);
        }

        #[test]
        fn decoding_arbitrary_payload_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let token = format!("h.{}.s", URL_SAFE_NO_PAD.encode(&bytes));
            let _ = decode_payload(&token);
        }
    }
}
