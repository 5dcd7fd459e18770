//! Reading upstream bodies with a hard size bound.
//!
//! A token response is a few KiB. A misbehaving proxy or endpoint may send megabytes; reading stops
//! as soon as the bound is passed (or before, from `Content-Length`), so memory per request stays
//! bounded whatever the upstream does.

use bytes::{Bytes, BytesMut};

/// The default bound: far above any real token response.
pub const DEFAULT_MAX_BODY_BYTES: usize = 256 * 1024;

/// Why a body could not be read.
#[derive(Debug)]
pub enum BodyError {
    /// The body is larger than the bound; nothing past the bound was read.
    TooLarge,
    /// The connection failed mid-body.
    Transport(reqwest::Error),
}

/// Reads `response`'s body, at most `max` bytes.
pub async fn read_bounded(
    response: &mut reqwest::Response,
    max: usize,
) -> Result<Bytes, BodyError> {
    if response
        .content_length()
        .is_some_and(|len| len > max as u64)
    {
        return Err(BodyError::TooLarge);
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if body.len() + chunk.len() > max {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}
