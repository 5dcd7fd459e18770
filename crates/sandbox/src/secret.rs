//! Comparing what a caller presents with the resolver's secrets (the URL path secret, the
//! managed-identity endpoint's `X-IDENTITY-HEADER`) in constant time.
//!
//! The comparison never stops at the first differing byte, so the time a refusal takes tells a
//! caller nothing about how much of a guess was right.

use subtle::ConstantTimeEq;

/// Compares a caller-supplied value with a secret without an early exit on the first difference.
pub(crate) fn secret_eq(given: &[u8], secret: &[u8]) -> bool {
    given.ct_eq(secret).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_eq_needs_equal_bytes_and_length() {
        assert!(secret_eq(b"abc", b"abc"));
        assert!(!secret_eq(b"abd", b"abc"));
        assert!(!secret_eq(b"ab", b"abc"));
    }
}
