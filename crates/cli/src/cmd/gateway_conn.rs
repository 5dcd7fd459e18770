//! The flags of every command that calls the gateway (`sandbox`, `token`): where it is, how to
//! trust it, and which sandbox credential to present. One struct, flattened into each command, so
//! the commands cannot drift apart in name, environment variable or help.

use std::path::PathBuf;

use agentmint_sandbox::GatewayTls;

#[derive(clap::Args, Clone)]
pub struct GatewayArgs {
    /// The gateway's gRPC URL: http://host:port, or https://host:port for a TLS gateway.
    #[arg(long, env = "AGENTMINT_GATEWAY")]
    pub gateway: String,
    /// A CA certificate (PEM) to verify an https:// gateway with, instead of the system's roots.
    #[arg(long)]
    pub gateway_ca: Option<PathBuf>,
    /// A client certificate (PEM) to present to a gateway that requires mTLS.
    #[arg(long, requires = "client_key")]
    pub client_cert: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    #[arg(long, requires = "client_cert")]
    pub client_key: Option<PathBuf>,
    /// The file holding the sandbox credential to authenticate with (never passed to an agent).
    #[arg(
        long,
        required_unless_present = "service_account_token_file",
        conflicts_with = "service_account_token_file"
    )]
    pub credential_file: Option<PathBuf>,
    /// A Kubernetes projected service-account token to authenticate with instead of a credential
    /// file; re-read when the kubelet rotates it (the gateway's `[sandbox.service_account]`).
    #[arg(long)]
    pub service_account_token_file: Option<PathBuf>,
}

impl GatewayArgs {
    /// The file whose contents are the bearer value: the credential file or the token file.
    pub fn bearer_file(&self) -> &std::path::Path {
        match (&self.credential_file, &self.service_account_token_file) {
            (Some(path), _) | (None, Some(path)) => path,
            // clap requires one of the two.
            (None, None) => std::path::Path::new(""),
        }
    }

    pub fn gateway_tls(&self) -> GatewayTls {
        GatewayTls {
            ca_file: self.gateway_ca.clone(),
            client_cert_file: self.client_cert.clone(),
            client_key_file: self.client_key.clone(),
        }
    }
}
