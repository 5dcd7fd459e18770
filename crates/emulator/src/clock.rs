//! Wall-clock helpers. The emulator issues tokens that real clients check against their own wall
//! clock, so it reads the system time rather than an injected one; callers pass `now` down so one
//! request sees one instant.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch.
pub(crate) fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Entra's timestamp format in error bodies: `2016-01-09 02:02:12Z`.
pub(crate) fn entra_timestamp(unix: u64) -> String {
    let at = i64::try_from(unix)
        .ok()
        .and_then(|secs| time::OffsetDateTime::from_unix_timestamp(secs).ok())
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_matches_entra_format() {
        assert_eq!(entra_timestamp(1_452_304_932), "2016-01-09 02:02:12Z");
    }
}
