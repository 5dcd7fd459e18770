//! Errors of building an emulator (serving errors are HTTP answers, see `oauth::error`).

use crate::directory::DirectoryError;

/// Why an [`Emulator`](crate::Emulator) could not be created.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error(transparent)]
    Directory(#[from] DirectoryError),
    #[error("cannot create the token signing key: {0}")]
    SigningKey(String),
}
