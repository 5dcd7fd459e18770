//! The time window of presented JWTs (client assertions, T1, T2, managed-identity tokens).
//! MSAL Python writes `exp`/`iat` as floats, so numbers of either kind are accepted.

use serde_json::{Map, Value};

/// The clock skew Entra tolerates on either side of an assertion's window.
pub(crate) const CLOCK_SKEW_SECS: f64 = 300.0;

/// Whether a token is usable at `now`.
pub(crate) enum Validity {
    Valid,
    /// `exp` is missing or not a number.
    NoExpiry,
    Outside {
        nbf: Option<f64>,
        exp: Option<f64>,
    },
}

pub(crate) fn check(claims: &Map<String, Value>, now: u64) -> Validity {
    let number = |name: &str| claims.get(name).and_then(Value::as_f64);
    let Some(exp) = number("exp") else {
        return Validity::NoExpiry;
    };
    let nbf = number("nbf");
    let now = now as f64;
    let too_early = nbf.is_some_and(|nbf| now + CLOCK_SKEW_SECS < nbf);
    let too_late = now - CLOCK_SKEW_SECS > exp;
    if too_early || too_late {
        Validity::Outside {
            nbf,
            exp: Some(exp),
        }
    } else {
        Validity::Valid
    }
}

/// A string claim, or "" when absent (mismatch messages show what was presented).
pub(crate) fn claim<'a>(claims: &'a Map<String, Value>, name: &str) -> &'a str {
    claims.get(name).and_then(Value::as_str).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn float_times_within_skew_are_valid() {
        let c = claims(json!({"exp": 1000.5, "nbf": 1200.0}));
        assert!(matches!(check(&c, 1200), Validity::Valid));
        assert!(matches!(check(&c, 1250), Validity::Valid));
    }

    #[test]
    fn expired_beyond_skew_is_outside() {
        let c = claims(json!({"exp": 1000}));
        assert!(matches!(check(&c, 1301), Validity::Outside { .. }));
    }

    #[test]
    fn not_yet_valid_beyond_skew_is_outside() {
        let c = claims(json!({"exp": 5000, "nbf": 2000}));
        assert!(matches!(check(&c, 1699), Validity::Outside { .. }));
    }

    #[test]
    fn missing_exp_is_reported() {
        assert!(matches!(check(&Map::new(), 0), Validity::NoExpiry));
    }
}
