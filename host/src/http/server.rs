//! The listener: accepts connections, refuses those over the connection caps
//! ([`super::limits`]), serves the rest with hyper's HTTP/1.1 server on a
//! tokio timer — a request head must arrive within the header timeout,
//! counted from the connection's start or from the end of the previous
//! response, so a trickling client (slowloris) and an idle keep-alive
//! connection are both closed by it — and shuts down gracefully: the
//! listener is closed at once, in-flight requests get [`SHUTDOWN_GRACE`].

use super::HttpApp;
use super::limits::{ConnectionLimits, ConnectionSlot, ConnectionTracker, REFUSED_RESPONSE};
use http::Request;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulConnection;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};

/// How long in-flight requests get to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Largest request head hyper buffers (it answers `431` above it); bounds
/// the memory one connection can pin before its request is routed.
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// The connection-level limits of the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    pub connections: ConnectionLimits,
    /// Time to receive a request head, from the connection's start or the
    /// end of the previous response (so also the keep-alive idle timeout).
    pub header_timeout: Duration,
    /// `TCP_NODELAY` on accepted sockets (Nagle off): a response that leaves
    /// in two writes is not held back waiting for the client's delayed ACK.
    pub tcp_nodelay: bool,
}

/// Serves `app` on `listener` until `shutdown` resolves, then stops
/// accepting and lets in-flight requests finish (up to [`SHUTDOWN_GRACE`]).
pub async fn serve(
    app: Arc<HttpApp>,
    listener: TcpListener,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let local = listener.local_addr()?;
    let tracker = ConnectionTracker::new(limits.connections);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, client) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(err) => {
                    // E.g. out of file descriptors: back off instead of spinning.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let slot = match tracker.admit(client.ip()) {
            Ok(slot) => slot,
            Err(refusal) => {
                refuse(stream, client, refusal.as_str());
                continue;
            }
        };
        if limits.tcp_nodelay {
            let _ = stream.set_nodelay(true);
        }
        let connection = serve_connection(&app, stream, client, local, limits.header_timeout);
        let connection = graceful.watch(connection);
        tokio::spawn(run_connection(connection, slot));
    }
    // No new connections from here on: the kernel refuses them.
    drop(listener);
    tracing::info!(
        open = tracker.open(),
        "shutting down: waiting for in-flight requests"
    );
    tokio::select! {
        _ = graceful.shutdown() => tracing::info!("all connections closed"),
        _ = tokio::time::sleep(SHUTDOWN_GRACE) => tracing::warn!("grace period over; closing"),
    }
    Ok(())
}

/// Writes the fixed `503` if the socket takes it now, then closes.
fn refuse(stream: TcpStream, client: SocketAddr, why: &str) {
    tracing::debug!(%client, why, "connection refused");
    let _ = stream.try_write(REFUSED_RESPONSE);
}

fn serve_connection(
    app: &Arc<HttpApp>,
    stream: TcpStream,
    client: SocketAddr,
    local: SocketAddr,
    header_timeout: Duration,
) -> impl GracefulConnection<Error = hyper::Error> + Send + use<> {
    let app = app.clone();
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let app = app.clone();
        async move {
            let req = req.map(|body| body.map_err(wasmtime_wasi_http::Error::from).boxed_unsync());
            Ok::<_, Infallible>(app.handle(req, client, local).await)
        }
    });
    hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .max_buf_size(MAX_HEAD_BYTES)
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service)
}

async fn run_connection(connection: impl Future<Output = hyper::Result<()>>, slot: ConnectionSlot) {
    if let Err(err) = connection.await {
        tracing::debug!(error = %err, "connection ended with an error");
    }
    drop(slot);
}
