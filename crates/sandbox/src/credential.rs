//! The sandbox's own credential: the bearer secret the resolver presents to the gateway.
//!
//! It is read from a file (never a flag or an inline value, so it stays out of `ps` and shell
//! history), held behind a type that prints `[redacted]`, and remembered together with the file's
//! path so the launcher can keep both out of the agent's environment.

use std::fmt;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use crate::SandboxError;

/// The longest credential accepted; the gateway refuses longer ones too.
pub const MAX_CREDENTIAL_LEN: usize = 4096;

/// A per-sandbox bearer credential. `Debug` and `Display` print `[redacted]`.
#[derive(Clone)]
pub struct SandboxCredential {
    secret: Arc<str>,
    /// The file it was read from, as given and (when resolvable) canonical.
    paths: Arc<[String]>,
}

impl SandboxCredential {
    /// Reads the credential from `path`: surrounding whitespace (a trailing newline) is trimmed;
    /// the rest must be 1 to 4096 visible ASCII characters, as an HTTP bearer value requires.
    pub fn from_file(path: &Path) -> Result<Self, SandboxError> {
        let read_err = |source| SandboxError::CredentialRead {
            path: path.to_path_buf(),
            source,
        };
        let invalid = |why| SandboxError::CredentialInvalid {
            path: path.to_path_buf(),
            why,
        };
        let mut raw = Vec::new();
        std::fs::File::open(path)
            .and_then(|file| {
                file.take(MAX_CREDENTIAL_LEN as u64 + 1024)
                    .read_to_end(&mut raw)
            })
            .map_err(read_err)?;
        let text = std::str::from_utf8(&raw).map_err(|_| invalid("it is not UTF-8 text"))?;
        let secret = text.trim_matches(|c: char| c.is_ascii_whitespace());
        if secret.is_empty() {
            return Err(invalid("it is empty"));
        }
        if secret.len() > MAX_CREDENTIAL_LEN {
            return Err(invalid("it is longer than 4096 characters"));
        }
        if !secret.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(invalid("it must be one line of visible ASCII characters"));
        }
        let mut paths = vec![path.display().to_string()];
        if let Ok(canonical) = std::fs::canonicalize(path) {
            let canonical = canonical.display().to_string();
            if !paths.contains(&canonical) {
                paths.push(canonical);
            }
        }
        Ok(Self {
            secret: secret.into(),
            paths: paths.into(),
        })
    }

    /// The secret itself, for the `authorization` metadata only.
    pub(crate) fn expose(&self) -> &str {
        &self.secret
    }

    /// True when `value` carries the credential anywhere in it.
    pub(crate) fn appears_in(&self, value: &str) -> bool {
        value.contains(&*self.secret)
    }

    /// The file the credential was read from.
    pub(crate) fn file(&self) -> std::path::PathBuf {
        std::path::PathBuf::from(&self.paths[0])
    }

    /// True when `value` names the file the credential was read from.
    pub(crate) fn file_named_in(&self, value: &str) -> bool {
        self.paths.iter().any(|path| value.contains(path.as_str()))
    }
}

impl fmt::Debug for SandboxCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SandboxCredential([redacted])")
    }
}

impl fmt::Display for SandboxCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}
