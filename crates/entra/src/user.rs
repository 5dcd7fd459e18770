//! How hop 3 names the Agent User.

use std::fmt;

/// Exactly one of `user_id=` (object id) or `username=` (UPN) is sent at hop 3.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UserSelector {
    /// The Agent User's object id; the minted token's `oid` must equal it.
    ObjectId(String),
    /// The Agent User's user principal name.
    Upn(String),
}

impl UserSelector {
    /// The form field name and value for hop 3.
    pub fn form_field(&self) -> (&'static str, &str) {
        match self {
            UserSelector::ObjectId(id) => ("user_id", id),
            UserSelector::Upn(upn) => ("username", upn),
        }
    }
}

impl fmt::Display for UserSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UserSelector::ObjectId(id) => write!(f, "object id {id}"),
            UserSelector::Upn(upn) => write!(f, "upn {upn}"),
        }
    }
}
