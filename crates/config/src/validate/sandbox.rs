//! One `[[sandbox]]`: its name, how its bearer credential is recognised, and its providers.
//!
//! The gateway only ever holds the SHA-256 of a sandbox credential. A `credential_file` is read
//! once, hashed and dropped, so the credential itself never sits in the gateway's memory or config.

use sha2::{Digest, Sha256};

use super::{Ctx, ids};
use crate::reader::{At, Table, shorten};
use crate::schema::{Sandbox, SandboxCredentialSpec};

const KEYS: [&str; 5] = [
    "name",
    "credential_sha256",
    "credential_file",
    "service_account",
    "providers",
];
const NAME_HINT: &str = "a short name such as \"sbx-1\"; logs and metrics use it";
const HASH_HINT: &str =
    "the hex SHA-256 of the sandbox's bearer credential: printf %s \"$CREDENTIAL\" | sha256sum";

/// A sandbox as far as it could be read, with what the cross-record checks need.
pub(super) struct Checked<'a> {
    pub name: Option<At<&'a str>>,
    /// The provider names as written, valid or not.
    pub providers: Vec<At<&'a str>>,
    /// The credential's hash and where it was given.
    pub credential: Option<At<[u8; 32]>>,
    pub sandbox: Option<Sandbox>,
}

pub(super) fn read<'a>(t: &Table<'a, '_>, ctx: &mut Ctx<'_>) -> Checked<'a> {
    t.check_keys(&KEYS, &mut ctx.report);
    let name = t.required_string("name", NAME_HINT, &mut ctx.report);
    let valid_name = name.and_then(|at| ctx.id("name", at, ids::name, NAME_HINT));
    let credential = credential(t, ctx);
    let (providers, providers_ok) = providers(t, ctx);
    let hash = credential.as_ref().and_then(|(spec, span)| match spec {
        SandboxCredentialSpec::Sha256(hash) | SandboxCredentialSpec::File { sha256: hash, .. } => {
            Some(At::new(*hash, span.clone()))
        }
        SandboxCredentialSpec::Unread(_) | SandboxCredentialSpec::ServiceAccount(_) => None,
    });
    let sandbox = (|| {
        Some(Sandbox {
            name: name?.value.to_owned(),
            credential: credential?.0,
            providers: providers_ok
                .then(|| providers.iter().map(|p| p.value.to_owned()).collect())?,
        })
    })();
    Checked {
        name,
        providers,
        credential: hash,
        sandbox: valid_name.and(sandbox),
    }
}

/// The credential and the span of the key that gave it.
fn credential(
    t: &Table<'_, '_>,
    ctx: &mut Ctx<'_>,
) -> Option<(SandboxCredentialSpec, crate::spans::Span)> {
    let methods = ["credential_sha256", "credential_file", "service_account"]
        .into_iter()
        .filter(|key| t.has(key))
        .count();
    if t.has("service_account") {
        if methods > 1 {
            let span = t.key_span("service_account").unwrap_or(t.span());
            ctx.report
                .error(
                    span,
                    "the sandbox gives `service_account` and a bearer credential",
                )
                .hint("keep one identity method per sandbox");
            return None;
        }
        let table = t.table("service_account", &mut ctx.report)?;
        let span = t.key_span("service_account").unwrap_or(t.span());
        return super::service_account::read(&table, ctx)
            .map(|spec| (SandboxCredentialSpec::ServiceAccount(spec), span));
    }
    match (t.has("credential_sha256"), t.has("credential_file")) {
        (true, true) => {
            let span = t.key_span("credential_file").unwrap_or(t.span());
            ctx.report
                .error(
                    span,
                    "the sandbox gives both `credential_sha256` and `credential_file`",
                )
                .hint("keep one: the hash, or the file holding the credential");
            None
        }
        (false, false) => {
            t.missing(
                "credential_sha256",
                &format!("{HASH_HINT}; or credential_file = \"...\", a file holding the credential itself; or a [sandbox.service_account] table"),
                &mut ctx.report,
            );
            None
        }
        (true, false) => {
            let at = t.string("credential_sha256", &mut ctx.report)?;
            let hash = decode_sha256(at.value);
            if hash.is_none() {
                ctx.report
                    .error(
                        at.span(),
                        format!(
                            "`credential_sha256` must be 64 hex characters (a SHA-256), found {} characters",
                            at.value.chars().count()
                        ),
                    )
                    .hint(HASH_HINT);
            }
            Some((SandboxCredentialSpec::Sha256(hash?), at.span()))
        }
        (false, true) => {
            let at = t.string("credential_file", &mut ctx.report)?;
            let path = ctx.path("credential_file", at)?;
            if !ctx.check_files {
                return Some((SandboxCredentialSpec::Unread(path), at.span()));
            }
            let bytes = ctx.read_secret(
                "credential_file",
                at,
                &path,
                "the sandbox's bearer credential",
            )?;
            // An editor's trailing newline is not part of the credential.
            let sha256 = Sha256::digest(bytes.trim_ascii_end()).into();
            Some((SandboxCredentialSpec::File { path, sha256 }, at.span()))
        }
    }
}

fn decode_sha256(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}

/// The provider names as written, and whether the list is valid (non-empty, each name once).
fn providers<'a>(t: &Table<'a, '_>, ctx: &mut Ctx<'_>) -> (Vec<At<&'a str>>, bool) {
    let list = t.strings("providers", &mut ctx.report);
    let Some(list) = list else {
        if !t.has("providers") {
            t.missing(
                "providers",
                "add providers = [\"mail-agent\"], the providers this sandbox may mint from",
                &mut ctx.report,
            );
        }
        return (Vec::new(), false);
    };
    if list.value.is_empty() {
        ctx.report
            .error(
                list.span(),
                "the sandbox attaches no provider, so it can mint nothing",
            )
            .hint("name at least one [[provider]] here, or remove the sandbox");
        return (Vec::new(), false);
    }
    let mut ok = true;
    for (i, name) in list.value.iter().enumerate() {
        if list.value[..i]
            .iter()
            .any(|earlier| earlier.value == name.value)
        {
            ctx.report
                .error(
                    name.span(),
                    format!("provider `{}` is listed twice", shorten(name.value)),
                )
                .hint("remove the repeat");
            ok = false;
        }
    }
    (list.value, ok)
}
