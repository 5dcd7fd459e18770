//! `type = "certificate"`: the key and certificate files, checked to belong together and to be
//! valid now, so a wrong pair fails `config check` instead of every mint (AADSTS700027).

use std::path::Path;

use super::{Ctx, certs};
use crate::reader::{At, Table};
use crate::schema::{CredentialSpec, SigningAlgorithm};
use agentmint_base::pem::KeyKind;

pub(super) fn read(t: &Table<'_, '_>, ctx: &mut Ctx<'_>) -> Option<CredentialSpec> {
    let key_at = t.required_string(
        "key_file",
        "add key_file = \"keys/blueprint.pem\" (the PEM private key; a combined key + certificate file is fine)",
        &mut ctx.report,
    );
    let key_file = key_at.and_then(|at| ctx.path("key_file", at));
    let cert_at = t.string("certificate_file", &mut ctx.report);
    let certificate_file = match cert_at {
        Some(at) => ctx.path("certificate_file", at),
        None if t.has("certificate_file") => None,
        None => key_file.clone(),
    };
    let algorithm = algorithm(t, ctx);
    let (key_at, key_file, certificate_file, algorithm) =
        (key_at?, key_file?, certificate_file?, algorithm?);
    let certificate_sha256 = if ctx.check_files {
        let cert_at = cert_at.unwrap_or(key_at);
        Some(check_key_and_certificate(
            ctx,
            key_at,
            &key_file,
            cert_at,
            &certificate_file,
        )?)
    } else {
        None
    };
    Some(CredentialSpec::Certificate {
        key_file,
        certificate_file,
        algorithm,
        certificate_sha256,
    })
}

fn algorithm(t: &Table<'_, '_>, ctx: &mut Ctx<'_>) -> Option<SigningAlgorithm> {
    if !t.has("algorithm") {
        return Some(SigningAlgorithm::default());
    }
    let at = t.string("algorithm", &mut ctx.report)?;
    match at.value {
        "PS256" => Some(SigningAlgorithm::Ps256),
        "RS256" => Some(SigningAlgorithm::Rs256),
        _ => {
            ctx.report
                .error(at.span(), "`algorithm` must be \"PS256\" or \"RS256\"")
                .hint("PS256 (the default) is what Entra and MSAL use today; RS256 is the legacy form");
            None
        }
    }
}

/// The key file holds one RSA private key, the certificate file (the same file when combined) holds
/// its certificate first, and that certificate is valid now. Returns the certificate's SHA-256.
fn check_key_and_certificate(
    ctx: &mut Ctx<'_>,
    key_at: At<&str>,
    key_file: &Path,
    cert_at: At<&str>,
    certificate_file: &Path,
) -> Option<[u8; 32]> {
    let key_blocks = certs::pem_blocks(ctx, "key_file", key_at, key_file)?;
    ctx.warn_if_world_readable("key_file", key_at, key_file);
    let key = match certs::private_key(ctx, "key_file", key_at, key_file, &key_blocks) {
        Some(key) if matches!(key.kind, KeyKind::Rsa { .. }) => Some(key),
        Some(_) => {
            ctx.report
                .error(
                    key_at.span(),
                    format!(
                        "`key_file` {} holds a key that is not RSA",
                        key_file.display()
                    ),
                )
                .hint("PS256 and RS256 assertions need an RSA key (2048 bits or more)");
            None
        }
        None => None,
    };
    let (cert_key, cert_blocks) = if certificate_file == key_file {
        ("key_file", key_blocks)
    } else {
        let blocks = certs::pem_blocks(ctx, "certificate_file", cert_at, certificate_file)?;
        ("certificate_file", blocks)
    };
    let certificates = certs::certificates(
        ctx,
        cert_key,
        cert_at,
        certificate_file,
        &cert_blocks,
        "set certificate_file, or append the certificate to key_file",
    )?;
    let leaf = certificates.first()?;
    let leaf_ok = certs::check_validity(ctx, cert_key, cert_at, certificate_file, leaf);
    let key = key?;
    if !key.belongs_to(leaf) {
        ctx.report
            .error(
                cert_at.span(),
                format!(
                    "the first certificate in `{cert_key}` {} does not belong to the private key in `key_file`",
                    certificate_file.display()
                ),
            )
            .hint("Entra would reject every assertion (AADSTS700027); pair the key with its own certificate, leaf first");
        return None;
    }
    leaf_ok.then_some(leaf.sha256)
}
