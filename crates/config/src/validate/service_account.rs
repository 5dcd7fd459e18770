//! `[sandbox.service_account]`: a sandbox identified by a Kubernetes projected service-account
//! token instead of a bearer secret (issue 12).
//!
//! Checked here so a mistake is a file:line finding at `config check`, not a refused sandbox at
//! run time: the issuer is an https URL, the JWKS file parses and holds at least one RS256 or ES256
//! public key, the namespace and service account are non-empty. `jwks_url` is recognised but not yet
//! supported: the gateway only reads keys from a file (refreshed at every reload).

use super::Ctx;
use crate::reader::{At, Table};
use crate::schema::ServiceAccountSpec;

const KEYS: [&str; 7] = [
    "issuer",
    "jwks_file",
    "jwks_url",
    "audience",
    "namespace",
    "service_account",
    "max_lifetime_seconds",
];

/// The longest token lifetime accepted when `max_lifetime_seconds` is not given: 48 hours, the
/// kubelet's default upper bound for a projected token.
pub const DEFAULT_MAX_LIFETIME_SECONDS: u64 = 48 * 3600;

pub(super) fn read(t: &Table<'_, '_>, ctx: &mut Ctx<'_>) -> Option<ServiceAccountSpec> {
    t.check_keys(&KEYS, &mut ctx.report);
    let issuer = t.required_string(
        "issuer",
        "the `iss` of the cluster's tokens, e.g. \"https://kubernetes.default.svc.cluster.local\"",
        &mut ctx.report,
    );
    let issuer = issuer.and_then(|at| check_issuer(at, ctx));
    if let Some(span) = t.key_span("jwks_url") {
        ctx.report
            .error(span, "`jwks_url` is not supported yet")
            .hint("fetch the issuer's keys (kubectl get --raw /openid/v1/jwks) into a file and name it with jwks_file");
    }
    let jwks = if t.has("jwks_file") {
        t.string("jwks_file", &mut ctx.report)
            .and_then(|at| jwks_file(at, ctx))
    } else {
        if !t.has("jwks_url") {
            t.missing(
                "jwks_file",
                "a file holding the issuer's JWKS: kubectl get --raw /openid/v1/jwks > cluster-jwks.json",
                &mut ctx.report,
            );
        }
        None
    };
    let audience = non_empty(
        t,
        "audience",
        "the audience of the projected token, e.g. \"agentmint\"",
        ctx,
    );
    let namespace = non_empty(t, "namespace", "the agent pod's namespace", ctx);
    let service_account = non_empty(
        t,
        "service_account",
        "the agent pod's service account name",
        ctx,
    );
    let max_lifetime_seconds = match t.unsigned("max_lifetime_seconds", &mut ctx.report) {
        Some(at) if at.value == 0 => {
            ctx.report
                .error(at.span(), "`max_lifetime_seconds` must be positive")
                .hint("the kubelet's tokens live 1 h by default; 86400 allows a day");
            None
        }
        Some(at) => Some(at.value),
        None if t.has("max_lifetime_seconds") => None,
        None => Some(DEFAULT_MAX_LIFETIME_SECONDS),
    };
    let (jwks_file, jwks) = jwks?;
    Some(ServiceAccountSpec {
        issuer: issuer?,
        jwks_file,
        jwks,
        audience: audience?,
        namespace: namespace?,
        service_account: service_account?,
        max_lifetime_seconds: max_lifetime_seconds?,
    })
}

fn non_empty(t: &Table<'_, '_>, key: &str, hint: &str, ctx: &mut Ctx<'_>) -> Option<String> {
    let at = t.required_string(key, hint, &mut ctx.report)?;
    if at.value.trim().is_empty() {
        ctx.report
            .error(at.span(), format!("`{key}` is empty"))
            .hint(hint.to_owned());
        return None;
    }
    Some(at.value.to_owned())
}

fn check_issuer(at: At<&str>, ctx: &mut Ctx<'_>) -> Option<String> {
    match url::Url::parse(at.value) {
        Ok(url) if url.scheme() == "https" && url.host().is_some() => Some(at.value.to_owned()),
        _ => {
            ctx.report
                .error(at.span(), "`issuer` must be an https URL")
                .hint("the cluster's service-account issuer, as in its tokens' `iss`: kubectl get --raw /.well-known/openid-configuration");
            None
        }
    }
}

/// The path and, when files are checked, the JWKS text (after checking it holds a usable key).
fn jwks_file(at: At<&str>, ctx: &mut Ctx<'_>) -> Option<(std::path::PathBuf, Option<String>)> {
    let path = ctx.path("jwks_file", at)?;
    if !ctx.check_files {
        return Some((path, None));
    }
    let bytes = ctx.read("jwks_file", at, &path)?;
    match usable_keys(&bytes) {
        Ok(0) => {
            ctx.report
                .error(
                    at.span(),
                    format!("`jwks_file` {} holds no RS256 or ES256 key", path.display()),
                )
                .hint("only RSA keys and EC P-256 keys with a `kid` are used");
            None
        }
        Ok(_) => Some((path, Some(String::from_utf8(bytes).ok()?))),
        Err(why) => {
            ctx.report
                .error(
                    at.span(),
                    format!("`jwks_file` {} is not a JWKS: {why}", path.display()),
                )
                .hint(
                    "it should hold {\"keys\": [...]}, as served at the issuer's /openid/v1/jwks",
                );
            None
        }
    }
}

/// How many keys of the set the gateway can verify with: RSA (`n`, `e`) or EC P-256 (`x`, `y`),
/// each with a `kid`.
pub(crate) fn usable_keys(bytes: &[u8]) -> Result<usize, &'static str> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|_| "not valid JSON")?;
    let keys = value
        .get("keys")
        .and_then(|k| k.as_array())
        .ok_or("no `keys` array")?;
    let str_of = |key: &serde_json::Value, field: &str| {
        key.get(field).and_then(|v| v.as_str()).map(str::to_owned)
    };
    Ok(keys
        .iter()
        .filter(|key| {
            str_of(key, "kid").is_some()
                && match str_of(key, "kty").as_deref() {
                    Some("RSA") => {
                        str_of(key, "n").is_some()
                            && str_of(key, "e").is_some()
                            && matches!(str_of(key, "alg").as_deref(), None | Some("RS256"))
                    }
                    Some("EC") => {
                        str_of(key, "crv").as_deref() == Some("P-256")
                            && str_of(key, "x").is_some()
                            && str_of(key, "y").is_some()
                            && matches!(str_of(key, "alg").as_deref(), None | Some("ES256"))
                    }
                    _ => false,
                }
        })
        .count())
}
