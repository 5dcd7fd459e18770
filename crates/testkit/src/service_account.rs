//! A stand-in Kubernetes service-account issuer for tests: an RSA signing key, its JWKS, and
//! projected tokens with chosen claims (issue 12's sandbox identity), plus the forged tokens the
//! gateway must refuse (`alg: none`, HS256 keyed with the public key, a foreign key's signature).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

pub const ISSUER: &str = "https://kubernetes.default.svc.cluster.local";
pub const AUDIENCE: &str = "agentmint";

/// One issuer key: its `kid`, signing key and public PEM.
pub struct IssuerKey {
    pub kid: String,
    encoding: EncodingKey,
    public_pem: String,
    jwk: Value,
}

impl IssuerKey {
    /// A fresh RSA key named `kid`.
    pub fn new(kid: &str) -> Self {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).expect("RSA key");
        let encoding = EncodingKey::from_rsa_pem(key.serialize_pem().as_bytes()).expect("PEM");
        let mut jwk =
            serde_json::to_value(Jwk::from_encoding_key(&encoding, Algorithm::RS256).expect("JWK"))
                .expect("JWK JSON");
        jwk["kid"] = json!(kid);
        jwk["use"] = json!("sig");
        Self {
            kid: kid.into(),
            encoding,
            public_pem: key.public_key_pem(),
            jwk,
        }
    }

    /// The public key as a JWK.
    pub fn jwk(&self) -> Value {
        self.jwk.clone()
    }

    /// `claims` signed RS256 with this key, under its `kid` (or `kid` when given).
    pub fn sign(&self, claims: &Value, kid: Option<&str>) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.unwrap_or(&self.kid).to_owned());
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("sign")
    }

    /// `claims` as an HS256 token whose secret is this key's public PEM (the algorithm-confusion
    /// attack).
    pub fn hs256_with_public_key(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.kid.clone());
        let key = EncodingKey::from_secret(self.public_pem.as_bytes());
        jsonwebtoken::encode(&header, claims, &key).expect("sign")
    }

    /// `claims` as an unsigned `alg: none` token under this key's `kid`.
    pub fn unsigned(&self, claims: &Value) -> String {
        let enc = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
        format!(
            "{}.{}.",
            enc(&json!({"alg": "none", "typ": "JWT", "kid": self.kid})),
            enc(claims)
        )
    }
}

/// A JWKS holding `keys`.
pub fn jwks(keys: &[&IssuerKey]) -> String {
    json!({"keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>()}).to_string()
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

/// The claims of a projected token for `namespace`/`service_account`, issued now for an hour.
pub fn claims(namespace: &str, service_account: &str) -> Value {
    let now = now();
    json!({
        "iss": ISSUER,
        "aud": [AUDIENCE],
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "sub": format!("system:serviceaccount:{namespace}:{service_account}"),
        "kubernetes.io": {
            "namespace": namespace,
            "serviceaccount": {"name": service_account, "uid": "0a1b2c3d"},
            "pod": {"name": format!("{service_account}-0"), "uid": "4e5f6a7b"}
        }
    })
}

/// The `[sandbox.service_account]` section for `namespace`/`service_account` with keys in
/// `jwks_file`.
pub fn sandbox_section(jwks_file: &str, namespace: &str, service_account: &str) -> String {
    format!(
        "[sandbox.service_account]\nissuer = \"{ISSUER}\"\njwks_file = \"{jwks_file}\"\naudience = \"{AUDIENCE}\"\nnamespace = \"{namespace}\"\nservice_account = \"{service_account}\"\nmax_lifetime_seconds = 86400\n"
    )
}
