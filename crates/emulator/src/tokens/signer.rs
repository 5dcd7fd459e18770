//! The emulator's token-signing key: RSA 2048, RS256, published in a JWKS.
//!
//! Like Entra, every token header carries `kid` and `x5t`, both the base64url SHA-1 thumbprint of
//! a (self-signed) certificate for the key, and the JWKS publishes `n`, `e` and `x5c`. Tokens the
//! emulator issued come back to it as client assertions (T1, T2, managed-identity tokens), so the
//! same key also verifies.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Map, Value, json};
use sha1::{Digest, Sha1};

use crate::error::EmulatorError;

/// The signing key and everything derived from it.
pub(crate) struct Signer {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    modulus: String,
    exponent: String,
    certificate_b64: String,
}

impl Signer {
    /// Generates a fresh key (a new emulator never trusts an old emulator's tokens).
    pub(crate) fn generate() -> Result<Self, EmulatorError> {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256)
            .map_err(|e| EmulatorError::SigningKey(e.to_string()))?;
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new())
            .map_err(|e| EmulatorError::SigningKey(e.to_string()))?;
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(
            rcgen::DnType::CommonName,
            "agentmint emulator token signing",
        );
        let cert = params
            .self_signed(&key)
            .map_err(|e| EmulatorError::SigningKey(e.to_string()))?;
        let encoding = EncodingKey::from_rsa_pem(key.serialize_pem().as_bytes())
            .map_err(|e| EmulatorError::SigningKey(e.to_string()))?;
        let decoding = DecodingKey::from_rsa_pem(key.public_key_pem().as_bytes())
            .map_err(|e| EmulatorError::SigningKey(e.to_string()))?;
        let jwk = Jwk::from_encoding_key(&encoding, Algorithm::RS256)
            .map_err(|e| EmulatorError::SigningKey(e.to_string()))?;
        let AlgorithmParameters::RSA(rsa) = jwk.algorithm else {
            return Err(EmulatorError::SigningKey("not an RSA key".into()));
        };
        Ok(Self {
            kid: URL_SAFE_NO_PAD.encode(Sha1::digest(cert.der())),
            encoding,
            decoding,
            modulus: rsa.n,
            exponent: rsa.e,
            certificate_b64: STANDARD.encode(cert.der()),
        })
    }

    /// The key id in token headers and the JWKS.
    pub(crate) fn kid(&self) -> &str {
        &self.kid
    }

    /// Signs claims as an RS256 JWT with `kid` and `x5t`.
    pub(crate) fn sign(
        &self,
        claims: &Map<String, Value>,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        header.x5t = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding)
    }

    /// Verifies a token's signature (only; the caller checks time and claims) and returns its
    /// claims.
    pub(crate) fn verify(
        &self,
        token: &str,
    ) -> Result<Map<String, Value>, jsonwebtoken::errors::Error> {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        Ok(jsonwebtoken::decode::<Map<String, Value>>(token, &self.decoding, &validation)?.claims)
    }

    /// The JSON Web Key Set published at the discovery `keys` endpoints.
    pub(crate) fn jwks(&self, issuer: &str) -> Value {
        json!({
            "keys": [{
                "kty": "RSA",
                "use": "sig",
                "kid": self.kid,
                "x5t": self.kid,
                "n": self.modulus,
                "e": self.exponent,
                "x5c": [self.certificate_b64],
                "issuer": issuer,
            }]
        })
    }
}
