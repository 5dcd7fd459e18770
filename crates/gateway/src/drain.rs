//! How a gateway stops without failing its callers (RELIABILITY 35, 37).
//!
//! A load balancer only stops sending traffic once it notices the gateway is going away, and it
//! notices through `/readyz` or gRPC health. So a drain is three steps, in this order:
//!
//! 1. `/readyz` answers 503 and gRPC health says NOT_SERVING (for `TokenBroker` and for the whole
//!    server, `""`), in the same instant;
//! 2. the gateway keeps serving, new connections included, for the grace
//!    (`[gateway] drain_grace_seconds`), so nothing is refused while callers are being moved away;
//! 3. the listeners close, and the requests in flight finish, each within [`REQUEST_BOUND`].

use std::sync::Arc;
use std::time::Duration;

use agentmint_proto::TokenBrokerServer;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;
use tracing::info;

use crate::service::Broker;
use crate::state::GatewayState;

/// The longest a gRPC request runs: the server cuts it off after this, whatever its deadline, so
/// it also bounds how long a drain waits for the requests in flight.
pub const REQUEST_BOUND: Duration = Duration::from_secs(60);

/// How a gateway drains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Drain {
    /// How long the gateway keeps serving after it starts saying NOT_SERVING.
    pub grace: Duration,
    /// How long it then waits for the requests in flight before returning anyway.
    pub in_flight_bound: Duration,
}

impl Drain {
    /// A drain with `grace`, waiting for in-flight requests as long as one may run.
    pub fn with_grace(grace: Duration) -> Self {
        Self {
            grace,
            in_flight_bound: REQUEST_BOUND,
        }
    }
}

/// Steps 1 and 2: says NOT_SERVING everywhere at once, then serves on for the grace. The caller
/// closes the listeners when this returns.
pub(crate) async fn announce_and_wait(
    state: &Arc<GatewayState>,
    health: &HealthReporter,
    drain: Drain,
) {
    state.set_draining();
    health.set_not_serving::<TokenBrokerServer<Broker>>().await;
    health
        .set_service_status("", ServingStatus::NotServing)
        .await;
    info!(
        grace_ms = u64::try_from(drain.grace.as_millis()).unwrap_or(u64::MAX),
        "draining: /readyz and gRPC health say NOT_SERVING; still serving until the grace ends"
    );
    tokio::time::sleep(drain.grace).await;
    info!("drain grace over: refusing new connections, finishing the requests in flight");
}
