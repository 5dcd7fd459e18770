//! Sandbox identity from a Kubernetes projected service-account token (issue 12), so a pod on a
//! cluster proves who it is with what the kubelet gives it instead of a long-lived bearer secret.
//!
//! A presented JWT is checked in an order that never lets an attacker choose how a key is used:
//! its header's algorithm must be RS256 or ES256 (`none` and HMAC are refused before any key is
//! touched); the unverified `iss` + `kubernetes.io` namespace and service account pick the sandbox
//! in one map lookup (O(1) in the number of sandboxes); the header's `kid` picks a key from that
//! issuer's set (keys are kept per issuer, shared by its sandboxes); then the signature, `iss`,
//! `aud`, `exp`/`nbf` (with [`SKEW_SECONDS`] of leeway), `iat` and the lifetime are verified.
//! Every refusal logs, at WARN, the identity the token claimed and why, never the token.
//!
//! Keys come from the sandbox's `jwks_file`, read with the config at load and at every reload (the
//! file watcher sees the file through `Config::files`), so a rotated key is picked up by a reload.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use serde::Deserialize;
use tracing::warn;

use agentmint_config as config;

/// The clock skew tolerated on `exp`, `nbf` and `iat`.
pub const SKEW_SECONDS: u64 = 60;

/// Why a service-account token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the token's header or claims cannot be read")]
    Malformed,
    #[error("the token's algorithm is not RS256 or ES256")]
    Algorithm,
    #[error("no sandbox is configured for the token's issuer, namespace and service account")]
    UnknownIdentity,
    #[error("the token's key id is not in the issuer's key set")]
    UnknownKey,
    #[error("the token's signature does not verify")]
    Signature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token's audience is not the configured one")]
    Audience,
    #[error("the token's issuer is not the configured one")]
    Issuer,
    #[error("the token lives longer than the sandbox's max_lifetime_seconds")]
    Lifetime,
}

/// What the sandbox's `[sandbox.service_account]` requires of a token.
#[derive(Debug, Clone)]
struct Rule {
    sandbox: usize,
    audience: String,
    max_lifetime_seconds: u64,
}

/// One issuer's keys, by `kid`. `DecodingKey` holds public keys only.
#[derive(Default)]
struct IssuerKeys {
    keys: HashMap<String, (Algorithm, DecodingKey)>,
}

impl std::fmt::Debug for IssuerKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuerKeys")
            .field("kids", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Every service-account sandbox of one config generation.
#[derive(Debug, Default)]
pub struct Verifier {
    issuers: HashMap<String, IssuerKeys>,
    /// (issuer, namespace, service account) → what a token for it must satisfy.
    rules: HashMap<(String, String, String), Rule>,
}

impl Verifier {
    /// Adds a sandbox (at index `sandbox`). Keys of an issuer already seen are merged by `kid`.
    pub fn add(&mut self, sandbox: usize, spec: &config::ServiceAccountSpec) {
        let issuer = self.issuers.entry(spec.issuer.clone()).or_default();
        if let Some(set) = spec
            .jwks
            .as_deref()
            .and_then(|text| serde_json::from_str::<JwkSet>(text).ok())
        {
            for jwk in &set.keys {
                let Some(kid) = jwk.common.key_id.clone() else {
                    continue;
                };
                let alg = match &jwk.algorithm {
                    jsonwebtoken::jwk::AlgorithmParameters::RSA(_) => Algorithm::RS256,
                    jsonwebtoken::jwk::AlgorithmParameters::EllipticCurve(ec)
                        if ec.curve == jsonwebtoken::jwk::EllipticCurve::P256 =>
                    {
                        Algorithm::ES256
                    }
                    _ => continue,
                };
                if let Ok(key) = DecodingKey::from_jwk(jwk) {
                    issuer.keys.entry(kid).or_insert((alg, key));
                }
            }
        }
        self.rules
            .entry((
                spec.issuer.clone(),
                spec.namespace.clone(),
                spec.service_account.clone(),
            ))
            .or_insert(Rule {
                sandbox,
                audience: spec.audience.clone(),
                max_lifetime_seconds: spec.max_lifetime_seconds,
            });
    }

    /// Whether any sandbox is identified by a service-account token.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The index of the sandbox `token` identifies, or why it was refused (logged at WARN with the
    /// identity the token claimed).
    pub fn identify(&self, token: &str) -> Result<usize, Refused> {
        let claimed = Claimed::read(token);
        self.check(token, claimed.as_ref()).inspect_err(|reason| {
            let (issuer, namespace, service_account) = match &claimed {
                Some(c) => (
                    printable(&c.iss),
                    printable(&c.namespace),
                    printable(&c.service_account),
                ),
                None => Default::default(),
            };
            warn!(
                issuer,
                namespace,
                service_account,
                reason = %reason,
                "service-account token refused"
            );
        })
    }

    fn check(&self, token: &str, claimed: Option<&Claimed>) -> Result<usize, Refused> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| Refused::Algorithm)?;
        if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
            return Err(Refused::Algorithm);
        }
        let claimed = claimed.ok_or(Refused::Malformed)?;
        let rule = self
            .rules
            .get(&(
                claimed.iss.clone(),
                claimed.namespace.clone(),
                claimed.service_account.clone(),
            ))
            .ok_or(Refused::UnknownIdentity)?;
        let (alg, key) = header
            .kid
            .as_deref()
            .and_then(|kid| self.issuers.get(&claimed.iss)?.keys.get(kid))
            .ok_or(Refused::UnknownKey)?;
        if *alg != header.alg {
            return Err(Refused::Algorithm);
        }
        let mut validation = Validation::new(*alg);
        validation.leeway = SKEW_SECONDS;
        validation.validate_nbf = true;
        validation.set_issuer(&[claimed.iss.as_str()]);
        validation.set_audience(&[rule.audience.as_str()]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        let data = jsonwebtoken::decode::<Verified>(token, key, &validation).map_err(|err| {
            match err.kind() {
                ErrorKind::ExpiredSignature => Refused::Expired,
                ErrorKind::ImmatureSignature => Refused::NotYetValid,
                ErrorKind::InvalidAudience => Refused::Audience,
                ErrorKind::InvalidIssuer => Refused::Issuer,
                ErrorKind::InvalidSignature => Refused::Signature,
                ErrorKind::InvalidAlgorithm => Refused::Algorithm,
                _ => Refused::Malformed,
            }
        })?;
        let claims = data.claims;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        if claims.iat > now.saturating_add(SKEW_SECONDS) {
            return Err(Refused::NotYetValid);
        }
        if claims.exp.saturating_sub(claims.iat) > rule.max_lifetime_seconds {
            return Err(Refused::Lifetime);
        }
        Ok(rule.sandbox)
    }
}

/// Whether a bearer value has the shape of a compact JWT (three base64url parts; the signature may
/// be empty, as in an `alg: none` token, which is then refused with its reason).
pub fn looks_like_jwt(credential: &[u8]) -> bool {
    let mut parts = 0;
    for part in credential.split(|b| *b == b'.') {
        if (part.is_empty() && parts < 2)
            || !part
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
        {
            return false;
        }
        parts += 1;
    }
    parts == 3
}

/// The identity a token claims, read before any verification (to pick the sandbox and to log).
#[derive(Debug)]
struct Claimed {
    iss: String,
    namespace: String,
    service_account: String,
}

impl Claimed {
    fn read(token: &str) -> Option<Self> {
        let payload = token.split('.').nth(1)?;
        let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
        let claims: Unverified = serde_json::from_slice(&bytes).ok()?;
        Some(Self {
            iss: claims.iss,
            namespace: claims.kubernetes.namespace,
            service_account: claims.kubernetes.serviceaccount.name,
        })
    }
}

#[derive(Deserialize)]
struct Unverified {
    iss: String,
    #[serde(rename = "kubernetes.io")]
    kubernetes: KubernetesClaims,
}

#[derive(Deserialize)]
struct KubernetesClaims {
    namespace: String,
    serviceaccount: Named,
}

#[derive(Deserialize)]
struct Named {
    name: String,
}

/// The claims checked after the signature (jsonwebtoken checks `exp`, `nbf`, `iss`, `aud`).
#[derive(Deserialize)]
struct Verified {
    exp: u64,
    iat: u64,
}

/// Token-supplied names in logs: printable ASCII, bounded.
fn printable(value: &str) -> String {
    value
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(128)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use agentmint_testkit::service_account::{self as sa, IssuerKey};
    use serde_json::{Value, json};

    fn verifier(key: &IssuerKey) -> Verifier {
        let mut v = Verifier::default();
        v.add(
            3,
            &config::ServiceAccountSpec {
                issuer: sa::ISSUER.into(),
                jwks_file: "/unused".into(),
                jwks: Some(sa::jwks(&[key])),
                audience: sa::AUDIENCE.into(),
                namespace: "agents".into(),
                service_account: "agent-k".into(),
                max_lifetime_seconds: 86400,
            },
        );
        v
    }

    fn with(mut claims: Value, edit: impl FnOnce(&mut Value)) -> Value {
        edit(&mut claims);
        claims
    }

    #[test]
    fn each_bad_token_is_refused_for_its_own_reason() {
        let key = IssuerKey::new("k1");
        let foreign = IssuerKey::new("k1");
        let v = verifier(&key);
        let good = sa::claims("agents", "agent-k");
        let now = sa::now();
        assert_eq!(v.identify(&key.sign(&good, None)), Ok(3));
        let cases: Vec<(String, Refused)> = vec![
            (
                key.sign(
                    &with(good.clone(), |c| {
                        c["iat"] = json!(now - 7200);
                        c["exp"] = json!(now - 3600);
                    }),
                    None,
                ),
                Refused::Expired,
            ),
            (
                key.sign(&with(good.clone(), |c| c["nbf"] = json!(now + 600)), None),
                Refused::NotYetValid,
            ),
            (
                key.sign(&with(good.clone(), |c| c["iat"] = json!(now + 600)), None),
                Refused::NotYetValid,
            ),
            (
                key.sign(&with(good.clone(), |c| c["aud"] = json!(["vault"])), None),
                Refused::Audience,
            ),
            (
                key.sign(
                    &with(good.clone(), |c| c["iss"] = json!("https://other.example")),
                    None,
                ),
                Refused::UnknownIdentity,
            ),
            (
                key.sign(&sa::claims("default", "agent-k"), None),
                Refused::UnknownIdentity,
            ),
            (
                key.sign(&sa::claims("agents", "other"), None),
                Refused::UnknownIdentity,
            ),
            (key.sign(&good, Some("k9")), Refused::UnknownKey),
            (foreign.sign(&good, None), Refused::Signature),
            (key.unsigned(&good), Refused::Algorithm),
            (key.hs256_with_public_key(&good), Refused::Algorithm),
            (
                key.sign(
                    &with(good.clone(), |c| c["exp"] = json!(now + 86400 + 3600)),
                    None,
                ),
                Refused::Lifetime,
            ),
        ];
        for (i, (token, reason)) in cases.iter().enumerate() {
            assert_eq!(v.identify(token), Err(*reason), "case {i}");
        }
    }

    #[test]
    fn only_three_base64url_parts_look_like_a_jwt() {
        assert!(looks_like_jwt(b"a.b.c"));
        assert!(looks_like_jwt(b"a.b."));
        assert!(!looks_like_jwt(b".b.c"));
        assert!(!looks_like_jwt(b"a.b"));
        assert!(!looks_like_jwt(b"a.b.c.d"));
        assert!(!looks_like_jwt(b"sandbox-a-credential"));
    }
}
