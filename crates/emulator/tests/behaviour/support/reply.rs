//! An HTTP answer as tests read it, and the assertions they make on it: success, Entra's error
//! shape, and a token's claims.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// An HTTP answer, body parsed as JSON when it is JSON.
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

/// An Entra error: HTTP status, `error`, AADSTS code.
pub type Entra = (u16, &'static str, u64);

impl Reply {
    pub async fn read(response: reqwest::Response) -> Reply {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply {
            status,
            headers,
            body,
        }
    }

    pub fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or("")
    }

    /// The first AADSTS code of an Entra error.
    pub fn aadsts(&self) -> u64 {
        self.body["error_codes"][0].as_u64().unwrap_or(0)
    }

    pub fn access_token(&self) -> String {
        self.body["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no access_token in {}", self.body))
            .to_string()
    }

    /// The decoded payload of the access token.
    pub fn claims(&self) -> Value {
        claims(&self.access_token())
    }

    /// Asserts a 200 and returns the reply.
    #[track_caller]
    pub fn assert_ok(&self) -> &Self {
        assert_eq!(self.status, 200, "{}", self.body);
        self
    }

    /// Asserts an Entra error: status, `error` and AADSTS code.
    #[track_caller]
    pub fn assert_entra_error(&self, status: u16, error: &str, code: u64) {
        self.assert_entra_error_for("", (status, error, code));
    }

    /// [`Self::assert_entra_error`] for one row of a table test, named by its `behaviour`.
    #[track_caller]
    pub fn assert_entra_error_for(&self, behaviour: &str, (status, error, code): (u16, &str, u64)) {
        assert_eq!(
            (self.status, self.error(), self.aadsts()),
            (status, error, code),
            "{behaviour}: body {}",
            self.body
        );
        let description = self.body["error_description"].as_str().unwrap_or("");
        assert!(
            description.starts_with(&format!("AADSTS{code}:")),
            "{behaviour}: description {description}"
        );
    }
}

/// Asserts every row of a table test: the behaviour, the reply, the Entra error it must get.
#[track_caller]
pub fn assert_refusals(rows: Vec<(&str, Reply, Entra)>) {
    for (behaviour, reply, expected) in rows {
        reply.assert_entra_error_for(behaviour, expected);
    }
}

/// Asserts each claim of `expected` (a JSON object); `null` means the claim must be absent.
#[track_caller]
pub fn assert_claims(claims: &Value, expected: Value) {
    for (name, value) in expected.as_object().expect("expected claims are an object") {
        match value {
            Value::Null => assert!(claims.get(name).is_none(), "{name} present in {claims}"),
            value => assert_eq!(&claims[name], value, "claim {name} of {claims}"),
        }
    }
}

/// Decodes a JWT payload without verifying it.
pub fn claims(token: &str) -> Value {
    part(token, 1)
}

/// Decodes a JWT header.
pub fn header(token: &str) -> Value {
    part(token, 0)
}

fn part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// Whether a space-separated `xms_sub_fct` contains `facet`.
pub fn has_facet(claims: &Value, facet: &str) -> bool {
    claims["xms_sub_fct"]
        .as_str()
        .is_some_and(|f| f.split(' ').any(|x| x == facet))
}
