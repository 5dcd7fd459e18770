//! One local request, from the first check to the log line.
//!
//! Order matters: the `Host` allowlist and the browser checks run before the path is even looked
//! at, the path before the endpoint header, the endpoint header before parsing, and parsing before
//! the one gateway call. A request refused at any step causes no gateway call.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use agentmint_proto::TokenKind;
use bytes::Bytes;
use http::request::Parts;
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use tracing::{debug, info, warn};

use crate::claims;
use crate::failure::Failure;
use crate::gateway::{Gateway, Minted};
use crate::guard::{self, HostAllowlist};
use crate::memo::{Memo, MemoKey};
use crate::parse::{self, BadRequest};
use crate::random;
use crate::reply::{self, Body, Style};
use crate::route::{Route, route};

/// Largest accepted request body.
pub(crate) const MAX_BODY_BYTES: usize = 16 * 1024;

/// What every request handler shares.
pub(crate) struct App {
    pub gateway: Gateway,
    pub secret: String,
    pub providers: Vec<String>,
    /// The managed-identity endpoint's provider, token kind and `X-IDENTITY-HEADER` secret.
    pub managed_identity: Option<(String, TokenKind, String)>,
    pub hosts: HostAllowlist,
    pub timeout: Duration,
    /// Recent gateway answers, reused for a short while.
    pub memo: Memo,
    /// Set when the drain starts: `/readyz` answers 503 from then on.
    pub draining: AtomicBool,
}

impl App {
    /// Starts the drain: `/readyz` turns 503; token requests are still served.
    pub(crate) fn set_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }
}

/// What the log line of one request names.
#[derive(Default)]
struct Log {
    endpoint: &'static str,
    provider: Option<String>,
    kind: Option<&'static str>,
    cache_hit: Option<bool>,
    /// Answered from the resolver's own short-lived copy, without a gateway call.
    memo_hit: bool,
    /// Refused by the Host or browser checks: worth a WARN even though it is the caller's fault.
    suspicious: bool,
}

/// Answers one request. Never fails: every failure is an HTTP answer.
pub(crate) async fn handle<B>(app: &App, request: Request<B>) -> Response<Body>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let request_id = random::correlation_id();
    let deadline = Instant::now() + app.timeout;
    let mut log = Log {
        endpoint: "-",
        ..Log::default()
    };
    let (style, result) = process(app, request, deadline, &mut log).await;
    let provider = log.provider.as_deref().unwrap_or("-");
    let kind = log.kind.unwrap_or("-");
    match result {
        Ok(response) => {
            // One line per token served is for debugging: an agent may poll its URL many times a
            // second. Refusals below are always logged.
            debug!(
                endpoint = log.endpoint,
                provider,
                kind,
                status = 200,
                correlation_id = %request_id,
                cache_hit = log.cache_hit.unwrap_or(false),
                served_locally = log.memo_hit,
                "token served"
            );
            response
        }
        Err(failure) => {
            let correlation_id = failure.correlation_id().map_or(request_id, str::to_owned);
            let status = failure.status.as_u16();
            let error = failure.error;
            let description = &failure.description;
            if log.suspicious || failure.status.is_server_error() || failure.gateway.is_some() {
                warn!(
                    endpoint = log.endpoint,
                    provider,
                    kind,
                    status,
                    error,
                    reason = failure.reason().unwrap_or("-"),
                    hop = failure.hop().unwrap_or("-"),
                    aadsts = failure.aadsts().unwrap_or("-"),
                    %correlation_id,
                    "token request refused: {description}"
                );
            } else {
                info!(
                    endpoint = log.endpoint,
                    provider,
                    kind,
                    status,
                    error,
                    %correlation_id,
                    "token request refused: {description}"
                );
            }
            reply::error(&failure, &correlation_id, style)
        }
    }
}

async fn process<B>(
    app: &App,
    request: Request<B>,
    deadline: Instant,
    log: &mut Log,
) -> (Style, Result<Response<Body>, Failure>)
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (parts, body) = request.into_parts();
    if let Err(failure) = app
        .hosts
        .check(&parts.headers)
        .and_then(|()| guard::not_from_a_browser(&parts.method, &parts.headers))
    {
        log.suspicious = true;
        return (Style::Token, Err(failure));
    }
    if let Err(failure) = guard::within_bounds(&parts.uri, &parts.headers) {
        return (Style::Token, Err(failure));
    }
    let mi_on = app.managed_identity.is_some();
    match route(parts.uri.path(), &app.secret, &app.providers, mi_on) {
        Route::NotFound => (Style::Token, Err(Failure::not_found())),
        Route::Ready => {
            log.endpoint = "readyz";
            let ready = !app.draining.load(Ordering::Relaxed);
            (Style::Token, Ok(reply::readiness(ready)))
        }
        Route::Token { provider, kind } => {
            log.endpoint = "token";
            log.provider = Some(provider.to_owned());
            log.kind = Some(kind.label());
            let result = token(app, &parts, body, provider, kind, deadline, log).await;
            (Style::Token, result)
        }
        Route::ManagedIdentity => {
            log.endpoint = "managed_identity";
            (
                Style::ManagedIdentity,
                managed_identity(app, &parts, deadline, log).await,
            )
        }
    }
}

/// A token URL: `GET ?scope=` or `POST {"scopes":[...]}`.
async fn token<B>(
    app: &App,
    parts: &Parts,
    body: B,
    provider: &str,
    kind: TokenKind,
    deadline: Instant,
    log: &mut Log,
) -> Result<Response<Body>, Failure>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let is_post = match parts.method {
        Method::GET => false,
        Method::POST => true,
        _ => return Err(Failure::method_not_allowed("GET, POST")),
    };
    guard::metadata_header(&parts.headers)?;
    let scopes = if is_post {
        if parts.uri.query().is_some_and(|q| !q.is_empty()) {
            return Err(BadRequest::QueryOnPost.into());
        }
        parse::token_body(&read_body(body, &parts.headers, deadline).await?)?
    } else {
        parse::token_query(parts.uri.query())?
    };
    let minted = mint(app, provider, kind, scopes, deadline, log).await?;
    Ok(reply::token(&minted, unix_now()))
}

/// The App Service-style managed-identity endpoint.
async fn managed_identity(
    app: &App,
    parts: &Parts,
    deadline: Instant,
    log: &mut Log,
) -> Result<Response<Body>, Failure> {
    let Some((provider, kind, header)) = &app.managed_identity else {
        return Err(Failure::not_found());
    };
    log.provider = Some(provider.clone());
    log.kind = Some(kind.label());
    if parts.method != Method::GET {
        return Err(Failure::method_not_allowed("GET"));
    }
    guard::identity_header(&parts.headers, header)?;
    let request = parse::mi_query(parts.uri.query())?;
    let minted = mint(
        app,
        provider,
        *kind,
        vec![request.scope.clone()],
        deadline,
        log,
    )
    .await?;
    let identity = claims::identity(&minted.access_token);
    let mismatch = |asked: &Option<String>, served: &Option<String>| {
        asked
            .as_ref()
            .is_some_and(|asked| Some(asked) != served.as_ref())
    };
    if mismatch(&request.client_id, &identity.client_id)
        || mismatch(&request.object_id, &identity.object_id)
    {
        return Err(Failure::local(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "this endpoint serves one identity, and the requested client_id or object_id is not it; drop the selector (AZURE_CLIENT_ID)",
        ));
    }
    Ok(reply::managed_identity(
        &minted,
        &request.resource,
        identity.client_id.as_deref().unwrap_or(""),
    ))
}

/// The resolver's recent copy of the answer, or the one gateway call, within what is left of the
/// request's deadline.
async fn mint(
    app: &App,
    provider: &str,
    kind: TokenKind,
    scopes: Vec<String>,
    deadline: Instant,
    log: &mut Log,
) -> Result<Arc<Minted>, Failure> {
    let key = MemoKey::new(provider, kind, &scopes);
    // The copy's lifetime runs on the monotonic clock; the expiry check guards a wall clock that
    // jumped forward, since the answer's `expires_in` is computed from the wall clock.
    if let Some(minted) = app.memo.get(&key, Instant::now())
        && minted.expires_at_unix > unix_now()
    {
        log.cache_hit = Some(true);
        log.memo_hit = true;
        return Ok(minted);
    }
    let remaining = deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(1));
    let minted = app
        .gateway
        .mint(provider, kind, scopes, remaining)
        .await
        .map_err(|err| Failure::from_gateway(&err, app.timeout))?;
    if minted.expires_at_unix <= unix_now() {
        return Err(Failure::local(
            StatusCode::BAD_GATEWAY,
            "bad_gateway",
            "the gateway returned an already expired token",
        ));
    }
    log.cache_hit = Some(minted.cache_hit);
    let lifetime = u64::try_from(minted.expires_at_unix - unix_now()).unwrap_or(0);
    let minted = Arc::new(minted);
    app.memo.put(
        key,
        minted.clone(),
        Instant::now(),
        Duration::from_secs(lifetime),
    );
    Ok(minted)
}

/// Reads a bounded body before the deadline.
async fn read_body<B>(body: B, headers: &HeaderMap, deadline: Instant) -> Result<Bytes, Failure>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let declared = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > MAX_BODY_BYTES as u64) {
        return Err(BadRequest::BodyTooLarge.into());
    }
    match tokio::time::timeout_at(
        deadline.into(),
        Limited::new(body, MAX_BODY_BYTES).collect(),
    )
    .await
    {
        Err(_elapsed) => Err(Failure::local(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            "the request body did not arrive in time",
        )),
        Ok(Err(err)) if err.downcast_ref::<LengthLimitError>().is_some() => {
            Err(BadRequest::BodyTooLarge.into())
        }
        Ok(Err(_)) => Err(BadRequest::BodyUnreadable.into()),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
