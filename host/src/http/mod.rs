//! The HTTP trigger: accepts connections with hyper, routes each request to a
//! component like Spin does (adding Spin's `spin-*` headers), runs it through
//! that component's [`instance::ComponentRuntime`], turns host-side failures
//! into JSON errors, logs one line per request (and counts it in the
//! metrics), answers the metrics path before routing, and shuts down
//! gracefully.

pub mod instance;

use crate::metrics::RequestMetrics;
use crate::routing::{Router, spin_headers};
use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use instance::ComponentRuntime;
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use wasmtime_wasi_http::WasiBody;
use wasmtime_wasi_http::handler::{
    ExpirationError, InstantiationError, ProxyHandler, TrapOrPanicError,
};

/// How long in-flight requests get to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// A routed application, ready to serve.
pub struct HttpApp {
    router: Router,
    handlers: HashMap<String, ProxyHandler<ComponentRuntime>>,
    in_flight: Semaphore,
    request_timeout: Duration,
    metrics: RequestMetrics,
}

impl HttpApp {
    pub fn new(
        router: Router,
        components: Vec<ComponentRuntime>,
        max_concurrent_requests: usize,
        request_timeout: Duration,
        metrics: RequestMetrics,
    ) -> Self {
        let handlers = components
            .into_iter()
            .map(|runtime| (runtime.id.clone(), ProxyHandler::new(runtime)))
            .collect();
        Self {
            router,
            handlers,
            in_flight: Semaphore::new(max_concurrent_requests),
            request_timeout,
            metrics,
        }
    }

    /// Handles one request end to end; never fails (errors become JSON responses).
    pub async fn handle(
        &self,
        mut req: Request<WasiBody>,
        client: SocketAddr,
        local: SocketAddr,
    ) -> Response<WasiBody> {
        if let Some(response) = self.metrics.serve(&req) {
            return response;
        }
        let started = Instant::now();
        let method = req.method().clone();
        let path = req.uri().path().to_string();
        let Some(route) = self.router.route(&path) else {
            let response = json_error(
                StatusCode::NOT_FOUND,
                "not_found",
                &format!("no route matches {path}"),
            );
            log_request(
                &self.metrics,
                &method,
                &path,
                "-",
                "-",
                response.status(),
                started,
            );
            return response;
        };
        let component = route.component_id.to_string();
        let raw_route = route.raw_route.to_string();

        let host = req
            .headers()
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_string)
            .unwrap_or_else(|| local.to_string());
        let path_and_query = req
            .uri()
            .path_and_query()
            .map(|pq| pq.as_str().to_string())
            .unwrap_or_else(|| path.clone());
        let full_url = format!("http://{host}{path_and_query}");
        for (name, value) in spin_headers(&route, &full_url, client) {
            req.headers_mut().insert(name, value);
        }
        // The guest sees an absolute URI, as with Spin.
        if let Ok(uri) = full_url.parse() {
            *req.uri_mut() = uri;
        }

        let Some(handler) = self.handlers.get(&component) else {
            let response = json_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "route points at a component that is not loaded",
            );
            log_request(
                &self.metrics,
                &method,
                &path,
                &raw_route,
                &component,
                response.status(),
                started,
            );
            return response;
        };

        let response = match self.in_flight.acquire().await {
            // The worker behind the handler enforces the same deadline and
            // drops a runaway instance; this answers the client on time.
            Ok(_permit) => {
                match tokio::time::timeout(self.request_timeout, handler.handle((), req)).await {
                    Ok(Ok(response)) => response,
                    Ok(Err(err)) => error_response(&component, err),
                    Err(_elapsed) => timeout_response(&component),
                }
            }
            Err(_) => json_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "shutting_down",
                "the server is shutting down",
            ),
        };
        log_request(
            &self.metrics,
            &method,
            &path,
            &raw_route,
            &component,
            response.status(),
            started,
        );
        response
    }
}

fn log_request(
    metrics: &RequestMetrics,
    method: &http::Method,
    path: &str,
    route: &str,
    component: &str,
    status: StatusCode,
    started: Instant,
) {
    metrics.observe(route, component, status, started.elapsed());
    tracing::info!(
        target: "fbposts::request",
        %method,
        path,
        route,
        component,
        status = status.as_u16(),
        duration_ms = (started.elapsed().as_secs_f64() * 1e6).round() / 1e3,
    );
}

fn timeout_response(component: &str) -> Response<WasiBody> {
    tracing::warn!(component, "request exceeded its deadline");
    json_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "timeout",
        "the component did not answer in time",
    )
}

/// Maps a host-side failure of one request to a JSON error response.
fn error_response(component: &str, err: wasmtime::Error) -> Response<WasiBody> {
    if err.downcast_ref::<ExpirationError>().is_some()
        || matches!(
            err.downcast_ref::<wasmtime::Trap>(),
            Some(wasmtime::Trap::Interrupt)
        )
    {
        return timeout_response(component);
    }
    if let Some(inst) = err.downcast_ref::<InstantiationError<()>>() {
        tracing::error!(component, error = %inst.error, "instantiation failed");
        return json_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the component could not be instantiated",
        );
    }
    if err.downcast_ref::<TrapOrPanicError>().is_some()
        || err.downcast_ref::<wasmtime::Trap>().is_some()
    {
        tracing::error!(component, error = ?err, "component trapped");
        return json_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "component_failed",
            "the component failed while handling the request",
        );
    }
    tracing::error!(component, error = ?err, "request failed");
    json_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "component_failed",
        "the component failed while handling the request",
    )
}

/// `{ "error": { "code", "message" } }` with the given status.
pub fn json_error(status: StatusCode, code: &str, message: &str) -> Response<WasiBody> {
    let body = serde_json::json!({ "error": { "code": code, "message": message } });
    let mut response = Response::new(full_body(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn full_body(bytes: Bytes) -> WasiBody {
    Full::new(bytes)
        .map_err(|never: Infallible| match never {})
        .boxed_unsync()
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets in-flight
/// requests finish (up to [`SHUTDOWN_GRACE`]).
pub async fn serve(
    app: Arc<HttpApp>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let local = listener.local_addr()?;
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, client) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(err) => {
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |req: Request<Incoming>| {
            let app = app.clone();
            async move {
                let req =
                    req.map(|body| body.map_err(wasmtime_wasi_http::Error::from).boxed_unsync());
                Ok::<_, Infallible>(app.handle(req, client, local).await)
            }
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .keep_alive(true)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, "connection ended with an error");
            }
        });
    }
    tracing::info!("shutting down: waiting for in-flight requests");
    tokio::select! {
        _ = graceful.shutdown() => tracing::info!("all connections closed"),
        _ = tokio::time::sleep(SHUTDOWN_GRACE) => tracing::warn!("grace period over; closing"),
    }
    Ok(())
}
