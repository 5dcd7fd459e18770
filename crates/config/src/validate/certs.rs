//! Certificate files: readable, PEM, parseable, and valid now.
//!
//! An expired certificate is an error: Entra rejects every assertion it signs, so starting with it
//! only postpones the failure to the first mint. One that expires within a week is a warning, so
//! `config check` in CI gives the operator time to renew.

use std::path::Path;
use std::time::Duration;

use super::Ctx;
use crate::reader::At;
use agentmint_base::pem::{CertificateError, CertificateInfo, KeyError, PemFile, PrivateKey};

/// How far ahead an expiry is warned about.
pub(crate) const EXPIRY_WARNING: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// The PEM blocks of a file the config names, or `None` after reporting why there are none.
pub(super) fn pem_blocks(
    ctx: &mut Ctx<'_>,
    key: &str,
    at: At<&str>,
    path: &Path,
) -> Option<PemFile> {
    let bytes = ctx.read(key, at, path)?;
    let blocks = PemFile::parse(&bytes);
    if blocks.is_none() {
        ctx.report
            .error(at.span(), format!("`{key}` {} is not a PEM file", path.display()))
            .hint("the gateway reads PEM (-----BEGIN ...-----) files; convert DER or PFX with openssl");
    }
    blocks
}

/// Every certificate in `blocks`, in file order. `None` after reporting why there is none.
pub(super) fn certificates(
    ctx: &mut Ctx<'_>,
    key: &str,
    at: At<&str>,
    path: &Path,
    blocks: &PemFile,
    missing_hint: &str,
) -> Option<Vec<CertificateInfo>> {
    match blocks.certificates() {
        Ok(certs) => Some(certs),
        Err(err) => {
            let finding = ctx
                .report
                .error(at.span(), format!("`{key}` {} {err}", path.display()));
            if err == CertificateError::NoCertificate {
                finding.hint(missing_hint.to_owned());
            }
            None
        }
    }
}

/// Reports an expired, not-yet-valid or soon-expiring certificate; false when it cannot be used now.
pub(super) fn check_validity(
    ctx: &mut Ctx<'_>,
    key: &str,
    at: At<&str>,
    path: &Path,
    cert: &CertificateInfo,
) -> bool {
    let now = ctx.now;
    let not_after = cert.not_after.to_system_time();
    if not_after <= now {
        ctx.report
            .error(
                at.span(),
                format!(
                    "the certificate in `{key}` {} expired at {}",
                    path.display(),
                    cert.not_after
                ),
            )
            .hint("renew it, upload the new certificate to the app registration, and point the config at it");
        return false;
    }
    if cert.not_before.to_system_time() > now {
        ctx.report
            .error(
                at.span(),
                format!(
                    "the certificate in `{key}` {} is not valid before {}",
                    path.display(),
                    cert.not_before
                ),
            )
            .hint("check the clock of the machine that issued it, or wait");
        return false;
    }
    if not_after <= now + EXPIRY_WARNING {
        let left = not_after.duration_since(now).unwrap_or_default();
        ctx.report
            .warning(
                at.span(),
                format!(
                    "the certificate in `{key}` {} expires at {} (in {} hours)",
                    path.display(),
                    cert.not_after,
                    left.as_secs() / 3600
                ),
            )
            .hint("renew it before then; a reload picks up the new file");
    }
    true
}

/// A file of certificates (a CA bundle, a TLS chain), each valid now; false after reporting why not.
pub(super) fn valid_chain(
    ctx: &mut Ctx<'_>,
    key: &str,
    at: At<&str>,
    path: &Path,
    missing_hint: &str,
) -> bool {
    let Some(blocks) = pem_blocks(ctx, key, at, path) else {
        return false;
    };
    let Some(chain) = certificates(ctx, key, at, path, &blocks, missing_hint) else {
        return false;
    };
    let mut valid = true;
    for cert in &chain {
        valid &= check_validity(ctx, key, at, path, cert);
    }
    valid
}

/// The one private key among `blocks` of the file `key` names; `None` after reporting why there is
/// no usable one.
pub(super) fn private_key(
    ctx: &mut Ctx<'_>,
    key: &str,
    at: At<&str>,
    path: &Path,
    blocks: &PemFile,
) -> Option<PrivateKey> {
    match blocks.private_key() {
        Ok(kind) => Some(kind),
        Err(err) => {
            let hint = match err {
                KeyError::NoKey => {
                    format!("point {key} at the PEM holding -----BEGIN PRIVATE KEY-----")
                }
                KeyError::SeveralKeys(_) => "split the file: one private key per file".to_owned(),
                KeyError::Encrypted => {
                    "decrypt it for the gateway: openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pem"
                        .to_owned()
                }
                KeyError::Malformed => "re-export the key as unencrypted PKCS#8 PEM".to_owned(),
            };
            ctx.report
                .error(at.span(), format!("`{key}` {} {err}", path.display()))
                .hint(hint);
            None
        }
    }
}
