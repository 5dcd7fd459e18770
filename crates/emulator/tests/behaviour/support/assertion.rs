//! Certificate client assertions as PROTOCOL.md describes them, with public fields so a test can
//! break exactly one thing.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// Which certificate thumbprint header an assertion carries.
#[derive(Clone, Copy)]
pub enum Thumbprint {
    Sha256,
    Sha1,
}

/// A certificate client assertion.
pub struct AssertionSpec {
    pub key_pem: String,
    pub cert_pem: String,
    pub alg: Algorithm,
    pub thumbprint: Thumbprint,
    pub aud: String,
    pub iss: String,
    pub sub: String,
    /// Seconds relative to now.
    pub nbf: Option<i64>,
    pub exp: i64,
}

impl AssertionSpec {
    /// PS256 with `x5t#S256`, valid for ten minutes.
    pub fn new(key_pem: &str, cert_pem: &str, client_id: &str, aud: &str) -> Self {
        Self {
            key_pem: key_pem.into(),
            cert_pem: cert_pem.into(),
            alg: Algorithm::PS256,
            thumbprint: Thumbprint::Sha256,
            aud: aud.into(),
            iss: client_id.into(),
            sub: client_id.into(),
            nbf: Some(0),
            exp: 600,
        }
    }

    pub fn sign(&self) -> String {
        let der = pem::parse(&self.cert_pem).unwrap().into_contents();
        let mut header = Header::new(self.alg);
        match self.thumbprint {
            Thumbprint::Sha256 => {
                header.x5t_s256 = Some(URL_SAFE_NO_PAD.encode(Sha256::digest(&der)))
            }
            Thumbprint::Sha1 => header.x5t = Some(URL_SAFE_NO_PAD.encode(Sha1::digest(&der))),
        }
        let now = now() as i64;
        let mut claims = json!({
            "aud": self.aud,
            "iss": self.iss,
            "sub": self.sub,
            "jti": uuid::Uuid::new_v4().to_string(),
            "iat": now,
            "exp": now + self.exp,
        });
        if let Some(nbf) = self.nbf {
            claims["nbf"] = json!(now + nbf);
        }
        let key = EncodingKey::from_rsa_pem(self.key_pem.as_bytes()).unwrap();
        jsonwebtoken::encode(&header, &claims, &key).unwrap()
    }
}

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}
