//! Provider credentials: the config's `CredentialSpec` (paths and ids, no secrets) turned into the
//! Entra client's `Credential` (keys and secrets loaded, endpoints decided).
//!
//! Loading happens once per provider record, at start and on a reload that changed the record, so a
//! certificate's assertion memo survives reloads of unchanged providers. Errors name files and
//! problems, never contents. Certificate expiry is not checked here: `config::load` refuses an
//! expired certificate (and warns a week ahead), and the credential itself refuses to sign with
//! one and warns 30 days ahead.
//!
//! Every credential gets the gateway's injected clock, the same one the caches use, so a test that
//! moves time moves assertion reuse, certificate expiry and token-file re-reads with it.

use std::sync::Arc;

use agentmint_cache::Clock;
use agentmint_config as config;
use agentmint_entra::{
    CertificateCredential, ClientSecretCredential, Credential, CredentialError,
    ManagedIdentityCredential, ManagedIdentitySource, Secret, SigningAlgorithm,
    UserAssignedIdentity, WorkloadIdentityCredential,
};

/// Loads the credential a provider record names. `env` is the gateway's environment (injected), which
/// decides the managed-identity source the way the Azure SDKs do; `clock` is the gateway's clock.
pub fn build(
    spec: &config::CredentialSpec,
    env: &dyn Fn(&str) -> Option<String>,
    clock: &Arc<dyn Clock>,
) -> Result<Credential, CredentialError> {
    Ok(match spec {
        config::CredentialSpec::Certificate {
            key_file,
            certificate_file,
            algorithm,
            ..
        } => {
            let algorithm = match algorithm {
                config::SigningAlgorithm::Ps256 => SigningAlgorithm::Ps256,
                config::SigningAlgorithm::Rs256 => SigningAlgorithm::Rs256,
            };
            let cert = (certificate_file != key_file).then_some(certificate_file.as_path());
            Credential::Certificate(Arc::new(
                CertificateCredential::from_files(key_file, cert, algorithm)?
                    .with_clock(clock.clone()),
            ))
        }
        config::CredentialSpec::ManagedIdentity { identity, endpoint } => {
            let source = managed_identity_source(endpoint.as_deref(), env);
            let identity = identity.as_ref().map(|id| match id {
                config::ManagedIdentityId::ClientId(v) => UserAssignedIdentity::ClientId(v.clone()),
                config::ManagedIdentityId::ObjectId(v) => UserAssignedIdentity::ObjectId(v.clone()),
                config::ManagedIdentityId::ResourceId(v) => {
                    UserAssignedIdentity::ResourceId(v.clone())
                }
            });
            Credential::ManagedIdentity(Arc::new(ManagedIdentityCredential::new(source, identity)))
        }
        config::CredentialSpec::WorkloadIdentity { token_file } => Credential::WorkloadIdentity(
            Arc::new(WorkloadIdentityCredential::new(token_file.clone()).with_clock(clock.clone())),
        ),
        config::CredentialSpec::ClientSecret { secret_file, .. } => {
            Credential::ClientSecret(Arc::new(ClientSecretCredential::from_file(secret_file)?))
        }
    })
}

/// The managed-identity source: the environment's (App Service when `IDENTITY_ENDPOINT` and
/// `IDENTITY_HEADER` are both set, else IMDS), or the record's endpoint override, spoken App Service
/// style when the environment provides an `IDENTITY_HEADER` and IMDS style otherwise.
fn managed_identity_source(
    endpoint: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> ManagedIdentitySource {
    let Some(endpoint) = endpoint else {
        return ManagedIdentitySource::from_env(env);
    };
    let endpoint = endpoint.to_owned();
    match env("IDENTITY_HEADER").filter(|h| !h.trim().is_empty()) {
        Some(header) => ManagedIdentitySource::AppService {
            endpoint,
            header: Secret::new(header.trim()),
        },
        None => ManagedIdentitySource::Imds { endpoint },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn managed_identity_defaults_to_imds_without_app_service_variables() {
        let source = managed_identity_source(None, &env(&[]));
        assert!(matches!(source, ManagedIdentitySource::Imds { .. }));
    }

    #[test]
    fn managed_identity_uses_app_service_when_both_variables_are_set() {
        let e = env(&[
            ("IDENTITY_ENDPOINT", "http://127.0.0.1:1/msi/token"),
            ("IDENTITY_HEADER", "h"),
        ]);
        let source = managed_identity_source(None, &e);
        assert_eq!(source.endpoint(), "http://127.0.0.1:1/msi/token");
        assert!(matches!(source, ManagedIdentitySource::AppService { .. }));
    }

    #[test]
    fn an_endpoint_override_replaces_the_detected_endpoint() {
        let imds = managed_identity_source(Some("http://10.0.0.1/token"), &env(&[]));
        assert_eq!(
            imds,
            ManagedIdentitySource::Imds {
                endpoint: "http://10.0.0.1/token".into()
            }
        );
        let e = env(&[("IDENTITY_HEADER", "h")]);
        let app = managed_identity_source(Some("http://10.0.0.1/msi"), &e);
        assert!(matches!(app, ManagedIdentitySource::AppService { .. }));
        assert_eq!(app.endpoint(), "http://10.0.0.1/msi");
    }
}
