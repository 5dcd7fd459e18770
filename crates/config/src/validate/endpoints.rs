//! URLs the gateway sends credentials to: the authority host and managed-identity endpoints.

use url::{Host, Url};

/// Why a URL was refused; the message completes "`key` ...".
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum UrlError {
    #[error("is not an absolute http(s) URL")]
    NotUrl,
    #[error("must use https; plain http is accepted only on loopback (the emulator)")]
    NotHttps,
    #[error("must be the host only, without a path, query or fragment")]
    HasPath,
    #[error("must not carry a user name or password")]
    HasUserinfo,
}

/// An authority host: `https://host[:port]`, or `http://` on loopback, returned without a trailing
/// slash. Client assertions and secrets are sent there, so anything else would leak them.
pub(crate) fn authority_host(text: &str) -> Result<String, UrlError> {
    let url = http_url(text)?;
    if url.scheme() == "http" && !is_loopback(&url) {
        return Err(UrlError::NotHttps);
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(UrlError::HasPath);
    }
    Ok(url.origin().ascii_serialization())
}

/// A managed-identity endpoint override. IMDS and App Service endpoints are plain http on a
/// link-local or loopback address, so http is allowed.
pub(crate) fn endpoint(text: &str) -> Result<String, UrlError> {
    http_url(text).map(|url| url.to_string())
}

fn http_url(text: &str) -> Result<Url, UrlError> {
    let url = Url::parse(text).map_err(|_| UrlError::NotUrl)?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(UrlError::NotUrl);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlError::HasUserinfo);
    }
    Ok(url)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_hosts_are_normalised_without_a_trailing_slash() {
        assert_eq!(
            authority_host("https://login.microsoftonline.com/").unwrap(),
            "https://login.microsoftonline.com"
        );
        assert_eq!(
            authority_host("https://login.microsoftonline.us:8443").unwrap(),
            "https://login.microsoftonline.us:8443"
        );
    }

    #[test]
    fn plain_http_is_only_for_loopback() {
        assert!(authority_host("http://127.0.0.1:8080").is_ok());
        assert!(authority_host("http://localhost:8080").is_ok());
        assert!(authority_host("http://[::1]:8080").is_ok());
        assert_eq!(
            authority_host("http://login.microsoftonline.com"),
            Err(UrlError::NotHttps)
        );
    }

    #[test]
    fn a_tenant_in_the_host_is_refused() {
        assert_eq!(
            authority_host("https://login.microsoftonline.com/contoso.com"),
            Err(UrlError::HasPath)
        );
    }

    #[test]
    fn non_urls_are_refused() {
        for bad in [
            "login.microsoftonline.com",
            "ftp://x.com",
            "",
            "https://u:p@x.com",
        ] {
            assert!(authority_host(bad).is_err(), "{bad}");
        }
    }
}
