//! Files the config names: resolved against the config file's directory, read with a size bound.
//!
//! Relative paths are relative to the config file, not to wherever the gateway was started, so one
//! file works the same from a systemd unit, a container or a shell.

use std::io::Read;
use std::path::{Path, PathBuf};

/// The largest config file, key, certificate or credential file read (all are a few KiB at most).
pub(crate) const MAX_FILE_BYTES: u64 = 1 << 20;

/// Resolves the paths written in one config file.
pub(crate) struct Paths {
    base: PathBuf,
    /// The base is `$CREDENTIALS_DIRECTORY` (see `credentials_dir`), not the config's directory.
    from_credentials: bool,
}

impl Paths {
    /// Anchors relative paths at the directory holding `origin`.
    pub(crate) fn new(origin: &Path) -> Self {
        let dir = match origin.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        Self {
            base: std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf()),
            from_credentials: false,
        }
    }

    /// Anchors relative paths at systemd's credentials directory.
    pub(crate) fn in_credentials_dir(dir: &Path) -> Self {
        Self {
            base: std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf()),
            from_credentials: true,
        }
    }

    /// True when relative paths resolve against `$CREDENTIALS_DIRECTORY`.
    pub(crate) fn in_credentials(&self) -> bool {
        self.from_credentials
    }

    /// The absolute path for what the file says.
    pub(crate) fn resolve(&self, written: &str) -> PathBuf {
        self.base.join(written)
    }

    /// The directory relative paths are resolved against (for hints).
    pub(crate) fn base(&self) -> &Path {
        &self.base
    }
}

/// Why a named file could not be read. Never carries the file's contents.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    #[error("it does not exist")]
    NotFound,
    #[error("permission denied")]
    PermissionDenied,
    #[error("it is a directory")]
    Directory,
    #[error("it is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("{0}")]
    Io(std::io::ErrorKind),
}

impl From<std::io::Error> for ReadError {
    fn from(err: std::io::Error) -> Self {
        match err.kind() {
            std::io::ErrorKind::NotFound => Self::NotFound,
            std::io::ErrorKind::PermissionDenied => Self::PermissionDenied,
            std::io::ErrorKind::IsADirectory => Self::Directory,
            kind => Self::Io(kind),
        }
    }
}

/// Reads a whole file of at most [`MAX_FILE_BYTES`].
pub(crate) fn read_bounded(path: &Path) -> Result<Vec<u8>, ReadError> {
    let file = std::fs::File::open(path)?;
    if file.metadata()?.is_dir() {
        return Err(ReadError::Directory);
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ReadError::TooLarge {
            limit: MAX_FILE_BYTES,
        });
    }
    Ok(bytes)
}

/// True when every user on the machine may read the file: a private key or secret anyone can copy.
/// (Group access is left alone: a group shared with the gateway's user is a common, deliberate
/// setup. Always false where file modes do not exist.)
pub(crate) fn readable_by_others(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o004 != 0)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_resolve_against_the_config_directory() {
        let paths = Paths::new(Path::new("/etc/agentmint/gateway.toml"));
        assert_eq!(
            paths.resolve("keys/bp.pem"),
            PathBuf::from("/etc/agentmint/keys/bp.pem")
        );
        assert_eq!(paths.resolve("/abs/k.pem"), PathBuf::from("/abs/k.pem"));
    }

    #[test]
    fn a_bare_file_name_resolves_to_an_absolute_path() {
        let paths = Paths::new(Path::new("gateway.toml"));
        assert!(paths.resolve("k.pem").is_absolute());
    }

    #[test]
    fn an_oversized_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big");
        std::fs::write(&path, vec![b'a'; MAX_FILE_BYTES as usize + 1]).unwrap();
        assert!(matches!(
            read_bounded(&path),
            Err(ReadError::TooLarge { .. })
        ));
        assert!(matches!(
            read_bounded(dir.path()),
            Err(ReadError::Directory)
        ));
    }
}
