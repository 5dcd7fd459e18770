//! `[provider.credential]`: how the Blueprint (or the app) proves itself, and whether the files it
//! names hold what they should. The certificate form has its own module, `certificate`.

use super::{Ctx, certificate, endpoints, ids};
use crate::reader::{At, INLINE_SECRET_KEYS, Table};
use crate::schema::{CredentialSpec, Fingerprint, ManagedIdentityId};
use crate::suggest;

const TYPES: [&str; 4] = [
    "certificate",
    "managed_identity",
    "workload_identity",
    "client_secret",
];
const CERTIFICATE_KEYS: &[&str] = &["key_file", "certificate_file", "algorithm"];
const MANAGED_IDENTITY_KEYS: &[&str] = &["client_id", "object_id", "resource_id", "endpoint"];
const WORKLOAD_IDENTITY_KEYS: &[&str] = &["token_file"];
const CLIENT_SECRET_KEYS: &[&str] = &["secret_file"];
const ALL_KEYS: [&str; 10] = [
    "type",
    "key_file",
    "certificate_file",
    "algorithm",
    "client_id",
    "object_id",
    "resource_id",
    "endpoint",
    "token_file",
    "secret_file",
];

/// The variable the Azure workload identity webhook sets in the gateway's pod.
pub(crate) const FEDERATED_TOKEN_FILE_ENV: &str = "AZURE_FEDERATED_TOKEN_FILE";

pub(super) fn read(t: &Table<'_, '_>, ctx: &mut Ctx<'_>) -> Option<CredentialSpec> {
    t.check_keys(&ALL_KEYS, &mut ctx.report);
    let ty = t.required_string(
        "type",
        "add type = \"certificate\" (or \"managed_identity\", \"workload_identity\", \"client_secret\")",
        &mut ctx.report,
    )?;
    let own_keys = match ty.value {
        "certificate" => CERTIFICATE_KEYS,
        "managed_identity" => MANAGED_IDENTITY_KEYS,
        "workload_identity" => WORKLOAD_IDENTITY_KEYS,
        "client_secret" => CLIENT_SECRET_KEYS,
        other => {
            let finding = ctx.report.error(
                ty.span(),
                "`type` must be \"certificate\", \"managed_identity\", \"workload_identity\" or \"client_secret\"",
            );
            if let Some(close) = suggest::closest(other, TYPES) {
                finding.hint(format!("did you mean \"{close}\"?"));
            }
            return None;
        }
    };
    for key in &ALL_KEYS[1..] {
        if !own_keys.contains(key)
            && let Some(span) = t.key_span(key)
        {
            ctx.report
                .error(
                    span,
                    format!("`{key}` does not apply to type = \"{}\"", ty.value),
                )
                .hint(format!(
                    "type = \"{}\" takes: {}",
                    ty.value,
                    own_keys.join(", ")
                ));
        }
    }
    match ty.value {
        "certificate" => certificate::read(t, ctx),
        "managed_identity" => managed_identity(t, ctx),
        "workload_identity" => workload_identity(t, ctx),
        _ => client_secret(t, ctx),
    }
}

fn managed_identity(t: &Table<'_, '_>, ctx: &mut Ctx<'_>) -> Option<CredentialSpec> {
    let present: Vec<&str> = ["client_id", "object_id", "resource_id"]
        .into_iter()
        .filter(|k| t.has(k))
        .collect();
    if present.len() > 1 {
        ctx.report
            .error(t.span(), format!("the managed identity is named by {}; name it by one", present.join(" and ")))
            .hint("a user-assigned identity is chosen by exactly one id; leave all out for the system-assigned identity");
        return None;
    }
    const GUID_HINT: &str = "the managed identity's client id or object (principal) id GUID";
    let identity = match present.first().copied() {
        None => Some(None),
        Some("resource_id") => {
            let at = t.string("resource_id", &mut ctx.report)?;
            if is_identity_resource_id(at.value) {
                Some(Some(ManagedIdentityId::ResourceId(at.value.to_owned())))
            } else {
                ctx.report
                    .error(at.span(), "`resource_id` is not a user-assigned identity's ARM resource id")
                    .hint("/subscriptions/SUB/resourceGroups/RG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/NAME");
                None
            }
        }
        Some(key) => {
            let at = t.string(key, &mut ctx.report)?;
            let id = ctx.id(key, at, ids::guid, GUID_HINT)?;
            Some(Some(if key == "client_id" {
                ManagedIdentityId::ClientId(id)
            } else {
                ManagedIdentityId::ObjectId(id)
            }))
        }
    };
    let endpoint = match t.string("endpoint", &mut ctx.report) {
        None => (!t.has("endpoint")).then_some(None),
        Some(at) => match endpoints::endpoint(at.value) {
            Ok(url) => Some(Some(url)),
            Err(err) => {
                ctx.report
                    .error(at.span(), format!("`endpoint` {err}"))
                    .hint("leave it out to use the gateway's environment (IDENTITY_ENDPOINT, else IMDS)");
                None
            }
        },
    };
    Some(CredentialSpec::ManagedIdentity {
        identity: identity?,
        endpoint: endpoint?,
    })
}

fn is_identity_resource_id(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.starts_with("/subscriptions/")
        && lower.contains("/providers/microsoft.managedidentity/userassignedidentities/")
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn workload_identity(t: &Table<'_, '_>, ctx: &mut Ctx<'_>) -> Option<CredentialSpec> {
    let from_env = (ctx.env)(FEDERATED_TOKEN_FILE_ENV).filter(|v| !v.trim().is_empty());
    let (key, at, path) = match t.string("token_file", &mut ctx.report) {
        Some(at) => ("token_file", at, ctx.path("token_file", at)?),
        None if t.has("token_file") => return None,
        None => {
            let Some(from_env) = from_env.as_deref() else {
                ctx.report
                    .error(t.span(), format!("type = \"workload_identity\" has no `token_file`, and {FEDERATED_TOKEN_FILE_ENV} is not set"))
                    .hint(format!("set token_file, or run the gateway where the workload identity webhook sets {FEDERATED_TOKEN_FILE_ENV}"));
                return None;
            };
            let path = ctx.paths.resolve(from_env);
            (FEDERATED_TOKEN_FILE_ENV, At::new(from_env, t.span()), path)
        }
    };
    if ctx.check_files {
        let token = ctx.read(key, at, &path)?;
        if token.trim_ascii().is_empty() {
            ctx.report
                .error(at.span(), format!("`{key}` {} is empty", path.display()))
                .hint("it should hold the projected service-account token");
            return None;
        }
    }
    Some(CredentialSpec::WorkloadIdentity { token_file: path })
}

fn client_secret(t: &Table<'_, '_>, ctx: &mut Ctx<'_>) -> Option<CredentialSpec> {
    if !t.has("secret_file") && INLINE_SECRET_KEYS.iter().any(|k| t.has(k)) {
        // Already reported as an inline secret, whose hint is secret_file.
        return None;
    }
    let at = t.required_string(
        "secret_file",
        "add secret_file = \"secrets/app.secret\" (a file holding only the secret)",
        &mut ctx.report,
    )?;
    let path = ctx.path("secret_file", at)?;
    let mut secret_sha256 = None;
    if ctx.check_files {
        let secret = ctx.read_secret(
            "secret_file",
            at,
            &path,
            "the client secret's value, nothing else",
        )?;
        secret_sha256 = Some(Fingerprint::of(secret.trim_ascii()));
    }
    Some(CredentialSpec::ClientSecret {
        secret_file: path,
        secret_sha256,
    })
}
