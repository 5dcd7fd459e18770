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

/// What a minted token must say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// Checked against `tid` when it is a GUID (a domain-name tenant cannot be compared).
    pub tenant: String,
    /// Checked against `appid` (v1 tokens) or `azp` (v2 tokens).
    pub app_id: String,
    pub token_use: TokenUse,
    /// Checked against `oid` when set (the Agent User's object id).
    pub oid: Option<String>,
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

/// Checks `token` against `expected`; the error names `hop`.
pub fn check(token: &str, expected: &Expected, hop: Hop) -> Result<(), EntraError> {
    let claims = decode_payload(token).map_err(|e| {
        EntraError::new(
            hop,
            ErrorClass::Permanent,
            Reason::InvalidResponse,
            format!("the access token cannot be decoded: {e}"),
        )
    })?;
    let text = |name: &str| claims.get(name).and_then(Value::as_str);

    if uuid::Uuid::parse_str(&expected.tenant).is_ok() {
        compare(hop, "tid", &expected.tenant, text("tid"))?;
    }
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
    Ok(())
}

fn compare(hop: Hop, claim: &str, expected: &str, found: Option<&str>) -> Result<(), EntraError> {
    if found.is_some_and(|f| f.eq_ignore_ascii_case(expected)) {
        return Ok(());
    }
    let found = match found {
        Some(f) => format!("{:?}", sanitize(f).unwrap_or_default()),
        None => "missing".to_owned(),
    };
    Err(EntraError::new(
        hop,
        ErrorClass::Permanent,
        Reason::ClaimsMismatch,
        format!("the minted token's claim {claim} is {found}, expected {expected:?}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    const TENANT: &str = "11111111-1111-1111-1111-111111111111";
    const APP: &str = "22222222-2222-2222-2222-222222222222";
    const OTHER: &str = "33333333-3333-3333-3333-333333333333";

    fn jwt(claims: Value) -> String {
        let enc = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
        format!("{}.{}.c2ln", enc(&json!({"alg":"RS256"})), enc(&claims))
    }

    fn expect(token_use: TokenUse, oid: Option<&str>) -> Expected {
        Expected {
            tenant: TENANT.into(),
            app_id: APP.into(),
            token_use,
            oid: oid.map(str::to_owned),
        }
    }

    fn mismatch(token: &str, expected: &Expected) -> String {
        let err = check(token, expected, Hop::AgentIdentity).unwrap_err();
        assert_eq!(err.reason, Reason::ClaimsMismatch);
        assert_eq!(err.class, ErrorClass::Permanent);
        err.message
    }

    #[test]
    fn a_matching_app_token_passes_by_appid_or_azp() {
        let v1 = jwt(json!({"tid": TENANT, "appid": APP, "idtyp": "app"}));
        let v2 = jwt(json!({"tid": TENANT, "azp": APP.to_uppercase(), "idtyp": "app"}));
        assert!(check(&v1, &expect(TokenUse::App, None), Hop::App).is_ok());
        assert!(check(&v2, &expect(TokenUse::App, None), Hop::App).is_ok());
    }

    #[test]
    fn a_wrong_appid_names_the_claim_and_both_values() {
        let t = jwt(json!({"tid": TENANT, "appid": OTHER, "idtyp": "app"}));
        let m = mismatch(&t, &expect(TokenUse::App, None));
        assert!(
            m.contains("appid") && m.contains(OTHER) && m.contains(APP),
            "{m}"
        );
    }

    #[test]
    fn a_wrong_azp_names_azp() {
        let t = jwt(json!({"tid": TENANT, "azp": OTHER, "idtyp": "app"}));
        assert!(mismatch(&t, &expect(TokenUse::App, None)).contains("azp"));
    }

    #[test]
    fn a_wrong_or_missing_tenant_is_refused() {
        let t = jwt(json!({"tid": OTHER, "appid": APP, "idtyp": "app"}));
        let m = mismatch(&t, &expect(TokenUse::App, None));
        assert!(
            m.contains("tid") && m.contains(OTHER) && m.contains(TENANT),
            "{m}"
        );
        let t = jwt(json!({"appid": APP, "idtyp": "app"}));
        assert!(mismatch(&t, &expect(TokenUse::App, None)).contains("tid is missing"));
    }

    #[test]
    fn a_domain_tenant_is_not_compared() {
        let t = jwt(json!({"tid": OTHER, "appid": APP, "idtyp": "app"}));
        let mut e = expect(TokenUse::App, None);
        e.tenant = "contoso.onmicrosoft.com".into();
        assert!(check(&t, &e, Hop::App).is_ok());
    }

    #[test]
    fn a_user_token_where_an_app_token_was_asked_is_refused_and_vice_versa() {
        let user = jwt(json!({"tid": TENANT, "appid": APP, "idtyp": "user", "oid": OTHER}));
        let m = mismatch(&user, &expect(TokenUse::App, None));
        assert!(
            m.contains("idtyp") && m.contains("user") && m.contains("app"),
            "{m}"
        );
        let app = jwt(json!({"tid": TENANT, "appid": APP, "idtyp": "app"}));
        assert!(mismatch(&app, &expect(TokenUse::User, None)).contains("idtyp"));
    }

    #[test]
    fn without_idtyp_scp_marks_a_user_token() {
        let user = jwt(json!({"tid": TENANT, "appid": APP, "scp": "User.Read"}));
        assert!(check(&user, &expect(TokenUse::User, None), Hop::AgentUser).is_ok());
        assert!(mismatch(&user, &expect(TokenUse::App, None)).contains("idtyp"));
    }

    #[test]
    fn the_agent_users_oid_must_match() {
        let t = jwt(json!({"tid": TENANT, "appid": APP, "idtyp": "user", "oid": OTHER}));
        let m = mismatch(&t, &expect(TokenUse::User, Some(APP)));
        assert!(m.contains("oid") && m.contains(OTHER), "{m}");
        assert!(check(&t, &expect(TokenUse::User, Some(OTHER)), Hop::AgentUser).is_ok());
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
            let err = check(token, &expect(TokenUse::App, None), Hop::App).unwrap_err();
            assert_eq!(err.reason, Reason::InvalidResponse, "{token:.20}");
        }
        let not_object = format!("a.{}.c", URL_SAFE_NO_PAD.encode("[1]"));
        assert_eq!(decode_payload(&not_object), Err(DecodeError::NotJson));
    }

    #[test]
    fn found_values_are_sanitised_in_messages() {
        let t = jwt(json!({"tid": TENANT, "appid": "evil\r\nInjected: yes", "idtyp": "app"}));
        let m = mismatch(&t, &expect(TokenUse::App, None));
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
