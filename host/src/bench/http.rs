//! `fbposts bench`: a small closed-loop HTTP load generator for our routes
//! (like `wrk`, but it can vary a JSON field per request to measure cache
//! misses). N connections each keep one request in flight for the duration;
//! it prints requests/s and latency percentiles.

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use clap::Args;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Target URL, e.g. http://127.0.0.1:3000/api/analyze
    #[arg(long)]
    url: String,
    /// JSON body to POST (without it: GET).
    #[arg(long)]
    body: Option<String>,
    /// Read the JSON body from a file.
    #[arg(long, conflicts_with = "body")]
    body_file: Option<PathBuf>,
    /// Make this field of the body unique on every request (defeats caches):
    /// a string gets a counter appended, a non-negative integer counts up from its value.
    #[arg(long)]
    vary_field: Option<String>,
    /// Connections, each with one request in flight.
    #[arg(short = 'c', long, default_value_t = 1)]
    connections: usize,
    /// Measurement time in seconds (after a 1 s warm-up).
    #[arg(short = 'd', long, default_value_t = 10.0)]
    duration: f64,
}

struct Target {
    authority: String,
    host: String,
    port: u16,
    path: String,
    body: Option<serde_json::Value>,
    vary_field: Option<String>,
    counter: AtomicU64,
}

impl Target {
    fn request(&self) -> Result<Request<Full<Bytes>>> {
        let builder = Request::builder()
            .uri(&self.path)
            .header(http::header::HOST, &self.authority);
        Ok(match &self.body {
            None => builder.method("GET").body(Full::new(Bytes::new()))?,
            Some(body) => {
                let mut body = body.clone();
                if let Some(field) = &self.vary_field {
                    let n = self.counter.fetch_add(1, Ordering::Relaxed);
                    match body.get_mut(field) {
                        Some(serde_json::Value::String(s)) => s.push_str(&format!(" {n}")),
                        // Integers count up from their value (e.g. `page_likes`).
                        Some(value @ serde_json::Value::Number(_)) => {
                            if let Some(start) = value.as_u64() {
                                *value = (start + n).into();
                            }
                        }
                        _ => {}
                    }
                }
                builder
                    .method("POST")
                    .header(http::header::CONTENT_TYPE, "application/json")
                    .body(Full::new(Bytes::from(body.to_string())))?
            }
        })
    }
}

pub async fn run(args: BenchArgs) -> Result<()> {
    let uri: http::Uri = args.url.parse().context("parsing --url")?;
    if uri.scheme_str() != Some("http") {
        bail!("only http:// URLs are supported");
    }
    let host = uri.host().context("URL has no host")?.to_string();
    let port = uri.port_u16().unwrap_or(80);
    let body = match (&args.body, &args.body_file) {
        (Some(b), _) => Some(serde_json::from_str(b).context("--body is not JSON")?),
        (_, Some(path)) => {
            Some(serde_json::from_slice(&std::fs::read(path)?).context("--body-file is not JSON")?)
        }
        _ => None,
    };
    let target = Arc::new(Target {
        authority: format!("{host}:{port}"),
        host,
        port,
        path: uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_else(|| "/".into()),
        body,
        vary_field: args.vary_field.clone(),
        counter: AtomicU64::new(0),
    });

    let warmup = Duration::from_secs(1);
    let measure = Duration::from_secs_f64(args.duration);
    let start = Instant::now();
    let measure_from = start + warmup;
    let end = measure_from + measure;
    let mut tasks = Vec::new();
    for _ in 0..args.connections.max(1) {
        let target = target.clone();
        tasks.push(tokio::spawn(async move {
            connection_loop(target, measure_from, end).await
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0u64;
    let mut statuses = std::collections::BTreeMap::<u16, u64>::new();
    for task in tasks {
        let result = task.await??;
        latencies.extend(result.latencies_us);
        errors += result.errors;
        for (status, count) in result.statuses {
            *statuses.entry(status).or_default() += count;
        }
    }
    latencies.sort_unstable();
    let n = latencies.len();
    let pct = |p: f64| -> f64 {
        if n == 0 {
            return f64::NAN;
        }
        let idx = ((p / 100.0) * (n as f64 - 1.0)).round() as usize;
        latencies[idx] as f64 / 1000.0
    };
    let rps = n as f64 / measure.as_secs_f64();
    let report = serde_json::json!({
        "url": args.url,
        "connections": args.connections,
        "seconds": measure.as_secs_f64(),
        "requests": n,
        "requests_per_second": (rps * 10.0).round() / 10.0,
        "latency_ms": { "p50": pct(50.0), "p90": pct(90.0), "p99": pct(99.0), "max": pct(100.0) },
        "errors": errors,
        "statuses": statuses,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

#[derive(Default)]
struct ConnectionResult {
    latencies_us: Vec<u64>,
    errors: u64,
    statuses: std::collections::BTreeMap<u16, u64>,
}

async fn connection_loop(
    target: Arc<Target>,
    measure_from: Instant,
    end: Instant,
) -> Result<ConnectionResult> {
    let mut result = ConnectionResult::default();
    let mut sender = None;
    while Instant::now() < end {
        if sender.is_none() {
            let stream =
                tokio::net::TcpStream::connect((target.host.as_str(), target.port)).await?;
            stream.set_nodelay(true)?;
            let (s, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
            tokio::spawn(conn);
            sender = Some(s);
        }
        let s = sender.as_mut().unwrap();
        let request = target.request()?;
        let sent = Instant::now();
        let outcome = async {
            s.ready().await?;
            let response = s.send_request(request).await?;
            let status = response.status().as_u16();
            response.into_body().collect().await?;
            anyhow::Ok(status)
        }
        .await;
        let done = Instant::now();
        match outcome {
            Ok(status) if sent >= measure_from && done <= end => {
                result
                    .latencies_us
                    .push(done.duration_since(sent).as_micros() as u64);
                *result.statuses.entry(status).or_default() += 1;
            }
            Ok(_) => {}
            Err(_) => {
                result.errors += 1;
                sender = None;
            }
        }
    }
    Ok(result)
}
