//! The physical limit for the benchmark table (`scripts/bench_table.py`): a
//! native hyper HTTP/1.1 server answering every request with the bytes the
//! trivial test component answers (`ok`, with a `content-length`), on one
//! thread, `TCP_NODELAY` like our host. No Wasm, no routing, no key-value:
//! what is left is the kernel's network stack and hyper.
//!
//! ```text
//! cargo run --release -p fbposts --example native_peer -- 127.0.0.1:3999
//! ```

use bytes::Bytes;
use http_body_util::Full;
use hyper::Response;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use tokio::net::TcpListener;

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3999".into());
    let listener = TcpListener::bind(&address).await?;
    println!("native peer listening on http://{}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        let service = hyper::service::service_fn(|_request| async {
            Ok::<_, Infallible>(
                Response::builder()
                    .header("content-type", "text/plain")
                    .body(Full::new(Bytes::from_static(b"ok")))
                    .expect("a valid response"),
            )
        });
        tokio::spawn(
            hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service),
        );
    }
}
