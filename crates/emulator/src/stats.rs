//! Request counts per hop and outcome, so tests and benchmarks can count upstream calls.
//!
//! JSON (`GET /_emulator/stats`), every hop always present, outcomes only once seen:
//! `{"total":3,"requests":{"blueprint":{"total":2,"ok":1,"invalid_client":1},"agent_identity":
//! {"total":1,"throttled":1},"agent_user":{"total":0},"app":{"total":0},"managed_identity":
//! {"total":0},"other":{"total":0}}}`, so `requests.<hop>.<outcome>` reads a count directly.
//! Outcomes are `ok`, the OAuth `error` of the answer (`invalid_client`, `invalid_grant`, ...), or
//! `throttled`, `failed`, `hung` for injected faults (never `total`).
//!
//! `credentials` counts the client credentials presented, whatever the outcome, so a rotation test
//! can prove that no request after a reload carried the retired one:
//! `"credentials":{"x5t#S256:<thumbprint as sent>":2,"client_secret:sha256:<12 hex>":1}`. A
//! certificate assertion is named by its `x5t#S256` header (or `x5t:` for the legacy SHA-1 one), a
//! client secret by the first 12 hex digits of its SHA-256: public facts, never the secret.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Which step of which chain a request was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Hop {
    /// Hop 1: a Blueprint's own request (T1, or any Blueprint token).
    Blueprint,
    /// Hop 2: an Agent Identity's `client_credentials` (T2 or an app-only token).
    AgentIdentity,
    /// Hop 3: an Agent Identity's `user_fic` for an Agent User.
    AgentUser,
    /// A plain app registration's `client_credentials`.
    App,
    /// An IMDS or App Service managed-identity request.
    ManagedIdentity,
    /// Anything that names no known client.
    Other,
}

impl Hop {
    /// Every hop, in chain order.
    pub const ALL: [Hop; 6] = [
        Hop::Blueprint,
        Hop::AgentIdentity,
        Hop::AgentUser,
        Hop::App,
        Hop::ManagedIdentity,
        Hop::Other,
    ];

    /// The snake-case name used in the stats JSON.
    pub fn name(self) -> &'static str {
        match self {
            Hop::Blueprint => "blueprint",
            Hop::AgentIdentity => "agent_identity",
            Hop::AgentUser => "agent_user",
            Hop::App => "app",
            Hop::ManagedIdentity => "managed_identity",
            Hop::Other => "other",
        }
    }

    /// The hop with that snake-case name.
    pub fn from_name(name: &str) -> Option<Hop> {
        Hop::ALL.into_iter().find(|hop| hop.name() == name)
    }
}

/// Counts of one hop.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HopStats {
    pub total: u64,
    pub outcomes: BTreeMap<String, u64>,
}

impl HopStats {
    /// Requests answered with a token.
    pub fn ok(&self) -> u64 {
        self.count("ok")
    }

    /// Requests with the given outcome.
    pub fn count(&self, outcome: &str) -> u64 {
        self.outcomes.get(outcome).copied().unwrap_or(0)
    }
}

/// Counts of every request served since start or the last reset.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "StatsJson", from = "StatsJson")]
pub struct Stats {
    pub total: u64,
    pub blueprint: HopStats,
    pub agent_identity: HopStats,
    pub agent_user: HopStats,
    pub app: HopStats,
    pub managed_identity: HopStats,
    pub other: HopStats,
    /// Client credentials presented, by label (see the module docs).
    pub credentials: BTreeMap<String, u64>,
}

impl Stats {
    /// How many requests presented the certificate whose `x5t#S256` header value is `thumbprint`.
    pub fn assertions_by(&self, thumbprint: &str) -> u64 {
        self.credential(&format!("x5t#S256:{thumbprint}"))
    }

    /// How many requests presented the credential labelled `label`.
    pub fn credential(&self, label: &str) -> u64 {
        self.credentials.get(label).copied().unwrap_or(0)
    }

    /// Counts one client credential presented.
    pub(crate) fn record_credential(&mut self, label: String) {
        *self.credentials.entry(label).or_default() += 1;
    }

    /// The counts of one hop.
    pub fn hop(&self, hop: Hop) -> &HopStats {
        match hop {
            Hop::Blueprint => &self.blueprint,
            Hop::AgentIdentity => &self.agent_identity,
            Hop::AgentUser => &self.agent_user,
            Hop::App => &self.app,
            Hop::ManagedIdentity => &self.managed_identity,
            Hop::Other => &self.other,
        }
    }

    fn hop_mut(&mut self, hop: Hop) -> &mut HopStats {
        match hop {
            Hop::Blueprint => &mut self.blueprint,
            Hop::AgentIdentity => &mut self.agent_identity,
            Hop::AgentUser => &mut self.agent_user,
            Hop::App => &mut self.app,
            Hop::ManagedIdentity => &mut self.managed_identity,
            Hop::Other => &mut self.other,
        }
    }

    /// Requests of every hop.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Requests of a hop named in snake case (`"blueprint"`, `"agent_user"`, ...) with an
    /// outcome; 0 for unknown names.
    pub fn count(&self, hop: &str, outcome: &str) -> u64 {
        Hop::from_name(hop).map_or(0, |hop| self.hop(hop).count(outcome))
    }

    /// Counts one request.
    pub(crate) fn record(&mut self, hop: Hop, outcome: &str) {
        self.total += 1;
        let counts = self.hop_mut(hop);
        counts.total += 1;
        *counts.outcomes.entry(outcome.to_string()).or_default() += 1;
    }
}

/// The wire form described in the module docs.
#[derive(Serialize, Deserialize)]
struct StatsJson {
    total: u64,
    requests: BTreeMap<String, BTreeMap<String, u64>>,
    #[serde(default)]
    credentials: BTreeMap<String, u64>,
}

impl From<Stats> for StatsJson {
    fn from(stats: Stats) -> Self {
        let requests = Hop::ALL
            .into_iter()
            .map(|hop| {
                let counts = stats.hop(hop);
                let mut map = counts.outcomes.clone();
                map.insert("total".to_string(), counts.total);
                (hop.name().to_string(), map)
            })
            .collect();
        Self {
            total: stats.total,
            requests,
            credentials: stats.credentials,
        }
    }
}

impl From<StatsJson> for Stats {
    fn from(json: StatsJson) -> Self {
        let mut stats = Stats {
            total: json.total,
            credentials: json.credentials,
            ..Stats::default()
        };
        for (name, mut outcomes) in json.requests {
            if let Some(hop) = Hop::from_name(&name) {
                let total = outcomes.remove("total").unwrap_or_default();
                *stats.hop_mut(hop) = HopStats { total, outcomes };
            }
        }
        stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_counts_per_hop_and_outcome() {
        let mut stats = Stats::default();
        stats.record(Hop::Blueprint, "ok");
        stats.record(Hop::Blueprint, "invalid_client");
        stats.record(Hop::AgentUser, "ok");
        assert_eq!(stats.total, 3);
        assert_eq!(stats.blueprint.total, 2);
        assert_eq!(stats.blueprint.ok(), 1);
        assert_eq!(stats.hop(Hop::Blueprint).count("invalid_client"), 1);
        assert_eq!(stats.agent_user.ok(), 1);
        assert_eq!(stats.app, HopStats::default());
        assert_eq!(stats.count("agent_user", "ok"), 1);
        assert_eq!(stats.count("nonsense", "ok"), 0);
        assert_eq!(stats.total(), 3);
    }

    #[test]
    fn json_lists_every_hop_with_flat_outcome_counts() {
        let mut stats = Stats::default();
        stats.record(Hop::ManagedIdentity, "ok");
        let json = serde_json::to_value(&stats).unwrap();
        assert_eq!(json["total"], 1);
        assert_eq!(json["requests"]["managed_identity"]["ok"], 1);
        assert_eq!(json["requests"]["managed_identity"]["total"], 1);
        for hop in Hop::ALL {
            assert!(
                json["requests"][hop.name()]["total"].is_u64(),
                "{}",
                hop.name()
            );
        }
    }

    #[test]
    fn json_round_trips() {
        let mut stats = Stats::default();
        stats.record_credential("x5t#S256:abc".into());
        stats.record(Hop::Blueprint, "ok");
        stats.record(Hop::AgentUser, "invalid_grant");
        let back: Stats = serde_json::from_value(serde_json::to_value(&stats).unwrap()).unwrap();
        assert_eq!(back, stats);
    }
}
