//! Error bodies: the token endpoint's OAuth errors and the managed-identity endpoints' variants.
//!
//! Only what classification and diagnosis need is kept: the OAuth `error`, the AADSTS codes, the
//! correlation and trace ids. `error_description` is read for its `AADSTSnnnn:` prefix only and
//! then dropped, as is everything else.

use serde_json::{Map, Value};

use super::fields::{integer, string};

/// The parsed, sanitised parts of an error body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorBody {
    /// OAuth `error` (`invalid_client`, ...).
    pub error: Option<String>,
    /// From `error_codes`, or the description's `AADSTSnnnn:` prefix when that is missing.
    pub aadsts: Vec<u32>,
    pub correlation_id: Option<String>,
    pub trace_id: Option<String>,
}

/// The longest `error_codes` list kept.
const MAX_CODES: usize = 8;

/// Parses an error body; `None` when it is not a JSON object (an HTML page from a proxy, say).
pub fn parse(body: &[u8]) -> Option<ErrorBody> {
    let object: Map<String, Value> = serde_json::from_slice(body).ok()?;
    let mut aadsts: Vec<u32> = match object.get("error_codes") {
        Some(Value::Array(codes)) => codes
            .iter()
            .filter_map(integer)
            .filter_map(|c| u32::try_from(c).ok())
            .take(MAX_CODES)
            .collect(),
        _ => Vec::new(),
    };
    if aadsts.is_empty() {
        let description = object
            .get("error_description")
            .or_else(|| object.get("message"))
            .and_then(Value::as_str);
        aadsts.extend(description.and_then(code_prefix));
    }
    // OAuth `error`; IMDS nests nothing; App Service puts its id in `correlationId`.
    let error = string(&object, "error");
    let correlation_id =
        string(&object, "correlation_id").or_else(|| string(&object, "correlationId"));
    Some(ErrorBody {
        error,
        aadsts,
        correlation_id,
        trace_id: string(&object, "trace_id"),
    })
}

/// The code of a description starting `AADSTSnnnn:`.
fn code_prefix(description: &str) -> Option<u32> {
    let rest = description.trim_start().strip_prefix("AADSTS")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() || digits.len() > 9 {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entra_error_bodies_keep_codes_and_ids_but_not_the_description() {
        let body = br#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Trace ID: x","error_codes":[7000215],"timestamp":"2024-01-01 00:00:00Z","trace_id":"trace-1","correlation_id":"corr-1","error_uri":"https://login/error?code=7000215"}"#;
        let parsed = parse(body).unwrap();
        assert_eq!(
            parsed,
            ErrorBody {
                error: Some("invalid_client".into()),
                aadsts: vec![7000215],
                correlation_id: Some("corr-1".into()),
                trace_id: Some("trace-1".into()),
            }
        );
    }

    #[test]
    fn the_code_is_taken_from_the_description_when_error_codes_is_missing() {
        let body = br#"{"error":"invalid_grant","error_description":"AADSTS70021: No matching federated identity record found."}"#;
        assert_eq!(parse(body).unwrap().aadsts, vec![70021]);
        let body = br#"{"error":"invalid_grant","error_description":"no code here"}"#;
        assert!(parse(body).unwrap().aadsts.is_empty());
    }

    #[test]
    fn app_service_errors_give_their_correlation_id() {
        let body = br#"{"statusCode":400,"message":"No managed identity","correlationId":"c-9"}"#;
        let parsed = parse(body).unwrap();
        assert_eq!(parsed.correlation_id.as_deref(), Some("c-9"));
        assert_eq!(parsed.error, None);
    }

    #[test]
    fn html_and_arrays_are_not_error_bodies() {
        assert_eq!(parse(b"<html><body>502 Bad Gateway</body></html>"), None);
        assert_eq!(parse(b"[1,2]"), None);
    }

    #[test]
    fn oversized_ids_and_control_characters_are_cut() {
        let long = "a".repeat(5000);
        let body = format!(r#"{{"error":"bad\r\nline","correlation_id":"{long}"}}"#);
        let parsed = parse(body.as_bytes()).unwrap();
        assert_eq!(parsed.error.as_deref(), Some("badline"));
        assert_eq!(
            parsed.correlation_id.unwrap().len(),
            super::super::fields::MAX_KEPT_LEN
        );
    }
}
