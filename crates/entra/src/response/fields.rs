//! Field-level helpers for upstream JSON: numbers that may arrive as strings, and strings that are
//! kept (ids, error codes) only after bounding and sanitising them.

use serde_json::Value;

/// The longest id or error code kept from an upstream body.
pub const MAX_KEPT_LEN: usize = 128;

/// An integer sent as a JSON number or as a string of digits (Entra and the managed-identity
/// endpoints do both). `None` for anything else, including fractions and out-of-range values.
pub fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
}

/// `value` reduced to printable ASCII and at most [`MAX_KEPT_LEN`] bytes, or `None` when nothing is
/// left. Upstream strings reach logs and gRPC details only through here, so a body cannot inject
/// control characters, escape sequences or megabytes into them.
pub fn sanitize(value: &str) -> Option<String> {
    let kept: String = value
        .chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .take(MAX_KEPT_LEN)
        .collect();
    let kept = kept.trim();
    (!kept.is_empty()).then(|| kept.to_owned())
}

/// A string field of `object`, sanitised.
pub fn string(object: &serde_json::Map<String, Value>, name: &str) -> Option<String> {
    object.get(name).and_then(Value::as_str).and_then(sanitize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integers_may_be_strings() {
        assert_eq!(integer(&json!(3599)), Some(3599));
        assert_eq!(integer(&json!("3599")), Some(3599));
        assert_eq!(integer(&json!(" -1 ")), Some(-1));
        assert_eq!(integer(&json!("soon")), None);
        assert_eq!(integer(&json!(1.5)), None);
        assert_eq!(integer(&json!(null)), None);
        assert_eq!(integer(&json!(1e300)), None);
    }

    #[test]
    fn sanitising_drops_control_characters_and_bounds_length() {
        assert_eq!(sanitize("abc\r\n\u{1b}[31mdef"), Some("abc[31mdef".into()));
        assert_eq!(sanitize("\n\t"), None);
        assert_eq!(sanitize("é-ü"), Some("-".into()));
        assert_eq!(sanitize(&"x".repeat(10_000)).unwrap().len(), MAX_KEPT_LEN);
    }
}
