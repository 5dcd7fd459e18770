//! [`Fingerprint`]: the SHA-256 digest that stands for a credential's content wherever the gateway
//! must tell one credential from another (hop-1 cache keys, reload decisions, the file watcher)
//! without holding or printing the credential itself.
//!
//! A rotated certificate or secret renewed in place keeps its path but changes its content, so
//! paths alone cannot tell the old credential from the new one; a digest can. It prints as at most
//! twelve hex digits, enough for an operator to match log lines, never the whole digest.

use std::fmt;

use sha2::{Digest, Sha256};

/// How many hex digits `Debug` and `Display` show.
const SHOWN_HEX_DIGITS: usize = 12;

/// A SHA-256 digest of a credential's content (or of a certificate's DER: its `x5t#S256`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    /// The SHA-256 of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }

    /// The SHA-256 of several parts, each prefixed by its length, so that no two different lists
    /// of parts hash alike (`["ab","c"]` and `["a","bc"]` differ).
    pub fn of_parts(parts: &[&[u8]]) -> Self {
        let mut hasher = Sha256::new();
        for part in parts {
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part);
        }
        Self(hasher.finalize().into())
    }

    /// A digest computed elsewhere (a certificate's thumbprint).
    pub fn from_digest(digest: [u8; 32]) -> Self {
        Self(digest)
    }

    /// The digest's bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The first hex digits, for logs.
    pub fn short(&self) -> String {
        self.0
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
            .chars()
            .take(SHOWN_HEX_DIGITS)
            .collect()
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}…", self.short())
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_a_truncated_digest_only() {
        let fp = Fingerprint::of(b"s3cr3t");
        let full: String = fp.as_bytes().iter().map(|b| format!("{b:02x}")).collect();
        let shown = format!("{fp:?} {fp}");
        assert!(!shown.contains(&full), "{shown}");
        assert!(
            shown.starts_with(&format!("sha256:{}…", &full[..12])),
            "{shown}"
        );
        assert!(!shown.contains("s3cr3t"));
    }

    #[test]
    fn parts_are_length_prefixed() {
        assert_ne!(
            Fingerprint::of_parts(&[b"ab", b"c"]),
            Fingerprint::of_parts(&[b"a", b"bc"])
        );
        assert_eq!(
            Fingerprint::of_parts(&[b"a", b"bc"]),
            Fingerprint::of_parts(&[b"a", b"bc"])
        );
    }
}
