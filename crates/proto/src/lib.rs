//! The agentmint gRPC contract (`proto/agentmint/v1/mint.proto`): the generated types, plus what
//! both ends of the wire must spell alike: the [`reason`]s of a refusal, the [`details`] of a
//! failure (gRPC's standard `ErrorInfo` and `RetryInfo`) and the label of a [`TokenKind`]. Servers and clients are in `agentmint-gateway` and `agentmint-sandbox`.

/// `agentmint.v1`: the `TokenBroker` service and its messages.
#[allow(clippy::all, clippy::pedantic)]
pub mod v1 {
    tonic::include_proto!("agentmint.v1");
}

pub mod details;
mod kind;
mod redact;

/// The reasons are spelled in `agentmint-base`, where the entra crate shares them without
/// depending on tonic.
pub use agentmint_base::{Reason, reason};
pub use details::FailureDetails;
pub use v1::{
    MintTokenRequest, MintTokenResponse, TokenKind,
    token_broker_client::TokenBrokerClient,
    token_broker_server::{TokenBroker, TokenBrokerServer},
};
