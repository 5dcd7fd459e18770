//! Workload identity: the Kubernetes projected service-account token is the client assertion.
//!
//! The kubelet rotates the file; a token read once goes stale. The contents are kept for at most
//! five minutes (well inside the "at least every 10 minutes" rule of PROTOCOL.md) and re-read after.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use tokio::io::AsyncReadExt;

use super::CredentialError;
use crate::secret::Secret;
use agentmint_base::clock::{self, SharedClock};

/// Contents older than this are re-read.
pub const REREAD_AFTER: Duration = Duration::from_secs(5 * 60);
/// A projected token is a few KiB; anything larger is not one.
const MAX_FILE_BYTES: u64 = 64 * 1024;

/// A federated token read from a file (normally `AZURE_FEDERATED_TOKEN_FILE`).
pub struct WorkloadIdentityCredential {
    path: PathBuf,
    clock: SharedClock,
    cached: Mutex<Option<(Secret, SystemTime)>>,
}

impl WorkloadIdentityCredential {
    /// A credential reading `path` (lazily, at the first mint).
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            clock: clock::system(),
            cached: Mutex::new(None),
        }
    }

    /// Replaces the clock that decides when the file is re-read.
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// The token file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The current token, re-read from the file when the copy held is older than [`REREAD_AFTER`]
    /// (or the clock went backwards).
    pub async fn assertion(&self) -> Result<Secret, CredentialError> {
        let now = self.clock.wall();
        {
            let cached = self.cached.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((token, read_at)) = cached.as_ref() {
                let age = now.duration_since(*read_at).ok();
                if age.is_some_and(|a| a < REREAD_AFTER) {
                    return Ok(token.clone());
                }
            }
        }
        let token = self.read().await?;
        *self.cached.lock().unwrap_or_else(|e| e.into_inner()) = Some((token.clone(), now));
        Ok(token)
    }

    async fn read(&self) -> Result<Secret, CredentialError> {
        let io_err = |e: std::io::Error| CredentialError::Read {
            path: self.path.clone(),
            kind: e.kind(),
        };
        let file = tokio::fs::File::open(&self.path).await.map_err(io_err)?;
        let mut bytes = Vec::new();
        file.take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .await
            .map_err(io_err)?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(CredentialError::TooLarge {
                path: self.path.clone(),
                max: MAX_FILE_BYTES,
            });
        }
        let text = String::from_utf8(bytes).map_err(|_| CredentialError::NotText {
            path: self.path.clone(),
        })?;
        let token = text.trim();
        if token.is_empty() {
            return Err(CredentialError::Empty {
                path: self.path.clone(),
            });
        }
        Ok(Secret::new(token))
    }
}

impl fmt::Debug for WorkloadIdentityCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkloadIdentityCredential")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use agentmint_base::ManualClock;
    use std::sync::Arc;

    #[tokio::test]
    async fn the_file_is_reread_once_the_copy_is_five_minutes_old() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "first-token\n").unwrap();
        let clock = Arc::new(ManualClock::starting_at(
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000),
        ));
        let cred = WorkloadIdentityCredential::new(path.clone()).with_clock(clock.clone());

        assert_eq!(cred.assertion().await.unwrap().expose(), "first-token");
        std::fs::write(&path, "second-token").unwrap();
        clock.advance(REREAD_AFTER - Duration::from_secs(1));
        assert_eq!(cred.assertion().await.unwrap().expose(), "first-token");
        clock.advance(Duration::from_secs(1));
        assert_eq!(cred.assertion().await.unwrap().expose(), "second-token");
    }

    #[tokio::test]
    async fn a_missing_or_empty_file_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let missing = WorkloadIdentityCredential::new(dir.path().join("absent"));
        let err = missing.assertion().await.unwrap_err().to_string();
        assert!(err.contains("absent"), "{err}");

        let empty_path = dir.path().join("empty");
        std::fs::write(&empty_path, " \n").unwrap();
        let err = WorkloadIdentityCredential::new(empty_path)
            .assertion()
            .await
            .unwrap_err();
        assert!(matches!(err, CredentialError::Empty { .. }));
    }
}
