//! Values that must never be printed: tokens, assertions, keys, client secrets.
//!
//! [`Secret`] is the only way such a value travels through agentmint. Its `Debug` and `Display` print
//! `[redacted]`, so a secret that reaches a log line, an error message or a panic by mistake shows up
//! as that word instead of as its value.

use std::fmt;
use std::sync::Arc;

/// A string that must never be printed. Cloning is cheap (shared).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Arc<str>);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<Arc<str>>) -> Self {
        Self(value.into())
    }

    /// The value itself, for the one place that must send it (a form field, a response body).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Length in bytes; useful in tests and size bounds without exposing the value.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when the value is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_are_redacted() {
        let s = Secret::new("eyJhbGciOiJSUzI1NiJ9.super-secret-payload");
        assert_eq!(format!("{s:?}"), "[redacted]");
        assert_eq!(format!("{s}"), "[redacted]");
        assert_eq!(format!("{:?}", Some(s.clone())), "Some([redacted])");
        assert_eq!(s.expose(), "eyJhbGciOiJSUzI1NiJ9.super-secret-payload");
    }
}
