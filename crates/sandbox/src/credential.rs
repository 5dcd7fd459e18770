//! The sandbox's own credential: the bearer secret the resolver presents to the gateway.
//!
//! It is read from a file (never a flag or an inline value, so it stays out of `ps` and shell
//! history), held behind a type that prints `[redacted]`, and remembered together with the file's
//! path so the launcher can keep both out of the agent's environment.
//!
//! A Kubernetes projected service-account token (`--service-account-token-file`, issue 12) is
//! presented the same way, but the kubelet rotates the file: such a credential is re-read whenever
//! the file's modification time changes (checked on every gateway call), keeping the last good
//! token when the new contents cannot be read.

use std::fmt;
use std::io::Read;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use crate::SandboxError;

/// The longest credential accepted; the gateway refuses longer ones too.
pub const MAX_CREDENTIAL_LEN: usize = 4096;

/// A rotating token's latest contents and the modification time they were read at.
type Latest = (Arc<str>, Option<SystemTime>);

/// A per-sandbox bearer credential. `Debug` and `Display` print `[redacted]`.
#[derive(Clone)]
pub struct SandboxCredential {
    secret: Arc<str>,
    /// For a rotating token file: the latest secret and the modification time it was read at.
    rotating: Option<Arc<Mutex<Latest>>>,
    /// The file it was read from, as given and (when resolvable) canonical.
    paths: Arc<[String]>,
}

impl SandboxCredential {
    /// Reads the credential from `path`: surrounding whitespace (a trailing newline) is trimmed;
    /// the rest must be 1 to 4096 visible ASCII characters, as an HTTP bearer value requires.
    pub fn from_file(path: &Path) -> Result<Self, SandboxError> {
        let (secret, paths) = read(path)?;
        Ok(Self {
            secret,
            rotating: None,
            paths,
        })
    }

    /// Reads a projected service-account token from `path`, as [`Self::from_file`], and re-reads
    /// it whenever the file's modification time changes (the kubelet rotates it).
    pub fn from_token_file(path: &Path) -> Result<Self, SandboxError> {
        let mtime = modified(path);
        let (secret, paths) = read(path)?;
        Ok(Self {
            rotating: Some(Arc::new(Mutex::new((secret.clone(), mtime)))),
            secret,
            paths,
        })
    }

    /// The secret itself, for the `authorization` metadata only (a rotating token file is re-read
    /// first when it changed).
    pub(crate) fn expose(&self) -> Arc<str> {
        let Some(rotating) = &self.rotating else {
            return self.secret.clone();
        };
        let path = self.file();
        let mut latest = rotating.lock().unwrap_or_else(PoisonError::into_inner);
        let mtime = modified(&path);
        if mtime != latest.1
            && let Ok((secret, _)) = read(&path)
        {
            *latest = (secret, mtime);
        }
        latest.0.clone()
    }

    /// True when `value` carries the credential anywhere in it.
    pub(crate) fn appears_in(&self, value: &str) -> bool {
        value.contains(&*self.secret) || value.contains(&*self.expose())
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

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Reads a credential from `path`: surrounding whitespace (a trailing newline) is trimmed; the
/// rest must be 1 to 4096 visible ASCII characters, as an HTTP bearer value requires.
fn read(path: &Path) -> Result<(Arc<str>, Arc<[String]>), SandboxError> {
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
    Ok((secret.into(), paths.into()))
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn rewrite(path: &Path, text: &str, mtime: SystemTime) {
        std::fs::write(path, text).unwrap();
        std::fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
    }

    #[test]
    fn a_token_file_is_re_read_when_it_changes_and_a_credential_file_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let token = dir.path().join("token");
        let cred = dir.path().join("cred");
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        rewrite(&token, "tok.en.one\n", t0);
        rewrite(&cred, "cred-one\n", t0);
        let rotating = SandboxCredential::from_token_file(&token).unwrap();
        let fixed = SandboxCredential::from_file(&cred).unwrap();
        assert_eq!(&*rotating.expose(), "tok.en.one");
        rewrite(&token, "tok.en.two\n", t0 + Duration::from_secs(60));
        rewrite(&cred, "cred-two\n", t0 + Duration::from_secs(60));
        assert_eq!(&*rotating.expose(), "tok.en.two");
        assert_eq!(&*fixed.expose(), "cred-one");
        // A half-written (empty) file keeps the last good token.
        rewrite(&token, "", t0 + Duration::from_secs(120));
        assert_eq!(&*rotating.expose(), "tok.en.two");
        assert_eq!(format!("{rotating:?}"), "SandboxCredential([redacted])");
    }
}
