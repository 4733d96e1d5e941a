//! The HTTP trigger: routes each request to a component like Spin does
//! (adding Spin's `spin-*` headers), reads its body on the host within
//! bounds, admits it to a running slot, runs it through that component's
//! [`instance::ComponentRuntime`] before its deadline, turns host-side
//! failures into JSON errors and logs one line per request (and counts it
//! in the metrics, whose path it answers before routing). The listener
//! and its connection limits are in [`server`].
//!
//! One request's path, each step answering on its own when it refuses:
//! route (`404`) → authority (`400 invalid_host`, [`guest_uri`]) → body
//! (`413`/`408`, [`body`]) → slot (`503` + `Retry-After`, [`admission`]) →
//! guest (its answer, or `503 timeout` at the deadline). The deadline starts
//! when the request head has arrived and covers all of it.

pub mod admission;
pub mod body;
pub mod guest_uri;
pub mod instance;
pub mod limits;
pub mod response;
pub mod server;

pub use response::json_error;
pub use server::{ServerLimits, serve};

use crate::metrics::RequestMetrics;
use crate::routing::{RouteMatch, Router, spin_headers};
use admission::{Admission, AdmissionLimits};
use body::BodyLimits;
use http::{HeaderValue, Request, Response, StatusCode};
use instance::ComponentRuntime;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::time::Instant;
use wasmtime_wasi_http::WasiBody;
use wasmtime_wasi_http::handler::ProxyHandler;

/// The request-level limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLimits {
    /// Deadline for one request, from the arrival of its head.
    pub timeout: Duration,
    pub body: BodyLimits,
    pub admission: AdmissionLimits,
}

/// A routed application, ready to serve.
pub struct HttpApp {
    router: Router,
    handlers: HashMap<String, ProxyHandler<ComponentRuntime>>,
    admission: Admission,
    limits: RequestLimits,
    metrics: RequestMetrics,
}

impl HttpApp {
    pub fn new(
        router: Router,
        components: Vec<ComponentRuntime>,
        limits: RequestLimits,
        metrics: RequestMetrics,
    ) -> Self {
        let handlers = components
            .into_iter()
            .map(|runtime| (runtime.id.clone(), ProxyHandler::new(runtime)))
            .collect();
        Self {
            router,
            handlers,
            admission: Admission::new(limits.admission),
            limits,
            metrics,
        }
    }

    /// Handles one request end to end; never fails (errors become JSON responses).
    pub async fn handle(
        &self,
        req: Request<WasiBody>,
        client: SocketAddr,
        local: SocketAddr,
    ) -> Response<WasiBody> {
        if let Some(response) = self.metrics.serve(&req) {
            return response;
        }
        let started = Instant::now();
        let deadline = started + self.limits.timeout;
        let method = req.method().clone();
        let path = req.uri().path().to_string();
        let Some(route) = self.router.route(&path) else {
            let response = json_error(
                StatusCode::NOT_FOUND,
                "not_found",
                &format!("no route matches {path}"),
            );
            self.log_request(&method, &path, "-", "-", response.status(), started);
            return response;
        };
        let component = route.component_id.to_string();
        let raw_route = route.raw_route.to_string();

        let response = match self.handlers.get(&component) {
            Some(handler) => {
                match self
                    .guest_request(req, &route, client, local, started)
                    .await
                {
                    Ok(req) => self.run(handler, &component, req, deadline).await,
                    Err(refused) => refused,
                }
            }
            None => json_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "route points at a component that is not loaded",
            ),
        };
        self.log_request(
            &method,
            &path,
            &raw_route,
            &component,
            response.status(),
            started,
        );
        response
    }

    /// The request as the guest gets it: an absolute URI, Spin's headers and
    /// the whole body; or the answer that refuses it.
    async fn guest_request(
        &self,
        req: Request<WasiBody>,
        route: &RouteMatch<'_>,
        client: SocketAddr,
        local: SocketAddr,
        started: Instant,
    ) -> Result<Request<WasiBody>, Response<WasiBody>> {
        let (mut parts, body) = req.into_parts();
        let uri = guest_uri::guest_uri(&parts.uri, parts.headers.get(http::header::HOST), local)
            .map_err(|err| json_error(StatusCode::BAD_REQUEST, "invalid_host", &err.to_string()))?;
        let body_deadline = started + self.limits.body.timeout.min(self.limits.timeout);
        let bytes = body::read_bounded(&parts.headers, body, &self.limits.body, body_deadline)
            .await
            .map_err(|err| json_error(err.status(), err.code(), &err.to_string()))?;
        for (name, value) in spin_headers(route, &uri.to_string(), client) {
            parts.headers.insert(name, value);
        }
        // The body is whole now: its length is known, whatever the framing was.
        parts.headers.remove(http::header::TRANSFER_ENCODING);
        parts
            .headers
            .insert(http::header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
        // The guest sees an absolute URI, as with Spin.
        parts.uri = uri;
        Ok(Request::from_parts(parts, response::full_body(bytes)))
    }

    /// Logs one line for the request and counts it in the metrics.
    fn log_request(
        &self,
        method: &http::Method,
        path: &str,
        route: &str,
        component: &str,
        status: StatusCode,
        started: Instant,
    ) {
        let elapsed = started.elapsed();
        self.metrics.observe(route, component, status, elapsed);
        tracing::info!(
            target: "fbposts::request",
            %method,
            path,
            route,
            component,
            status = status.as_u16(),
            duration_ms = (elapsed.as_secs_f64() * 1e6).round() / 1e3,
        );
    }

    /// Waits for a running slot and runs the guest, both before `deadline`.
    async fn run(
        &self,
        handler: &ProxyHandler<ComponentRuntime>,
        component: &str,
        req: Request<WasiBody>,
        deadline: Instant,
    ) -> Response<WasiBody> {
        let _slot = match self.admission.admit(deadline).await {
            Ok(slot) => slot,
            Err(refusal) => return response::refused(refusal),
        };
        // The worker behind the handler expires the request at the same
        // deadline and drops a runaway instance; this answers the client on time.
        match tokio::time::timeout_at(deadline, handler.handle(deadline, req)).await {
            Ok(Ok(response)) => response,
            Ok(Err(err)) => response::error_response(component, err),
            Err(_elapsed) => response::timeout_response(component),
        }
    }
}
