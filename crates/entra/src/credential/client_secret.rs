//! Client secrets: development only, and never inline in configuration — always read from a file.

use std::fmt;
use std::path::{Path, PathBuf};

use agentmint_base::Fingerprint;

use super::CredentialError;
use crate::secret::Secret;

/// A secret is a few dozen bytes; a large file is a mistake (a key, a log) and is refused.
const MAX_FILE_BYTES: usize = 4 * 1024;

/// An app's client secret, read once from a file.
pub struct ClientSecretCredential {
    path: PathBuf,
    secret: Secret,
    /// The secret's SHA-256, so that a secret renewed in place is told from the old one.
    digest: Fingerprint,
}

impl ClientSecretCredential {
    /// Reads and trims the secret in `path`.
    pub fn from_file(path: &Path) -> Result<Self, CredentialError> {
        let bytes = std::fs::read(path).map_err(|e| CredentialError::Read {
            path: path.to_owned(),
            kind: e.kind(),
        })?;
        if bytes.len() > MAX_FILE_BYTES {
            return Err(CredentialError::TooLarge {
                path: path.to_owned(),
                max: MAX_FILE_BYTES as u64,
            });
        }
        let text = String::from_utf8(bytes).map_err(|_| CredentialError::NotText {
            path: path.to_owned(),
        })?;
        let secret = text.trim();
        if secret.is_empty() {
            return Err(CredentialError::Empty {
                path: path.to_owned(),
            });
        }
        Ok(Self {
            path: path.to_owned(),
            digest: Fingerprint::of(secret.as_bytes()),
            secret: Secret::new(secret),
        })
    }

    /// The file the secret came from (its non-secret fingerprint).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The secret's SHA-256 (prints truncated): what tells a renewed secret from the old one.
    pub fn digest(&self) -> Fingerprint {
        self.digest
    }

    /// The secret, for the `client_secret` form field.
    pub fn secret(&self) -> &Secret {
        &self.secret
    }
}

impl fmt::Debug for ClientSecretCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientSecretCredential")
            .field("path", &self.path)
            .field("digest", &self.digest)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_is_trimmed_and_never_printed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, "  s3cr3t-value-123\n").unwrap();
        let cred = ClientSecretCredential::from_file(&path).unwrap();
        assert_eq!(cred.secret().expose(), "s3cr3t-value-123");
        let shown = format!("{cred:?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
    }

    #[test]
    fn an_empty_file_is_refused_naming_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("blank");
        std::fs::write(&path, "\n\n").unwrap();
        let err = ClientSecretCredential::from_file(&path)
            .unwrap_err()
            .to_string();
        assert!(err.contains("blank") && err.contains("empty"), "{err}");
    }
}
