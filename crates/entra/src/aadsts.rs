//! Our own words for the AADSTS codes an operator is most likely to meet (PROTOCOL.md's list).
//!
//! Entra's `error_description` is long, changes over time, embeds ids and sometimes echoes request
//! values; it never reaches a log line or a caller. Instead each known code maps to a stable
//! [`Reason`] and a message that says what to check.

use crate::error::Reason;

/// The reason and message for `code`, when it is one we know.
pub fn describe(code: u32) -> Option<(Reason, &'static str)> {
    use Reason::*;
    Some(match code {
        70021 => (
            FicMismatch,
            "no federated identity credential on the app matches the presented assertion; \
             compare the FIC's issuer, subject and audience with the assertion's iss, sub and aud",
        ),
        700211 => (
            FicMismatch,
            "the assertion's issuer matches no federated identity credential on the app \
             (at hop 1 this also means a missing fmi_path or a scope other than \
             api://AzureADTokenExchange/.default)",
        ),
        700212 => (
            FicMismatch,
            "the assertion's audience matches no federated identity credential on the app; \
             the FIC audience must be api://AzureADTokenExchange",
        ),
        700213 => (
            FicMismatch,
            "the assertion's subject matches no federated identity credential on the app; \
             the FIC subject must be the managed identity's object (principal) id",
        ),
        700214 => (
            FicMismatch,
            "the federated identity credential's audience must be api://AzureADTokenExchange",
        ),
        700229 => (
            AssertionRejected,
            "only app (not user) tokens may be used as a federated identity credential",
        ),
        700024 => (
            ClockSkew,
            "the client assertion is outside its validity window (nbf/exp); check this host's \
             clock for skew (NTP)",
        ),
        700027 => (
            AssertionRejected,
            "the client assertion's signature is invalid: the certificate that signed it is not \
             registered on the app, or the key does not belong to it",
        ),
        7000215 => (
            InvalidClient,
            "the client secret is invalid or expired; create a new one for the app",
        ),
        7000218 => (
            InvalidClient,
            "the request carried no client credential (client_assertion or client_secret)",
        ),
        700016 => (
            UnknownApplication,
            "the application (client id) was not found in the tenant; check the client id and \
             tenant, and that the app is provisioned there",
        ),
        65001 => (
            ConsentRequired,
            "consent is missing: an administrator must grant the app (or Agent Identity) the \
             requested permissions",
        ),
        500011 => (
            ResourceNotFound,
            "the resource named in the scope was not found in the tenant; check the scope's \
             application id URI",
        ),
        70011 => (
            InvalidScope,
            "the scope is invalid; app-only grants need a single resource's /.default",
        ),
        70003 => (
            InvalidGrant,
            "the grant type is not supported for this client",
        ),
        900144 => (InvalidRequest, "a required request parameter is missing"),
        90002 => (
            TenantNotFound,
            "the tenant was not found; check the tenant id or domain and the authority host",
        ),
        50076 | 50079 => (
            InteractionRequired,
            "multi-factor authentication is required for this user; an agent cannot satisfy it",
        ),
        530003 => (
            InteractionRequired,
            "the request was blocked by Conditional Access (device or location policy)",
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code PROTOCOL.md lists has a message of our own.
    const LISTED: [u32; 20] = [
        70021, 700211, 700212, 700213, 700214, 700229, 700024, 700027, 7000215, 7000218, 700016,
        65001, 500011, 70011, 70003, 900144, 90002, 50076, 50079, 530003,
    ];

    #[test]
    fn every_listed_code_has_a_message() {
        for code in LISTED {
            let (_, message) = describe(code).unwrap_or_else(|| panic!("AADSTS{code}"));
            assert!(message.len() > 20, "AADSTS{code}");
        }
        assert_eq!(describe(12345), None);
    }

    #[test]
    fn fic_mismatch_names_the_fields_to_check() {
        let (reason, message) = describe(70021).unwrap();
        assert_eq!(reason, Reason::FicMismatch);
        for field in ["issuer", "subject", "audience"] {
            assert!(message.contains(field), "{message}");
        }
    }

    #[test]
    fn assertion_time_window_mentions_clock_skew() {
        let (reason, message) = describe(700024).unwrap();
        assert_eq!(reason, Reason::ClockSkew);
        assert!(message.contains("clock"), "{message}");
    }

    #[test]
    fn missing_consent_says_consent() {
        let (reason, message) = describe(65001).unwrap();
        assert_eq!(reason, Reason::ConsentRequired);
        assert!(message.contains("consent"), "{message}");
    }

    #[test]
    fn hop1_issuer_mismatch_mentions_fmi_path() {
        assert!(describe(700211).unwrap().1.contains("fmi_path"));
    }
}
