//! `[gateway]` and `[gateway.cache]`.

use std::net::SocketAddr;

use std::path::PathBuf;

use super::{Ctx, certs, endpoints};
use crate::reader::Table;
use crate::schema::{
    CacheSettings, DEFAULT_ADMIN_LISTEN, DEFAULT_AUTHORITY_HOST, DEFAULT_DRAIN_GRACE_SECONDS,
    DEFAULT_LISTEN, GatewaySettings, TlsSettings,
};

const KEYS: [&str; 7] = [
    "listen",
    "admin_listen",
    "authority_host",
    "ca_file",
    "tls",
    "cache",
    "drain_grace_seconds",
];
const TLS_KEYS: [&str; 3] = ["cert_file", "key_file", "client_ca_file"];
const CACHE_KEYS: [&str; 3] = [
    "safety_margin_seconds",
    "max_entries",
    "idle_timeout_seconds",
];

/// A drain grace longer than this outlasts every orchestrator's default stop timeout: the process
/// would be killed while it still waits.
const MAX_DRAIN_GRACE_SECONDS: u64 = 300;

/// A safety margin of an hour or more would never serve a typical (one-hour) token.
const MAX_SAFETY_MARGIN_SECONDS: u64 = 3599;

/// The gateway settings, defaults filled in; `None` after reporting a mistake.
pub(super) fn settings(
    table: Option<&Table<'_, '_>>,
    ctx: &mut Ctx<'_>,
) -> Option<GatewaySettings> {
    let Some(t) = table else {
        return Some(GatewaySettings {
            listen: DEFAULT_LISTEN,
            admin_listen: DEFAULT_ADMIN_LISTEN,
            authority_host: DEFAULT_AUTHORITY_HOST.to_owned(),
            ca_file: None,
            tls: None,
            cache: CacheSettings::default(),
            drain_grace_seconds: DEFAULT_DRAIN_GRACE_SECONDS,
        });
    };
    t.check_keys(&KEYS, &mut ctx.report);
    let listen = address(t, "listen", DEFAULT_LISTEN, ctx);
    let admin_listen = address(t, "admin_listen", DEFAULT_ADMIN_LISTEN, ctx);
    if let (Some(a), Some(b)) = (listen, admin_listen)
        && a == b
        && a.port() != 0
    {
        let span = t
            .key_span("admin_listen")
            .or_else(|| t.key_span("listen"))
            .unwrap_or(t.span());
        ctx.report
            .error(span, format!("`listen` and `admin_listen` are both {a}"))
            .hint("give the admin port its own address, such as 127.0.0.1:7444");
    }
    let authority_host = authority_host(t, ctx);
    let ca_file = ca_file(t, ctx);
    let tls = tls(t, ctx);
    let cache = cache(t, ctx);
    let drain_grace_seconds = drain_grace(t, ctx);
    Some(GatewaySettings {
        listen: listen?,
        admin_listen: admin_listen?,
        authority_host: authority_host?,
        ca_file: ca_file?,
        tls: tls?,
        cache: cache?,
        drain_grace_seconds: drain_grace_seconds?,
    })
}

/// `drain_grace_seconds`: 0 (close at once) up to [`MAX_DRAIN_GRACE_SECONDS`].
fn drain_grace(t: &Table<'_, '_>, ctx: &mut Ctx<'_>) -> Option<u64> {
    if !t.has("drain_grace_seconds") {
        return Some(DEFAULT_DRAIN_GRACE_SECONDS);
    }
    let at = t.unsigned("drain_grace_seconds", &mut ctx.report)?;
    if at.value > MAX_DRAIN_GRACE_SECONDS {
        ctx.report
            .error(
                at.span(),
                format!(
                    "`drain_grace_seconds` must be at most {MAX_DRAIN_GRACE_SECONDS}, or the process is killed while it still waits"
                ),
            )
            .hint(format!(
                "a few seconds is enough for load balancers to notice; the default is {DEFAULT_DRAIN_GRACE_SECONDS}"
            ));
        return None;
    }
    Some(at.value)
}

fn address(
    t: &Table<'_, '_>,
    key: &str,
    default: SocketAddr,
    ctx: &mut Ctx<'_>,
) -> Option<SocketAddr> {
    if !t.has(key) {
        return Some(default);
    }
    let at = t.string(key, &mut ctx.report)?;
    match at.value.parse() {
        Ok(addr) => Some(addr),
        Err(_) => {
            ctx.report
                .error(at.span(), format!("`{key}` is not an IP address and port"))
                .hint(format!(
                    "write it like \"{default}\" (an IP, not a host name; port 0 picks a free one)"
                ));
            None
        }
    }
}

/// `authority_host` (shared with providers' overrides).
pub(super) fn authority_host(t: &Table<'_, '_>, ctx: &mut Ctx<'_>) -> Option<String> {
    if !t.has("authority_host") {
        return Some(DEFAULT_AUTHORITY_HOST.to_owned());
    }
    let at = t.string("authority_host", &mut ctx.report)?;
    match endpoints::authority_host(at.value) {
        Ok(host) => Some(host),
        Err(err) => {
            let hint = match err {
                endpoints::UrlError::HasPath => {
                    "the tenant goes in `tenant`; the host is just https://login.microsoftonline.com (or a sovereign cloud's host)"
                }
                _ => {
                    "for example https://login.microsoftonline.com, or http://127.0.0.1:PORT for the emulator"
                }
            };
            ctx.report
                .error(at.span(), format!("`authority_host` {err}"))
                .hint(hint);
            None
        }
    }
}

/// `[gateway.tls]`: `Some(None)` when absent; `None` after reporting a mistake.
fn tls(t: &Table<'_, '_>, ctx: &mut Ctx<'_>) -> Option<Option<TlsSettings>> {
    let Some(tls) = t.table("tls", &mut ctx.report) else {
        return (!t.has("tls")).then_some(None);
    };
    tls.check_keys(&TLS_KEYS, &mut ctx.report);
    let cert_file = tls
        .required_string(
            "cert_file",
            "add cert_file = \"tls/gateway.crt\" (the gRPC port's certificate chain, PEM, leaf first)",
            &mut ctx.report,
        )
        .and_then(|at| {
            let path = ctx.path("cert_file", at)?;
            (!ctx.check_files || certs::valid_chain(ctx, "cert_file", at, &path, CHAIN_HINT)).then_some(path)
        });
    let key_file = tls
        .required_string(
            "key_file",
            "add key_file = \"tls/gateway.key\" (the certificate's PEM private key)",
            &mut ctx.report,
        )
        .and_then(|at| {
            let path = ctx.path("key_file", at)?;
            (!ctx.check_files || private_key(ctx, at, &path)).then_some(path)
        });
    let client_ca_file = if tls.has("client_ca_file") {
        tls.string("client_ca_file", &mut ctx.report)
            .and_then(|at| {
                let path = ctx.path("client_ca_file", at)?;
                (!ctx.check_files
                    || certs::valid_chain(ctx, "client_ca_file", at, &path, CHAIN_HINT))
                .then_some(path)
            })
            .map(Some)
    } else {
        Some(None)
    };
    Some(Some(TlsSettings {
        cert_file: cert_file?,
        key_file: key_file?,
        client_ca_file: client_ca_file?,
    }))
}

const CHAIN_HINT: &str = "it should hold -----BEGIN CERTIFICATE----- blocks";

/// A PEM file with exactly one unencrypted private key (any algorithm rustls accepts).
fn private_key(ctx: &mut Ctx<'_>, at: crate::reader::At<&str>, path: &std::path::Path) -> bool {
    let Some(blocks) = certs::pem_blocks(ctx, "key_file", at, path) else {
        return false;
    };
    ctx.warn_if_world_readable("key_file", at, path);
    certs::private_key(ctx, "key_file", at, path, &blocks).is_some()
}

/// `Some(None)` when absent; `None` after reporting a mistake.
fn ca_file(t: &Table<'_, '_>, ctx: &mut Ctx<'_>) -> Option<Option<PathBuf>> {
    if !t.has("ca_file") {
        return Some(None);
    }
    let at = t.string("ca_file", &mut ctx.report)?;
    let path = ctx.path("ca_file", at)?;
    if ctx.check_files
        && !certs::valid_chain(
            ctx,
            "ca_file",
            at,
            &path,
            "a CA file holds one or more -----BEGIN CERTIFICATE----- blocks",
        )
    {
        return None;
    }
    Some(Some(path))
}

fn cache(t: &Table<'_, '_>, ctx: &mut Ctx<'_>) -> Option<CacheSettings> {
    let Some(c) = t.table("cache", &mut ctx.report) else {
        return (!t.has("cache")).then(CacheSettings::default);
    };
    c.check_keys(&CACHE_KEYS, &mut ctx.report);
    let errors = ctx.report.error_count();
    let safety_margin = c.unsigned("safety_margin_seconds", &mut ctx.report);
    if let Some(m) = safety_margin
        && m.value > MAX_SAFETY_MARGIN_SECONDS
    {
        ctx.report
            .error(
                m.span(),
                "`safety_margin_seconds` must be under an hour, or no token would ever be served",
            )
            .hint("the default, 300, is what Microsoft's libraries use");
    }
    let max_entries = c.unsigned("max_entries", &mut ctx.report);
    let idle_timeout = c.unsigned("idle_timeout_seconds", &mut ctx.report);
    for (key, value) in [
        ("max_entries", max_entries),
        ("idle_timeout_seconds", idle_timeout),
    ] {
        if let Some(v) = value
            && v.value == 0
        {
            ctx.report
                .error(v.span(), format!("`{key}` must be at least 1"))
                .hint("leave it out to keep the default");
        }
    }
    if ctx.report.error_count() > errors {
        return None;
    }
    Some(CacheSettings {
        safety_margin_seconds: safety_margin.map(|m| m.value),
        max_entries: max_entries.map(|m| usize::try_from(m.value).unwrap_or(usize::MAX)),
        idle_timeout_seconds: idle_timeout.map(|m| m.value),
    })
}
