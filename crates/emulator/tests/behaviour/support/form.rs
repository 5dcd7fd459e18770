//! Token request forms as a client builds them (written from PROTOCOL.md, not taken from the
//! client crate). A test starts from the form a well-behaved client sends and changes exactly the
//! field its behaviour is about.

use super::JWT_BEARER;

/// A `application/x-www-form-urlencoded` body, field by field, in order.
#[derive(Clone, Debug, Default)]
pub struct Form(Vec<(String, String)>);

impl Form {
    /// A form with only `grant_type`.
    pub fn grant(grant_type: &str) -> Self {
        Self::default().set("grant_type", grant_type)
    }

    /// `grant_type=client_credentials` by `client_id` for `scope`.
    pub fn client_credentials(client_id: &str, scope: &str) -> Self {
        Self::grant("client_credentials")
            .set("client_id", client_id)
            .set("scope", scope)
    }

    /// Sets `name` (replacing its value if present, else appending it).
    pub fn set(mut self, name: &str, value: &str) -> Self {
        match self.0.iter_mut().find(|(n, _)| n == name) {
            Some(field) => field.1 = value.to_owned(),
            None => self.0.push((name.to_owned(), value.to_owned())),
        }
        self
    }

    /// Drops `name`.
    pub fn without(mut self, name: &str) -> Self {
        self.0.retain(|(n, _)| n != name);
        self
    }

    /// A JWT-bearer client assertion.
    pub fn assertion(self, assertion: &str) -> Self {
        self.set("client_assertion_type", JWT_BEARER)
            .set("client_assertion", assertion)
    }

    pub fn fields(&self) -> &[(String, String)] {
        &self.0
    }
}
