//! Generated types for the agentmint gRPC contract (`proto/agentmint/v1/mint.proto`). Nothing else
//! lives here: servers and clients are in `agentmint-gateway` and `agentmint-sandbox`.

#![allow(clippy::all, clippy::pedantic)]

/// `agentmint.v1`: the `TokenBroker` service and its messages.
pub mod v1 {
    tonic::include_proto!("agentmint.v1");
}

pub use v1::{
    ErrorDetail, MintTokenRequest, MintTokenResponse, TokenKind,
    token_broker_client::TokenBrokerClient,
    token_broker_server::{TokenBroker, TokenBrokerServer},
};
