//! The checks every request passes before it may cause a gateway call, in the order they run:
//!
//! 1. `Host` is in the allowlist (DNS rebinding: a web page that rebinds its own name to 127.0.0.1
//!    still sends its own name as `Host`) → else 403, before anything else is looked at.
//! 2. Nothing browser-shaped: no CORS preflight, no `Origin`, no `Sec-Fetch-*` → else 403. No
//!    response ever carries `Access-Control-Allow-*`, so a browser never shows a page the answer.
//! 3. Bounded request target and headers → else 400.
//! 4. The endpoint's own header: `Metadata: true` on token URLs (a header a browser cannot add
//!    without a preflight, as on Azure IMDS), `X-IDENTITY-HEADER` on the managed-identity endpoint.

use std::net::SocketAddr;

use http::{HeaderMap, Method, StatusCode, Uri};

use crate::failure::Failure;
use crate::secret::secret_eq;

/// Longest request target (path and query).
pub(crate) const MAX_TARGET_LEN: usize = 4096 + 1024;
/// Most header fields in one request.
pub(crate) const MAX_HEADERS: usize = 64;
/// Most bytes of header names and values in one request.
pub(crate) const MAX_HEADER_BYTES: usize = 8 * 1024;

/// The `Host` values this resolver answers to.
#[derive(Debug, Clone)]
pub(crate) struct HostAllowlist(Vec<String>);

impl HostAllowlist {
    /// Loopback names and the bound address at the bound port, plus the configured extras.
    pub(crate) fn new(bound: SocketAddr, extras: &[String]) -> Self {
        let port = bound.port();
        let mut hosts = vec![
            format!("127.0.0.1:{port}"),
            format!("localhost:{port}"),
            format!("[::1]:{port}"),
            bound.to_string(),
        ];
        if port == 80 {
            hosts.extend([
                "127.0.0.1".to_owned(),
                "localhost".to_owned(),
                "[::1]".to_owned(),
            ]);
            hosts.push(match bound {
                SocketAddr::V4(v4) => v4.ip().to_string(),
                SocketAddr::V6(v6) => format!("[{}]", v6.ip()),
            });
        }
        hosts.extend(extras.iter().map(|h| h.to_ascii_lowercase()));
        hosts.sort();
        hosts.dedup();
        Self(hosts)
    }

    pub(crate) fn check(&self, headers: &HeaderMap) -> Result<(), Failure> {
        let mut values = headers.get_all(http::header::HOST).iter();
        let (Some(host), None) = (values.next(), values.next()) else {
            return Err(Failure::forbidden("exactly one Host header is required"));
        };
        let allowed = host
            .to_str()
            .map(|h| self.0.iter().any(|a| a.eq_ignore_ascii_case(h)))
            .unwrap_or(false);
        if allowed {
            Ok(())
        } else {
            Err(Failure::forbidden("this Host is not served here"))
        }
    }
}

/// Refuses anything a browser would send on a page's behalf.
pub(crate) fn not_from_a_browser(method: &Method, headers: &HeaderMap) -> Result<(), Failure> {
    if method == Method::OPTIONS {
        return Err(Failure::forbidden(
            "cross-origin (CORS) requests are refused",
        ));
    }
    if headers.contains_key(http::header::ORIGIN) {
        return Err(Failure::forbidden(
            "requests carrying an Origin header are refused",
        ));
    }
    if headers
        .keys()
        .any(|name| name.as_str().starts_with("sec-fetch-"))
    {
        return Err(Failure::forbidden(
            "requests from a web browser are refused",
        ));
    }
    Ok(())
}

/// Bounds the request target and headers; refuses proxy-style (absolute-form) targets.
pub(crate) fn within_bounds(uri: &Uri, headers: &HeaderMap) -> Result<(), Failure> {
    if uri.scheme().is_some() || uri.authority().is_some() {
        return bad_request("proxy-style (absolute-form) requests are not served");
    }
    if uri.path_and_query().map_or(0, |pq| pq.as_str().len()) > MAX_TARGET_LEN {
        return bad_request("the request target is longer than 5 KiB");
    }
    if headers.len() > MAX_HEADERS {
        return bad_request("the request has more than 64 header fields");
    }
    let bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if bytes > MAX_HEADER_BYTES {
        return bad_request("the request headers exceed 8 KiB");
    }
    Ok(())
}

/// A request refused as malformed (400 `invalid_request`), for `why`.
fn bad_request(why: &'static str) -> Result<(), Failure> {
    Err(Failure::local(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        why,
    ))
}

/// Token URLs require exactly one `Metadata: true`.
pub(crate) fn metadata_header(headers: &HeaderMap) -> Result<(), Failure> {
    let mut values = headers.get_all("metadata").iter();
    match (values.next(), values.next()) {
        (None, _) => bad_request("the header `Metadata: true` is required"),
        (Some(_), Some(_)) => bad_request("the header `Metadata: true` must appear exactly once"),
        (Some(value), None) if value.as_bytes().eq_ignore_ascii_case(b"true") => Ok(()),
        (Some(_), None) => bad_request("the header `Metadata` must be `true`"),
    }
}

/// The managed-identity endpoint requires exactly one `X-IDENTITY-HEADER` equal to the secret
/// given to the agent as `IDENTITY_HEADER`, compared in constant time.
pub(crate) fn identity_header(headers: &HeaderMap, expected: &str) -> Result<(), Failure> {
    let mut values = headers.get_all("x-identity-header").iter();
    match (values.next(), values.next()) {
        (None, _) => bad_request("the header X-IDENTITY-HEADER is required"),
        (Some(_), Some(_)) => bad_request("the header X-IDENTITY-HEADER must appear exactly once"),
        (Some(value), None) if value.is_empty() => {
            bad_request("the header X-IDENTITY-HEADER is empty")
        }
        (Some(value), None) if secret_eq(value.as_bytes(), expected.as_bytes()) => Ok(()),
        (Some(_), None) => Err(Failure::local(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "X-IDENTITY-HEADER does not match IDENTITY_HEADER",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn loopback_names_and_extras_are_allowed_at_the_bound_port() {
        let list = HostAllowlist::new(
            "127.0.0.1:4000".parse().unwrap(),
            &["Sandbox.Local:4000".into()],
        );
        for ok in [
            "127.0.0.1:4000",
            "localhost:4000",
            "LOCALHOST:4000",
            "[::1]:4000",
            "sandbox.local:4000",
        ] {
            assert!(list.check(&headers(&[("host", ok)])).is_ok(), "{ok}");
        }
        for bad in [
            "127.0.0.1:4001",
            "localhost",
            "evil.example:4000",
            "127.0.0.1.nip.io:4000",
            "",
        ] {
            assert_eq!(
                list.check(&headers(&[("host", bad)])).unwrap_err().status,
                403,
                "{bad}"
            );
        }
        assert!(list.check(&HeaderMap::new()).is_err());
        assert!(
            list.check(&headers(&[
                ("host", "localhost:4000"),
                ("host", "localhost:4000")
            ]))
            .is_err()
        );
    }

    #[test]
    fn port_80_also_allows_the_bare_names() {
        let list = HostAllowlist::new("127.0.0.1:80".parse().unwrap(), &[]);
        assert!(list.check(&headers(&[("host", "localhost")])).is_ok());
    }

    #[test]
    fn metadata_must_be_true_exactly_once() {
        assert!(metadata_header(&headers(&[("metadata", "true")])).is_ok());
        assert!(metadata_header(&headers(&[("metadata", "True")])).is_ok());
        for bad in [
            headers(&[]),
            headers(&[("metadata", "")]),
            headers(&[("metadata", "false")]),
            headers(&[("metadata", "true"), ("metadata", "true")]),
        ] {
            assert_eq!(metadata_header(&bad).unwrap_err().status, 400);
        }
    }

    #[test]
    fn identity_header_must_match() {
        assert!(identity_header(&headers(&[("x-identity-header", "s3cret")]), "s3cret").is_ok());
        assert_eq!(
            identity_header(&headers(&[("x-identity-header", "nope")]), "s3cret")
                .unwrap_err()
                .status,
            401
        );
        assert_eq!(
            identity_header(&headers(&[]), "s3cret").unwrap_err().status,
            400
        );
    }

    #[test]
    fn browsers_are_refused() {
        assert!(not_from_a_browser(&Method::OPTIONS, &HeaderMap::new()).is_err());
        assert!(not_from_a_browser(&Method::GET, &headers(&[("origin", "null")])).is_err());
        assert!(
            not_from_a_browser(&Method::GET, &headers(&[("sec-fetch-site", "cross-site")]))
                .is_err()
        );
        assert!(not_from_a_browser(&Method::GET, &headers(&[("user-agent", "python")])).is_ok());
    }
}
