//! `Retry-After`: delta-seconds or an HTTP-date, capped so that a hostile or broken upstream cannot
//! park a caller for hours.

use std::time::{Duration, SystemTime};

/// The longest wait a `Retry-After` can ask for.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);

/// Parses a `Retry-After` value as seen at `now`; `None` when it is neither form. A date in the past
/// means "now" (zero).
pub fn parse(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if value.is_empty() || value.len() > 64 {
        return None;
    }
    let wait = if value.bytes().all(|b| b.is_ascii_digit()) {
        // Very long digit strings saturate instead of failing: they are just "a long time".
        Duration::from_secs(value.parse::<u64>().unwrap_or(u64::MAX))
    } else {
        let at = httpdate::parse_http_date(value).ok()?;
        at.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn delta_seconds() {
        assert_eq!(parse(" 7 ", at(0)), Some(Duration::from_secs(7)));
        assert_eq!(parse("0", at(0)), Some(Duration::ZERO));
    }

    #[test]
    fn http_date_is_relative_to_now() {
        let now = at(1_700_000_000);
        let value = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(parse(&value, now), Some(Duration::from_secs(30)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(parse(&past, now), Some(Duration::ZERO));
    }

    #[test]
    fn huge_values_are_capped() {
        assert_eq!(parse("86400", at(0)), Some(MAX_RETRY_AFTER));
        assert_eq!(
            parse("99999999999999999999999", at(0)),
            Some(MAX_RETRY_AFTER)
        );
    }

    #[test]
    fn garbage_is_ignored() {
        for v in ["", "-5", "soon", "1.5", "Wed, 99 Foo 2024"] {
            assert_eq!(parse(v, at(0)), None, "{v:?}");
        }
    }
}
