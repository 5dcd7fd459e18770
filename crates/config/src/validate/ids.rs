//! The shapes of identifiers: record names, GUIDs, tenants, UPNs.
//!
//! GUIDs and domains are lowercased: Entra compares them case-insensitively but puts lowercase in
//! token claims, and the gateway compares claims to the config exactly.

/// Why an identifier was refused; the message completes "`key` ...".
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum IdError {
    #[error("is not a GUID")]
    NotGuid,
    #[error("is not a tenant id (a GUID) or a verified domain")]
    NotTenant,
    #[error("names a multi-tenant alias, but Agent ID tokens are always issued by one tenant")]
    TenantAlias,
    #[error("is not a user principal name like agent@contoso.com")]
    NotUpn,
    #[error("must be 1 to 64 characters from a-z, 0-9, `-` and `_`")]
    NotName,
}

/// A GUID in its 8-4-4-4-12 hex form, lowercased.
pub(crate) fn guid(text: &str) -> Result<String, IdError> {
    let bytes = text.as_bytes();
    let shaped = bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        });
    if shaped {
        Ok(text.to_ascii_lowercase())
    } else {
        Err(IdError::NotGuid)
    }
}

/// A tenant: its id, or a verified domain such as `contoso.onmicrosoft.com`.
pub(crate) fn tenant(text: &str) -> Result<String, IdError> {
    if let Ok(id) = guid(text) {
        return Ok(id);
    }
    let lower = text.to_ascii_lowercase();
    if matches!(lower.as_str(), "common" | "organizations" | "consumers") {
        return Err(IdError::TenantAlias);
    }
    if is_domain(&lower) {
        Ok(lower)
    } else {
        Err(IdError::NotTenant)
    }
}

/// A user principal name: `local@domain`, with a dotted domain.
pub(crate) fn upn(text: &str) -> Result<String, IdError> {
    let Some((local, domain)) = text.split_once('@') else {
        return Err(IdError::NotUpn);
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local.chars().all(|c| {
            c.is_ascii_graphic()
                && !matches!(
                    c,
                    '@' | '"' | '\\' | '(' | ')' | ',' | ':' | ';' | '<' | '>' | '[' | ']'
                )
        });
    if local_ok && is_domain(&domain.to_ascii_lowercase()) {
        Ok(text.to_owned())
    } else {
        Err(IdError::NotUpn)
    }
}

/// A provider or sandbox name: short, lowercase, safe in logs, metric labels and URLs.
pub(crate) fn name(text: &str) -> Result<(), IdError> {
    let ok = (1..=64).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok { Ok(()) } else { Err(IdError::NotName) }
}

/// A DNS name with at least two labels (lowercase letters, digits, inner hyphens).
fn is_domain(text: &str) -> bool {
    let labels: Vec<&str> = text.split('.').collect();
    text.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            (1..=63).contains(&l.len())
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_are_checked_and_lowercased() {
        assert_eq!(
            guid("7F3C1A2B-0000-4000-8000-00000000000A").unwrap(),
            "7f3c1a2b-0000-4000-8000-00000000000a"
        );
        for bad in [
            "",
            "7f3c1a2b00004000800000000000000a",
            "7f3c1a2b-0000-4000-8000-00000000000g",
            "{7f3c1a2b-0000-4000-8000-00000000000a}",
        ] {
            assert_eq!(guid(bad), Err(IdError::NotGuid), "{bad}");
        }
    }

    #[test]
    fn a_tenant_is_a_guid_or_a_domain_but_never_an_alias() {
        assert_eq!(
            tenant("Contoso.onmicrosoft.com").unwrap(),
            "contoso.onmicrosoft.com"
        );
        assert_eq!(tenant("common"), Err(IdError::TenantAlias));
        assert_eq!(tenant("contoso"), Err(IdError::NotTenant));
        assert_eq!(tenant("-x.com"), Err(IdError::NotTenant));
    }

    #[test]
    fn upns_need_one_at_and_a_dotted_domain() {
        assert!(upn("agent@contoso.com").is_ok());
        for bad in [
            "agent",
            "@contoso.com",
            "agent@contoso",
            "a b@contoso.com",
            "a@b@contoso.com",
        ] {
            assert_eq!(upn(bad), Err(IdError::NotUpn), "{bad}");
        }
    }

    #[test]
    fn names_are_lowercase_words() {
        assert!(name("mail-agent_2").is_ok());
        for bad in ["", "Mail", "a b", "a.b", &"x".repeat(65)] {
            assert_eq!(name(bad), Err(IdError::NotName), "{bad}");
        }
    }
}
