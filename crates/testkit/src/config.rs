//! Gateway config text for tests that need a whole, valid file but care about one provider: the
//! scopes and the sandbox around it are always the same, so they are written once here.

use crate::entra::GRAPH_DEFAULT;

/// A gateway config with one provider, `name`, allowed Microsoft Graph app-only and attached to
/// one sandbox, "s", whose credential hashes to `credential_sha256`. `identity` holds the
/// provider's own lines (kind, tenant, client ids) and `credential` the lines of its
/// `[provider.credential]` table.
pub fn one_provider(
    name: &str,
    identity: &str,
    credential: &str,
    credential_sha256: &str,
) -> String {
    format!(
        "[[provider]]\nname = \"{name}\"\n{identity}\n\
         [provider.credential]\n{credential}\n\
         [provider.scopes]\napp_allowed = [\"{GRAPH_DEFAULT}\"]\n\n\
         [[sandbox]]\nname = \"s\"\ncredential_sha256 = \"{credential_sha256}\"\nproviders = [\"{name}\"]\n"
    )
}
