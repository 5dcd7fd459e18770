//! The gRPC side of the load generator: one tonic channel (one HTTP/2 connection) per worker, sending
//! the same `MintToken` request with the sandbox's bearer credential, as a sandbox resolver does.
//!
//! The probe also counts answers that were not cache hits, because the expiry-boundary scenario's
//! figure is exactly that: callers that waited on an upstream call.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use agentmint_proto::{MintTokenRequest, MintTokenResponse, TokenBrokerClient};
use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::{Channel, Endpoint};

use crate::error::ProbeError;
use crate::generator::Probe;

/// What every request of one load run looks like.
#[derive(Debug, Clone)]
pub struct GrpcTarget {
    pub addr: SocketAddr,
    pub request: MintTokenRequest,
    /// The sandbox credential sent as `authorization: Bearer ...`.
    pub credential: String,
}

/// Counters shared by the probes of one load run.
#[derive(Debug, Default)]
pub struct GrpcCounters {
    /// Answers with `cache_hit == false`: the caller waited on an upstream call.
    pub misses: AtomicU64,
}

/// One channel sending the target's `MintToken`. Clones share the channel (HTTP/2 streams on one
/// connection).
#[derive(Clone)]
pub struct GrpcProbe {
    client: TokenBrokerClient<Channel>,
    request: MintTokenRequest,
    authorization: MetadataValue<Ascii>,
    counters: Arc<GrpcCounters>,
}

impl GrpcProbe {
    /// Opens the channel (eagerly, so the handshake is not timed).
    pub async fn connect(
        target: &GrpcTarget,
        counters: Arc<GrpcCounters>,
    ) -> Result<Self, ProbeError> {
        let channel = Endpoint::from_shared(format!("http://{}", target.addr))?
            .tcp_nodelay(true)
            .connect()
            .await?;
        let authorization = format!("Bearer {}", target.credential)
            .parse()
            .map_err(|_| ProbeError::Grpc {
                code: tonic::Code::InvalidArgument,
                message: "the sandbox credential is not valid metadata".into(),
            })?;
        Ok(Self {
            client: TokenBrokerClient::new(channel),
            request: target.request.clone(),
            authorization,
            counters,
        })
    }

    /// Sends the target's `MintToken` and returns the answer.
    pub async fn mint(&mut self) -> Result<MintTokenResponse, ProbeError> {
        self.send(self.request.clone()).await
    }

    /// Sends another request on the same channel, with the same credential.
    pub async fn send(
        &mut self,
        request: MintTokenRequest,
    ) -> Result<MintTokenResponse, ProbeError> {
        let mut request = tonic::Request::new(request);
        request
            .metadata_mut()
            .insert("authorization", self.authorization.clone());
        let response = self.client.mint_token(request).await?.into_inner();
        if !response.cache_hit {
            self.counters.misses.fetch_add(1, Ordering::Relaxed);
        }
        Ok(response)
    }
}

impl Probe for GrpcProbe {
    async fn call(&mut self) -> Result<(), ProbeError> {
        self.mint().await.map(drop)
    }
}
