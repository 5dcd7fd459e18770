//! Random values the resolver makes up: the path secret, the identity header, correlation ids.
//!
//! Secrets are lower-case hex: 256 bits, and immune to clients that lower-case URLs (MSAL's URL
//! canonicalisation does), so a case change can never make a valid URL invalid or vice versa.

/// 32 random bytes as 64 lower-case hex characters.
pub(crate) fn secret_hex() -> String {
    hex(&rand::random::<[u8; 32]>())
}

/// A fresh UUID-v4-shaped id for correlating one local request with the resolver's log.
pub(crate) fn correlation_id() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_64_lower_hex_and_differ() {
        let (a, b) = (secret_hex(), secret_hex());
        assert_eq!(a.len(), 64);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(a, b);
    }

    #[test]
    fn correlation_ids_look_like_uuid_v4() {
        let id = correlation_id();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
    }
}
