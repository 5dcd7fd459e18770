//! Parsing what upstreams answer: token-endpoint and managed-identity success bodies, error
//! bodies, and the bounded read that comes before both. Nothing here keeps or echoes a body.

mod body;
mod error_body;
mod fields;
mod managed_identity;
mod token;

pub use body::{BodyError, DEFAULT_MAX_BODY_BYTES, read_bounded};
pub use error_body::{ErrorBody, parse as parse_error_body};
pub use fields::{MAX_KEPT_LEN, sanitize};
pub use managed_identity::{MAX_MANAGED_IDENTITY_LIFETIME, parse as parse_managed_identity};
pub use token::{MAX_LIFETIME, parse as parse_token};
