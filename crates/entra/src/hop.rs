//! The hops of the Entra chains, named the same way in errors, logs and metrics.

use std::fmt;

/// One upstream step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Hop {
    /// Hop 1: the Blueprint proves itself and gets the exchange token T1 (`fmi_path` = Agent Identity).
    Blueprint,
    /// Hop 2: the Agent Identity presents T1 and gets T2 (exchange scope) or an app-only resource token.
    AgentIdentity,
    /// Hop 3: `user_fic` turns T1 + T2 into the Agent User's delegated token.
    AgentUser,
    /// A managed-identity endpoint (IMDS or App Service) issuing the token used as a client assertion.
    ManagedIdentity,
    /// A plain app registration exchanging its credential for a resource token.
    App,
}

impl Hop {
    /// The stable lower-case name used in logs, metrics labels and gRPC error details.
    pub fn as_str(self) -> &'static str {
        match self {
            Hop::Blueprint => "blueprint",
            Hop::AgentIdentity => "agent_identity",
            Hop::AgentUser => "agent_user",
            Hop::ManagedIdentity => "managed_identity",
            Hop::App => "app",
        }
    }

    /// Every hop, for metrics registration and exhaustive tests.
    pub const ALL: [Hop; 5] = [
        Hop::Blueprint,
        Hop::AgentIdentity,
        Hop::AgentUser,
        Hop::ManagedIdentity,
        Hop::App,
    ];
}

impl fmt::Display for Hop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
