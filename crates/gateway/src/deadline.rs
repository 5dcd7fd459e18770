//! The caller's deadline, honoured by answering before it rather than by being cut off at it.
//!
//! tonic cuts a request off at its `grpc-timeout` with a bare CANCELLED, which tells a caller
//! nothing. So the gateway reads the header itself and stops *waiting* a little earlier, leaving
//! [`margin`] for its answer to travel: UNAVAILABLE with reason `MINT_IN_PROGRESS` and a retry
//! delay. Only the wait stops. The mint itself is a spawned single flight (cache/src/flight.rs), so
//! it runs on to the end of the upstream retry budget and caches its token, and the caller's retry
//! finds it.

use std::time::Duration;

use tonic::metadata::MetadataMap;

use crate::drain::REQUEST_BOUND;

/// The retry delay told to a caller whose deadline passed while its mint went on: the flight is
/// shared, so an early retry costs only a wait on it.
pub const MINT_IN_PROGRESS_RETRY_AFTER: Duration = Duration::from_secs(1);

/// The header gRPC clients send their deadline in.
const GRPC_TIMEOUT: &str = "grpc-timeout";

/// The part of a deadline kept for the answer's way back: a tenth, at most half a second.
pub fn margin(budget: Duration) -> Duration {
    (budget / 10).min(Duration::from_millis(500))
}

/// How long the gateway may wait for a mint: the caller's `grpc-timeout`, or the server's
/// [`REQUEST_BOUND`] when it sent none (or a longer one), less [`margin`]. So even a caller without
/// a deadline gets a typed answer rather than the server's bare cut-off.
pub fn wait_budget(metadata: &MetadataMap) -> Duration {
    let asked = metadata
        .get(GRPC_TIMEOUT)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_grpc_timeout);
    let budget = asked.map_or(REQUEST_BOUND, |d| d.min(REQUEST_BOUND));
    budget - margin(budget)
}

/// `grpc-timeout` as the gRPC HTTP/2 spec writes it: at most 8 digits and a unit (`H`, `M`, `S`,
/// `m`, `u`, `n`).
fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n * 3600),
        "M" => Duration::from_secs(n * 60),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeouts_parse_in_every_unit() {
        for (text, expected) in [
            ("1H", Duration::from_secs(3600)),
            ("2M", Duration::from_secs(120)),
            ("9S", Duration::from_secs(9)),
            ("900m", Duration::from_millis(900)),
            ("5u", Duration::from_micros(5)),
            ("7n", Duration::from_nanos(7)),
        ] {
            assert_eq!(parse_grpc_timeout(text), Some(expected), "{text}");
        }
        for bad in ["", "S", "123456789S", "10x", "-1S", "1.5S", "10 S"] {
            assert_eq!(parse_grpc_timeout(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_wait_leaves_a_tenth_of_the_deadline_at_most_half_a_second() {
        let mut metadata = MetadataMap::new();
        metadata.insert(GRPC_TIMEOUT, "1000m".parse().unwrap());
        assert_eq!(wait_budget(&metadata), Duration::from_millis(900));
        metadata.insert(GRPC_TIMEOUT, "10S".parse().unwrap());
        assert_eq!(wait_budget(&metadata), Duration::from_millis(9500));
    }

    #[test]
    fn without_a_deadline_or_beyond_the_request_bound_the_wait_ends_before_the_bound() {
        let before_bound = REQUEST_BOUND - Duration::from_millis(500);
        let mut metadata = MetadataMap::new();
        assert_eq!(wait_budget(&metadata), before_bound);
        metadata.insert(GRPC_TIMEOUT, "1H".parse().unwrap());
        assert_eq!(wait_budget(&metadata), before_bound);
        metadata.insert(GRPC_TIMEOUT, "garbage".parse().unwrap());
        assert_eq!(wait_budget(&metadata), before_bound);
    }
}
