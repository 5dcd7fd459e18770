//! Parsing what a caller sends: query strings, JSON bodies, scopes and resources.
//!
//! Everything here is a pure function of caller bytes, property-tested never to panic. A rejection
//! names what was wrong in our own words and never repeats the caller's value: a value that carries
//! a control character could otherwise forge log lines or response text.

use serde::Deserialize;

/// Longest accepted query string (bytes, still encoded).
pub(crate) const MAX_QUERY_LEN: usize = 4096;
/// Most scopes in one request.
pub(crate) const MAX_SCOPES: usize = 20;
/// Longest single scope, audience or resource.
pub(crate) const MAX_SCOPE_LEN: usize = 512;
/// The App Service managed-identity API version the Azure SDKs speak.
pub(crate) const MI_API_VERSION: &str = "2019-08-01";
const DEFAULT_SUFFIX: &str = "/.default";

/// Why a request was malformed. `Display` is the `error_description`; it never quotes input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum BadRequest {
    #[error("the query string is longer than 4096 bytes")]
    QueryTooLong,
    #[error("the query string has an invalid percent-encoding")]
    PercentEncoding,
    #[error("a request value is not valid UTF-8")]
    NotUtf8,
    #[error("a request value contains a control character (CR, LF, NUL or another)")]
    ControlCharacter,
    #[error("a scope, audience or resource contains a character other than visible ASCII")]
    ScopeCharacter,
    #[error("a scope, audience or resource is longer than 512 characters")]
    ScopeTooLong,
    #[error("more than 20 scopes were requested")]
    TooManyScopes,
    #[error("an audience is empty")]
    EmptyAudience,
    #[error("unknown query parameter; token URLs accept only `scope` and `audience`")]
    UnknownParameter,
    #[error("a query parameter that may appear once appears more than once")]
    RepeatedParameter,
    #[error("a POST request carries its scopes in a JSON body, not in the query string")]
    QueryOnPost,
    #[error("the request body is larger than 16 KiB")]
    BodyTooLarge,
    #[error("the request body could not be read")]
    BodyUnreadable,
    #[error("the body must be a JSON object {{\"scopes\":[...]}} (optionally with \"audience\")")]
    BodyNotJson,
    #[error("the `resource` parameter is required")]
    MissingResource,
    #[error("the `api-version` parameter is required")]
    MissingApiVersion,
    #[error("unsupported `api-version`; this endpoint speaks 2019-08-01")]
    UnsupportedApiVersion,
    #[error("`mi_res_id` is not supported; this endpoint serves one identity")]
    UnsupportedSelector,
}

/// Splits and decodes an `application/x-www-form-urlencoded` query. `+` is a space; every value
/// must decode to UTF-8 without control characters.
pub(crate) fn query_pairs(raw: &str) -> Result<Vec<(String, String)>, BadRequest> {
    if raw.len() > MAX_QUERY_LEN {
        return Err(BadRequest::QueryTooLong);
    }
    raw.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((form_decode(name)?, form_decode(value)?))
        })
        .collect()
}

/// Percent-decodes one form component strictly: a `%` must start two hex digits.
fn form_decode(raw: &str) -> Result<String, BadRequest> {
    let mut out = Vec::with_capacity(raw.len());
    let mut bytes = raw.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = bytes.next().and_then(hex_value);
                let lo = bytes.next().and_then(hex_value);
                match (hi, lo) {
                    (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
                    _ => return Err(BadRequest::PercentEncoding),
                }
            }
            other => out.push(other),
        }
    }
    let text = String::from_utf8(out).map_err(|_| BadRequest::NotUtf8)?;
    reject_controls(&text)?;
    Ok(text)
}

fn hex_value(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// Rejects any Unicode control character: CR, LF, NUL, TAB, DEL, C1 controls.
pub(crate) fn reject_controls(value: &str) -> Result<(), BadRequest> {
    if value.chars().any(char::is_control) {
        return Err(BadRequest::ControlCharacter);
    }
    Ok(())
}

/// One scope, audience or resource: 1..=512 visible ASCII characters (Entra scopes are URIs).
fn check_scope(value: &str) -> Result<(), BadRequest> {
    reject_controls(value)?;
    if value.len() > MAX_SCOPE_LEN {
        return Err(BadRequest::ScopeTooLong);
    }
    if !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(BadRequest::ScopeCharacter);
    }
    Ok(())
}

/// An audience or resource as an Entra scope: `X` becomes `X/.default` (one trailing `/` of `X`
/// dropped); a value that already ends in `/.default` is kept.
pub(crate) fn resource_scope(resource: &str) -> String {
    if resource.ends_with(DEFAULT_SUFFIX) {
        return resource.to_owned();
    }
    let base = resource.strip_suffix('/').unwrap_or(resource);
    format!("{base}{DEFAULT_SUFFIX}")
}

/// Builds the scope list from `scope` values (each space-separated) and `audience` values.
/// Empty means "the provider's defaults". Duplicates are dropped, order kept.
pub(crate) fn scopes_from(
    scope_values: &[String],
    audiences: &[String],
) -> Result<Vec<String>, BadRequest> {
    let mut scopes: Vec<String> = Vec::new();
    let mut push = |scope: String| {
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
        if scopes.len() > MAX_SCOPES {
            return Err(BadRequest::TooManyScopes);
        }
        Ok(())
    };
    for value in scope_values {
        reject_controls(value)?;
        for scope in value.split(' ').filter(|s| !s.is_empty()) {
            check_scope(scope)?;
            push(scope.to_owned())?;
        }
    }
    for audience in audiences {
        if audience.is_empty() {
            return Err(BadRequest::EmptyAudience);
        }
        check_scope(audience)?;
        push(resource_scope(audience))?;
    }
    Ok(scopes)
}

/// `GET` on a token URL: `?scope=a&scope=b`, `?scope=a%20b`, `?audience=X`.
pub(crate) fn token_query(raw: Option<&str>) -> Result<Vec<String>, BadRequest> {
    let (mut scopes, mut audiences) = (Vec::new(), Vec::new());
    for (name, value) in query_pairs(raw.unwrap_or(""))? {
        match name.as_str() {
            "scope" => scopes.push(value),
            "audience" => audiences.push(value),
            _ => return Err(BadRequest::UnknownParameter),
        }
    }
    scopes_from(&scopes, &audiences)
}

/// The JSON body of a `POST` to a token URL.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenBody {
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    audience: Option<String>,
}

/// `POST` on a token URL: `{"scopes":[...]}` and/or `{"audience":"X"}`; an empty body means none.
pub(crate) fn token_body(body: &[u8]) -> Result<Vec<String>, BadRequest> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    let parsed: TokenBody = serde_json::from_slice(body).map_err(|_| BadRequest::BodyNotJson)?;
    // A scope inside the array is one scope: spaces are not separators there.
    for scope in &parsed.scopes {
        if scope.contains(' ') {
            reject_controls(scope)?;
            return Err(BadRequest::ScopeCharacter);
        }
    }
    scopes_from(&parsed.scopes, parsed.audience.as_slice())
}

/// A managed-identity request (App Service 2019-08-01).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MiRequest {
    /// As sent: echoed back in the response, where the SDKs use it as their cache key.
    pub resource: String,
    /// The Entra scope minted for it.
    pub scope: String,
    /// A user-assigned identity selector; must match the served identity if given.
    pub client_id: Option<String>,
    pub object_id: Option<String>,
}

/// Parses `?api-version=2019-08-01&resource=R[&client_id=|&object_id=|&principal_id=]`. Other
/// parameters (MSAL's `token_sha256_to_refresh`, `xms_cc`) are checked for control characters and
/// otherwise ignored, so newer SDKs keep working.
pub(crate) fn mi_query(raw: Option<&str>) -> Result<MiRequest, BadRequest> {
    let (mut api_version, mut resource, mut client_id, mut object_id) = (None, None, None, None);
    for (name, value) in query_pairs(raw.unwrap_or(""))? {
        let slot = match name.as_str() {
            "api-version" => &mut api_version,
            "resource" => &mut resource,
            "client_id" => &mut client_id,
            "object_id" | "principal_id" => &mut object_id,
            "mi_res_id" => return Err(BadRequest::UnsupportedSelector),
            _ => continue,
        };
        if slot.replace(value).is_some() {
            return Err(BadRequest::RepeatedParameter);
        }
    }
    match api_version.as_deref() {
        None => return Err(BadRequest::MissingApiVersion),
        Some(MI_API_VERSION) => {}
        Some(_) => return Err(BadRequest::UnsupportedApiVersion),
    }
    let resource = resource
        .filter(|r| !r.is_empty())
        .ok_or(BadRequest::MissingResource)?;
    check_scope(&resource)?;
    for selector in [&client_id, &object_id].into_iter().flatten() {
        check_scope(selector)?;
    }
    Ok(MiRequest {
        scope: resource_scope(&resource),
        resource,
        client_id: client_id.filter(|c| !c.is_empty()),
        object_id: object_id.filter(|o| !o.is_empty()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn q(raw: &str) -> Result<Vec<String>, BadRequest> {
        token_query(Some(raw))
    }

    #[test]
    fn repeated_and_space_separated_scopes_are_one_list() {
        assert_eq!(q("scope=a&scope=b").unwrap(), ["a", "b"]);
        assert_eq!(q("scope=a%20b").unwrap(), ["a", "b"]);
        assert_eq!(q("scope=a+b+a").unwrap(), ["a", "b"]);
        assert_eq!(q("").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn audience_becomes_a_default_scope() {
        assert_eq!(q("audience=api://x").unwrap(), ["api://x/.default"]);
        assert_eq!(
            q("audience=https://graph.microsoft.com/").unwrap(),
            ["https://graph.microsoft.com/.default"]
        );
        assert_eq!(
            q("audience=api://x/.default").unwrap(),
            ["api://x/.default"]
        );
        assert_eq!(q("audience="), Err(BadRequest::EmptyAudience));
    }

    #[test]
    fn control_characters_are_rejected_however_encoded() {
        for raw in [
            "scope=a%0Db",
            "scope=a%0A",
            "scope=%00",
            "scope=a%09b",
            "scope=%7F",
            "scope=%C2%85",
        ] {
            assert_eq!(q(raw), Err(BadRequest::ControlCharacter), "{raw}");
        }
        assert_eq!(
            token_body(br#"{"scopes":["a\r\nb"]}"#),
            Err(BadRequest::ControlCharacter)
        );
    }

    #[test]
    fn malformed_queries_are_rejected() {
        assert_eq!(q("scope=%zz"), Err(BadRequest::PercentEncoding));
        assert_eq!(q("scope=%"), Err(BadRequest::PercentEncoding));
        assert_eq!(q("scope=%ff"), Err(BadRequest::NotUtf8));
        assert_eq!(q("scopes=a"), Err(BadRequest::UnknownParameter));
        assert_eq!(
            q(&"a".repeat(MAX_QUERY_LEN + 1)),
            Err(BadRequest::QueryTooLong)
        );
        assert_eq!(q("scope=caf%C3%A9"), Err(BadRequest::ScopeCharacter));
    }

    #[test]
    fn json_bodies_carry_scopes_and_audience() {
        assert_eq!(token_body(br#"{"scopes":["a","b"]}"#).unwrap(), ["a", "b"]);
        assert_eq!(
            token_body(br#"{"audience":"api://x"}"#).unwrap(),
            ["api://x/.default"]
        );
        assert_eq!(token_body(b"  ").unwrap(), Vec::<String>::new());
        assert_eq!(
            token_body(br#"{"scope":"a"}"#),
            Err(BadRequest::BodyNotJson)
        );
        assert_eq!(token_body(br#"["a"]"#), Err(BadRequest::BodyNotJson));
        assert_eq!(
            token_body(br#"{"scopes":["a b"]}"#),
            Err(BadRequest::ScopeCharacter)
        );
    }

    #[test]
    fn managed_identity_queries_map_resource_to_scope() {
        let r = mi_query(Some(
            "api-version=2019-08-01&resource=https://graph.microsoft.com",
        ))
        .unwrap();
        assert_eq!(r.scope, "https://graph.microsoft.com/.default");
        assert_eq!(r.resource, "https://graph.microsoft.com");
        let r = mi_query(Some(
            "resource=api://AzureADTokenExchange/&api-version=2019-08-01&client_id=c&xms_cc=cp1",
        ))
        .unwrap();
        assert_eq!(r.scope, "api://AzureADTokenExchange/.default");
        assert_eq!(r.client_id.as_deref(), Some("c"));
    }

    #[test]
    fn managed_identity_queries_need_version_and_resource() {
        for (query, refused) in [
            ("resource=r", BadRequest::MissingApiVersion),
            (
                "api-version=2018-02-01&resource=r",
                BadRequest::UnsupportedApiVersion,
            ),
            ("api-version=2019-08-01", BadRequest::MissingResource),
            (
                "api-version=2019-08-01&resource=a&resource=b",
                BadRequest::RepeatedParameter,
            ),
            (
                "api-version=2019-08-01&resource=a&mi_res_id=x",
                BadRequest::UnsupportedSelector,
            ),
            (
                "api-version=2019-08-01&resource=a&xms_cc=%0A",
                BadRequest::ControlCharacter,
            ),
        ] {
            assert_eq!(mi_query(Some(query)), Err(refused), "{query}");
        }
    }

    proptest! {
        #[test]
        fn query_parsers_never_panic(raw in ".{0,600}") {
            let _ = token_query(Some(&raw));
            let _ = mi_query(Some(&raw));
        }

        #[test]
        fn query_parsers_never_panic_on_encoded_soup(raw in "[a-z=&%+0-9A-Fa-f_.:/-]{0,300}") {
            let _ = token_query(Some(&raw));
            let _ = mi_query(Some(&raw));
        }

        #[test]
        fn body_parser_never_panics(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = token_body(&body);
        }

        #[test]
        fn accepted_scopes_are_always_visible_ascii(raw in ".{0,300}") {
            if let Ok(scopes) = token_query(Some(&raw)) {
                prop_assert!(scopes.len() <= MAX_SCOPES);
                for s in scopes {
                    prop_assert!(!s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic()));
                }
            }
        }
    }
}
