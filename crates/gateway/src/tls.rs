//! The gRPC port's TLS: the server certificate from `[gateway.tls]`, and with `client_ca_file` the
//! requirement that every client present a certificate issued by that CA (mTLS). The files are
//! read once at start; changing them takes a restart (a reload keeps the listener as it is).

use std::path::{Path, PathBuf};

use agentmint_config::TlsSettings;
use tonic::transport::{Certificate, Identity, ServerTlsConfig};

/// Why the TLS files could not be loaded. Names the file, never its contents.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the TLS file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The server TLS configuration of `settings`.
pub fn server_config(settings: &TlsSettings) -> Result<ServerTlsConfig, TlsError> {
    let cert = read(&settings.cert_file)?;
    let key = read(&settings.key_file)?;
    let mut config = ServerTlsConfig::new().identity(Identity::from_pem(cert, key));
    if let Some(ca) = &settings.client_ca_file {
        config = config.client_ca_root(Certificate::from_pem(read(ca)?));
    }
    Ok(config)
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_owned(),
        source,
    })
}
