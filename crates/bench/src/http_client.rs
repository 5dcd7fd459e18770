//! The HTTP side of the load generator: one hyper HTTP/1.1 connection per worker, kept alive, sending
//! the same GET over and over, as an agent polling its local token URL would.
//!
//! hyper's connection-level client is used rather than a pooled client so that "one connection per
//! worker" holds by construction and the client adds as little work as possible to a 2-core machine
//! it shares with the servers it measures.

use std::net::SocketAddr;

use bytes::Bytes;
use http::header::{HOST, HeaderName, HeaderValue};
use http::{Request, StatusCode, Uri};
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

use crate::error::ProbeError;
use crate::generator::Probe;

/// The longest error body quoted in a [`ProbeError::Status`].
const MAX_QUOTED_BODY: usize = 200;

/// What every request of one load run looks like.
#[derive(Debug, Clone)]
pub struct HttpTarget {
    pub addr: SocketAddr,
    /// Path and query, e.g. `/token/abc?scope=...`.
    pub path_and_query: String,
    /// Extra request headers (e.g. `Metadata: true`).
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

/// One keep-alive connection sending the target's GET.
pub struct HttpProbe {
    sender: SendRequest<Empty<Bytes>>,
    uri: Uri,
    host: HeaderValue,
    headers: Vec<(HeaderName, HeaderValue)>,
    connection: JoinHandle<()>,
}

impl HttpProbe {
    /// Opens the connection.
    pub async fn connect(target: &HttpTarget) -> Result<Self, ProbeError> {
        let stream = TcpStream::connect(target.addr).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
        let connection = tokio::spawn(async move {
            // The connection ends when the probe is dropped or the server closes it; either way
            // the next request reports the failure.
            let _ = connection.await;
        });
        let uri = Uri::try_from(target.path_and_query.as_str()).map_err(http::Error::from)?;
        let host = HeaderValue::try_from(target.addr.to_string()).map_err(http::Error::from)?;
        Ok(Self {
            sender,
            uri,
            host,
            headers: target.headers.clone(),
            connection,
        })
    }

    /// Sends one GET and returns the status and the whole body.
    pub async fn fetch(&mut self) -> Result<(StatusCode, Bytes), ProbeError> {
        self.sender.ready().await?;
        let mut builder = Request::get(self.uri.clone()).header(HOST, self.host.clone());
        for (name, value) in &self.headers {
            builder = builder.header(name, value);
        }
        let request = builder.body(Empty::new())?;
        let response = self.sender.send_request(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }

    /// Like [`fetch`](Self::fetch), but anything other than 200 is an error.
    pub async fn fetch_ok(&mut self) -> Result<Bytes, ProbeError> {
        let (status, body) = self.fetch().await?;
        if status != StatusCode::OK {
            let quoted = String::from_utf8_lossy(&body[..body.len().min(MAX_QUOTED_BODY)]);
            return Err(ProbeError::Status {
                status: status.as_u16(),
                body: quoted.into_owned(),
            });
        }
        Ok(body)
    }
}

impl Probe for HttpProbe {
    async fn call(&mut self) -> Result<(), ProbeError> {
        self.fetch_ok().await.map(drop)
    }
}

impl Drop for HttpProbe {
    fn drop(&mut self) {
        self.connection.abort();
    }
}
