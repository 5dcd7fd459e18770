//! The managed-identity endpoints' success body: strings for every field on IMDS, `expires_on`
//! (epoch seconds, string or number) mandatory on App Service.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use super::fields::{integer, string};
use super::token::{access_token, invalid, lifetime, token_type};
use crate::error::EntraError;
use crate::hop::Hop;
use crate::token::IssuedToken;

/// Managed-identity tokens live up to 24 hours; an hour more is allowed because a lifetime derived
/// from `expires_on` absorbs the skew between this host's clock and the endpoint's.
pub const MAX_MANAGED_IDENTITY_LIFETIME: Duration = Duration::from_secs(25 * 3600);

/// Parses a 2xx body from IMDS or an App Service endpoint, as seen at `now`.
pub fn parse(status: u16, body: &[u8], now: SystemTime) -> Result<IssuedToken, EntraError> {
    let hop = Hop::ManagedIdentity;
    let object: Map<String, Value> = serde_json::from_slice(body).map_err(|_| {
        invalid(
            hop,
            status,
            "the managed-identity endpoint answered with a body that is not a JSON object",
        )
    })?;
    let access_token = access_token(hop, status, &object)?;
    let max = MAX_MANAGED_IDENTITY_LIFETIME;
    let expires_in = match (object.get("expires_in"), object.get("expires_on")) {
        (Some(v), _) => lifetime(hop, status, Some(v), "expires_in", max)?,
        (None, Some(on)) => {
            let on = integer(on)
                .and_then(|s| u64::try_from(s).ok())
                .ok_or_else(|| invalid(hop, status, "the response's expires_on is not a number"))?;
            let remaining = (UNIX_EPOCH + Duration::from_secs(on))
                .duration_since(now)
                .ok()
                .and_then(|d| i64::try_from(d.as_secs()).ok())
                .unwrap_or(0);
            lifetime(
                hop,
                status,
                Some(&Value::from(remaining)),
                "expires_on",
                max,
            )?
        }
        (None, None) => lifetime(hop, status, None, "expires_on", max)?,
    };
    Ok(IssuedToken {
        access_token,
        token_type: token_type(hop, status, &object)?,
        expires_in,
        refresh_in: None,
        scope: string(&object, "resource"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_700_000_000;

    fn at_now(body: &str) -> Result<IssuedToken, EntraError> {
        parse(200, body.as_bytes(), UNIX_EPOCH + Duration::from_secs(NOW))
    }

    #[test]
    fn imds_string_fields_are_parsed() {
        let body = format!(
            r#"{{"access_token":"mi","expires_in":"86399","expires_on":"{}","ext_expires_in":"86399","not_before":"{NOW}","resource":"api://AzureADTokenExchange","token_type":"Bearer"}}"#,
            NOW + 86399
        );
        let t = at_now(&body).unwrap();
        assert_eq!(t.expires_in, Duration::from_secs(86399));
        assert_eq!(t.scope.as_deref(), Some("api://AzureADTokenExchange"));
    }

    #[test]
    fn app_service_expires_on_may_be_a_number_or_a_string() {
        for on in [format!("{}", NOW + 600), format!("\"{}\"", NOW + 600)] {
            let body = format!(
                r#"{{"access_token":"mi","expires_on":{on},"resource":"r","token_type":"Bearer","client_id":"c"}}"#
            );
            assert_eq!(at_now(&body).unwrap().expires_in, Duration::from_secs(600));
        }
    }

    #[test]
    fn an_expired_or_missing_expires_on_is_refused() {
        let past = format!(r#"{{"access_token":"mi","expires_on":{}}}"#, NOW - 5);
        assert!(at_now(&past).unwrap_err().message.contains("expires_on"));
        assert!(
            at_now(r#"{"access_token":"mi"}"#)
                .unwrap_err()
                .message
                .contains("expires_on")
        );
    }
}
