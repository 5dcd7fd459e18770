//! The token endpoint's success body.
//!
//! A lifetime is never guessed: `expires_in` missing, non-numeric, zero, negative or longer than a
//! day is a permanent error, so a broken upstream can never produce a token that is cached forever.

use std::time::Duration;

use serde_json::{Map, Value};

use super::fields::{integer, string};
use crate::error::{EntraError, ErrorClass, Reason};
use crate::hop::Hop;
use crate::secret::Secret;
use crate::token::IssuedToken;

/// The longest lifetime accepted from the token endpoint (Entra issues 60-90 minutes by default,
/// at most 24 hours).
pub const MAX_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// An `InvalidResponse` error naming the hop and status.
pub(crate) fn invalid(hop: Hop, status: u16, what: &str) -> EntraError {
    EntraError::new(hop, ErrorClass::Permanent, Reason::InvalidResponse, what).with_status(status)
}

/// Parses a 2xx body from the token endpoint.
pub fn parse(hop: Hop, status: u16, body: &[u8]) -> Result<IssuedToken, EntraError> {
    let object: Map<String, Value> = serde_json::from_slice(body).map_err(|_| {
        invalid(
            hop,
            status,
            "the token endpoint answered with a body that is not a JSON object",
        )
    })?;
    let access_token = access_token(hop, status, &object)?;
    let expires_in = lifetime(
        hop,
        status,
        object.get("expires_in"),
        "expires_in",
        MAX_LIFETIME,
    )?;
    // `refresh_in` is a hint: a nonsensical one is ignored rather than failing the mint.
    let refresh_in = object
        .get("refresh_in")
        .and_then(integer)
        .and_then(|s| u64::try_from(s).ok())
        .map(Duration::from_secs)
        .filter(|r| !r.is_zero() && *r < expires_in);
    Ok(IssuedToken {
        access_token,
        token_type: token_type(hop, status, &object)?,
        expires_in,
        refresh_in,
        scope: string(&object, "scope"),
    })
}

/// The non-empty `access_token`.
pub(crate) fn access_token(
    hop: Hop,
    status: u16,
    object: &Map<String, Value>,
) -> Result<Secret, EntraError> {
    match object.get("access_token") {
        Some(Value::String(t)) if !t.trim().is_empty() => Ok(Secret::new(t.trim())),
        _ => Err(invalid(hop, status, "the response carries no access_token")),
    }
}

/// `token_type`: Bearer (the default when absent). Anything else (a PoP token) cannot be served as
/// a bearer token.
pub(crate) fn token_type(
    hop: Hop,
    status: u16,
    object: &Map<String, Value>,
) -> Result<String, EntraError> {
    match object.get("token_type") {
        None | Some(Value::Null) => Ok("Bearer".to_owned()),
        Some(Value::String(t)) if t.eq_ignore_ascii_case("bearer") => Ok("Bearer".to_owned()),
        Some(_) => Err(invalid(
            hop,
            status,
            "the response's token_type is not Bearer",
        )),
    }
}

/// A lifetime in seconds from `value`, within (0, `max`].
pub(crate) fn lifetime(
    hop: Hop,
    status: u16,
    value: Option<&Value>,
    name: &str,
    max: Duration,
) -> Result<Duration, EntraError> {
    let Some(value) = value else {
        return Err(invalid(
            hop,
            status,
            &format!("the response carries no {name}"),
        ));
    };
    let seconds = integer(value).ok_or_else(|| {
        invalid(
            hop,
            status,
            &format!("the response's {name} is not a number"),
        )
    })?;
    if seconds <= 0 {
        return Err(invalid(
            hop,
            status,
            &format!("the response's {name} is not positive"),
        ));
    }
    let lifetime = Duration::from_secs(seconds.unsigned_abs());
    if lifetime > max {
        return Err(invalid(
            hop,
            status,
            &format!(
                "the response's {name} is longer than {} seconds",
                max.as_secs()
            ),
        ));
    }
    Ok(lifetime)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ok(body: &str) -> Result<IssuedToken, EntraError> {
        parse(Hop::AgentIdentity, 200, body.as_bytes())
    }

    #[test]
    fn numbers_may_arrive_as_strings() {
        let t = ok(r#"{"token_type":"Bearer","expires_in":"3599","ext_expires_in":"3599","refresh_in":"1799","access_token":"tok"}"#).unwrap();
        assert_eq!(t.expires_in, Duration::from_secs(3599));
        assert_eq!(t.refresh_in, Some(Duration::from_secs(1799)));
        assert_eq!(t.access_token.expose(), "tok");
        assert_eq!(t.token_type, "Bearer");
    }

    #[test]
    fn refresh_in_is_optional_and_ignored_when_absurd() {
        let t = ok(r#"{"expires_in":3599,"access_token":"tok","scope":"s"}"#).unwrap();
        assert_eq!(t.refresh_in, None);
        assert_eq!(t.scope.as_deref(), Some("s"));
        let t = ok(r#"{"expires_in":3599,"refresh_in":99999,"access_token":"tok"}"#).unwrap();
        assert_eq!(t.refresh_in, None);
    }

    #[test]
    fn a_missing_zero_negative_huge_or_textual_expires_in_is_a_permanent_invalid_response() {
        for expires in [
            "",
            r#","expires_in":0"#,
            r#","expires_in":-5"#,
            r#","expires_in":86401"#,
            r#","expires_in":"soon""#,
            r#","expires_in":null"#,
            r#","expires_in":1e30"#,
        ] {
            let body = format!(r#"{{"access_token":"tok"{expires}}}"#);
            let err = ok(&body).unwrap_err();
            assert_eq!(err.reason, Reason::InvalidResponse, "{body}");
            assert_eq!(err.class, ErrorClass::Permanent, "{body}");
            assert!(err.message.contains("expires_in"), "{}", err.message);
        }
        assert!(ok(r#"{"access_token":"tok","expires_in":86400}"#).is_ok());
    }

    #[test]
    fn a_missing_access_token_or_a_pop_token_is_refused() {
        assert!(
            ok(r#"{"expires_in":3599}"#)
                .unwrap_err()
                .message
                .contains("access_token")
        );
        assert!(ok(r#"{"expires_in":3599,"access_token":""}"#).is_err());
        assert!(ok(r#"{"expires_in":3599,"access_token":"t","token_type":"pop"}"#).is_err());
    }

    #[test]
    fn malformed_json_names_hop_and_status_without_echoing_the_body() {
        let err = ok(r#"{"access_token":"secret-fragment", "#).unwrap_err();
        assert_eq!(err.reason, Reason::InvalidResponse);
        let shown = err.to_string();
        assert!(
            shown.contains("agent_identity") && shown.contains("200"),
            "{shown}"
        );
        assert!(!shown.contains("secret-fragment"), "{shown}");
    }

    proptest! {
        #[test]
        fn arbitrary_bodies_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse(Hop::Blueprint, 200, &body);
        }

        #[test]
        fn arbitrary_json_values_never_yield_an_unbounded_lifetime(v in any::<i64>(), s in ".{0,20}") {
            let body = serde_json::json!({"access_token": "t", "expires_in": v, "scope": s}).to_string();
            if let Ok(t) = parse(Hop::Blueprint, 200, body.as_bytes()) {
                prop_assert!(t.expires_in > Duration::ZERO && t.expires_in <= MAX_LIFETIME);
            }
        }
    }
}
