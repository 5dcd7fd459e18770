//! TLS to the gateway: an `https://` gateway URL is verified against the system's roots or the
//! given CA, and, when the gateway requires client certificates (mTLS), the resolver presents its
//! own. Files are read once at start; the private key is never printed.

use std::fmt;
use std::path::{Path, PathBuf};

use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};

use crate::SandboxError;
use crate::gateway::check_url;

/// How the resolver authenticates the gateway's TLS, and itself to it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct GatewayTls {
    /// A CA (PEM) to trust for the gateway's certificate, instead of the system's roots.
    pub ca_file: Option<PathBuf>,
    /// A client certificate chain (PEM) and its private key, for a gateway that requires mTLS.
    pub client_cert_file: Option<PathBuf>,
    pub client_key_file: Option<PathBuf>,
}

impl GatewayTls {
    /// True when any TLS option is set (which then needs an `https://` gateway URL).
    fn is_set(&self) -> bool {
        self.ca_file.is_some() || self.client_cert_file.is_some() || self.client_key_file.is_some()
    }

    /// A channel endpoint for the gateway at `url` (`http://host:port`, or `https://host:port`
    /// verified and authenticated with these options). Not connected yet.
    pub fn endpoint(&self, url: &str) -> Result<Endpoint, SandboxError> {
        let bad_url = |why| SandboxError::GatewayUrl {
            url: url.to_owned(),
            why,
        };
        let https = check_url(url)?;
        if self.is_set() && !https {
            return Err(bad_url("TLS options need an https:// gateway URL"));
        }
        let endpoint =
            Endpoint::from_shared(url.to_owned()).map_err(|_| bad_url("it is not a valid URI"))?;
        if !https {
            return Ok(endpoint);
        }
        endpoint
            .tls_config(self.client_config()?)
            .map_err(|_| bad_url("its TLS configuration is unusable"))
    }

    /// The tonic client configuration, files read.
    fn client_config(&self) -> Result<ClientTlsConfig, SandboxError> {
        let mut config = ClientTlsConfig::new();
        config = match &self.ca_file {
            Some(ca) => config.ca_certificate(Certificate::from_pem(read(ca)?)),
            None => config.with_native_roots(),
        };
        match (&self.client_cert_file, &self.client_key_file) {
            (Some(cert), Some(key)) => {
                config = config.identity(Identity::from_pem(read(cert)?, read(key)?));
            }
            (None, None) => {}
            _ => return Err(SandboxError::TlsClientPair),
        }
        Ok(config)
    }
}

impl fmt::Debug for GatewayTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatewayTls")
            .field("ca_file", &self.ca_file)
            .field("client_cert_file", &self.client_cert_file)
            .field("client_key_file", &self.client_key_file)
            .finish()
    }
}

fn read(path: &Path) -> Result<Vec<u8>, SandboxError> {
    std::fs::read(path).map_err(|source| SandboxError::TlsRead {
        path: path.to_owned(),
        source,
    })
}
