//! Tenant pinning for providers configured with a domain-name tenant (`contoso.onmicrosoft.com`).
//!
//! A token's `tid` is always the tenant's GUID, so a domain cannot be compared with it directly. The
//! first token minted for a domain pins it to that token's `tid`; from then on every token for the
//! same authority and domain must carry the same GUID. A tenant that is already a GUID needs no pin.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The GUIDs learned for domain-name tenants. Cheap to clone (shared).
#[derive(Debug, Clone, Default)]
pub struct TenantPins {
    learned: Arc<Mutex<HashMap<String, String>>>,
}

impl TenantPins {
    /// What `tid` must be for `tenant`: the tenant itself when it is a GUID, else the pinned GUID,
    /// or `None` (anything, and the first value is learned) while the domain is not pinned yet.
    pub fn expected_tid(&self, tenant: &str) -> Option<String> {
        if uuid::Uuid::try_parse(tenant).is_ok() {
            return Some(tenant.to_owned());
        }
        self.lock().get(&tenant.to_ascii_lowercase()).cloned()
    }

    /// Records `tid` for a domain-name `tenant` if none is pinned yet. Only a GUID is ever pinned.
    pub fn learn(&self, tenant: &str, tid: &str) {
        if uuid::Uuid::try_parse(tenant).is_ok() || uuid::Uuid::try_parse(tid).is_err() {
            return;
        }
        self.lock()
            .entry(tenant.to_ascii_lowercase())
            .or_insert_with(|| tid.to_ascii_lowercase());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        // A poisoned map is still a valid map: each insert is a single call.
        self.learned.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GUID: &str = "11111111-1111-1111-1111-111111111111";
    const OTHER: &str = "22222222-2222-2222-2222-222222222222";

    #[test]
    fn a_guid_tenant_is_its_own_pin() {
        let pins = TenantPins::default();
        assert_eq!(pins.expected_tid(GUID).as_deref(), Some(GUID));
        pins.learn(GUID, OTHER);
        assert_eq!(pins.expected_tid(GUID).as_deref(), Some(GUID));
    }

    #[test]
    fn a_domain_is_pinned_by_the_first_guid_and_never_moved() {
        let pins = TenantPins::default();
        assert_eq!(pins.expected_tid("Contoso.onmicrosoft.com"), None);
        pins.learn("contoso.onmicrosoft.com", "not-a-guid");
        assert_eq!(pins.expected_tid("contoso.onmicrosoft.com"), None);
        pins.learn("contoso.onmicrosoft.com", GUID);
        pins.learn("CONTOSO.onmicrosoft.com", OTHER);
        assert_eq!(
            pins.expected_tid("contoso.ONMICROSOFT.com").as_deref(),
            Some(GUID)
        );
    }
}
