//! Reproduces the keep-alive stall of a listener that leaves Nagle's
//! algorithm on (no `TCP_NODELAY`, as stock `spin up`'s listener), and shows
//! which responses avoid it.
//!
//! A hyper HTTP/1.1 server on 127.0.0.1, Nagle on, answers two ways:
//! - `/split`: the head leaves first and the body a moment later (its first
//!   poll is pending, as when a guest's body stream is not ready yet), so
//!   the response goes out in two small writes, `transfer-encoding: chunked`.
//!   Nagle holds the second write until the first is ACKed, and the client
//!   delays that ACK (up to 40 ms on Linux) because the response is not
//!   complete: every request on a kept-alive connection waits for the timer.
//! - `/whole`: the body is ready with the head and has a `content-length`
//!   (what `fbposts-guest-kit` answers), so hyper writes both at once.
//!
//! A keep-alive client (its own socket with `TCP_NODELAY`, like curl) sends
//! `--requests` sequential requests per path and prints the latencies.
//! `--url http://host:port/path` measures a running server the same way
//! instead (`--body JSON` makes the requests POSTs of that body), e.g.
//! `fbposts up --tcp-nagle` serving the app.
//!
//! ```text
//! cargo run --release -p fbposts --example nagle_stall [-- --requests 200]
//! ```

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Body, Frame, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

const BODY: &[u8] = br#"{"score":0.94,"grade":"A","cache":"hit"}"#;

/// A body whose only frame arrives after the first poll (sent by a task);
/// `None` once that frame was given.
struct LateBody(Option<oneshot::Receiver<Bytes>>);

impl Body for LateBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let Some(receiver) = self.0.as_mut() else {
            return Poll::Ready(None);
        };
        let frame = std::task::ready!(Pin::new(receiver).poll(cx));
        self.0 = None;
        Poll::Ready(frame.ok().map(|data| Ok(Frame::data(data))))
    }
}

type AnyBody = http_body_util::combinators::BoxBody<Bytes, Infallible>;

async fn answer(request: Request<Incoming>) -> Result<Response<AnyBody>, Infallible> {
    if request.uri().path() == "/split" {
        let (send, receive) = oneshot::channel();
        tokio::spawn(async move {
            tokio::task::yield_now().await;
            let _ = send.send(Bytes::from_static(BODY));
        });
        return Ok(Response::new(LateBody(Some(receive)).boxed()));
    }
    Ok(Response::builder()
        .header("content-length", BODY.len())
        .body(Full::new(Bytes::from_static(BODY)).boxed())
        .expect("a valid response"))
}

/// The server with Nagle left on; returns its address.
async fn nagle_server() -> anyhow::Result<std::net::SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            // Deliberately no `stream.set_nodelay(true)`.
            let service = hyper::service::service_fn(answer);
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service),
            );
        }
    });
    Ok(address)
}

/// Latencies of `count` sequential requests of `path` on one kept-alive
/// connection: GETs, or POSTs of the JSON `body`.
async fn measure(
    address: &str,
    host: &str,
    path: &str,
    count: usize,
    body: Option<&str>,
) -> anyhow::Result<Vec<Duration>> {
    let stream = TcpStream::connect(address).await?;
    stream.set_nodelay(true)?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let mut latencies = Vec::with_capacity(count);
    for _ in 0..count {
        let request = match body {
            None => Request::get(path)
                .header("host", host)
                .body(Empty::<Bytes>::new().boxed())?,
            Some(json) => Request::post(path)
                .header("host", host)
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(json.to_owned())).boxed())?,
        };
        let started = Instant::now();
        let response = sender.send_request(request).await?;
        response.into_body().collect().await?;
        latencies.push(started.elapsed());
    }
    Ok(latencies)
}

fn report(label: &str, mut latencies: Vec<Duration>) {
    latencies.sort();
    let stalls = latencies
        .iter()
        .filter(|d| **d >= Duration::from_millis(30))
        .count();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{label:<28} n={:<5} p50 {:>8.3} ms  p90 {:>8.3} ms  p99 {:>8.3} ms  max {:>8.3} ms  ≥30 ms: {stalls}",
        latencies.len(),
        ms(at(0.5)),
        ms(at(0.9)),
        ms(at(0.99)),
        ms(at(1.0)),
    );
}

struct Args {
    requests: usize,
    url: Option<String>,
    body: Option<String>,
}

fn args() -> anyhow::Result<Args> {
    let mut parsed = Args {
        requests: 100,
        url: None,
        body: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .ok_or_else(|| anyhow::anyhow!("{flag} needs a value"))?;
        match flag.as_str() {
            "--requests" => parsed.requests = value.parse()?,
            "--url" => parsed.url = Some(value),
            "--body" => parsed.body = Some(value),
            _ => anyhow::bail!("unknown flag {flag} (--requests N, --url URL, --body JSON)"),
        }
    }
    Ok(parsed)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = args()?;
    if let Some(url) = &args.url {
        let uri: hyper::Uri = url.parse()?;
        let authority = uri
            .authority()
            .ok_or_else(|| anyhow::anyhow!("{url}: no host"))?;
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        let latencies = measure(
            authority.as_str(),
            authority.as_str(),
            path,
            args.requests,
            args.body.as_deref(),
        )
        .await?;
        report(url, latencies);
        return Ok(());
    }
    let address = nagle_server().await?.to_string();
    for path in ["/split", "/whole"] {
        let latencies = measure(&address, &address, path, args.requests, None).await?;
        report(&format!("Nagle on, {path}"), latencies);
    }
    Ok(())
}
