//! The TLS flags of every command that calls the gateway (`sandbox`, `token`).

use std::path::PathBuf;

use agentmint_sandbox::GatewayTls;

#[derive(clap::Args, Clone, Default)]
pub struct TlsArgs {
    /// A CA certificate (PEM) to verify an https:// gateway with, instead of the system's roots.
    #[arg(long)]
    pub gateway_ca: Option<PathBuf>,
    /// A client certificate (PEM) to present to a gateway that requires mTLS.
    #[arg(long, requires = "client_key")]
    pub client_cert: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    #[arg(long, requires = "client_cert")]
    pub client_key: Option<PathBuf>,
}

impl TlsArgs {
    pub fn gateway_tls(&self) -> GatewayTls {
        GatewayTls {
            ca_file: self.gateway_ca.clone(),
            client_cert_file: self.client_cert.clone(),
            client_key_file: self.client_key.clone(),
        }
    }
}
