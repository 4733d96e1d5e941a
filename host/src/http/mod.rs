//! The HTTP trigger: routes each request to a component like Spin does
//! (adding Spin's `spin-*` headers), reads its body on the host within
//! bounds, admits it to a running slot, runs it through that component's
//! [`instance::ComponentRuntime`] before its deadline, turns host-side
//! failures into JSON errors and logs one line per request (the access
//! log, [`request_log`]) and counts it in the metrics, whose path it answers
//! before routing. The listener and its connection limits are in [`server`].
//!
//! One request's path, each step answering on its own when it refuses:
//! route (`404`) → authority (`400 invalid_host`, [`guest_uri`]) → body
//! (`413`/`408`, [`body`]) → slot (`503` + `Retry-After`, [`admission`]) →
//! guest (its answer, its head held at most 5 ms until its body has ended
//! ([`settle`]), or `503 timeout` at the deadline). The deadline starts
//! when the request head has arrived and covers all of it.

pub mod admission;
pub mod body;
pub mod guest_uri;
pub mod instance;
pub mod limits;
pub mod response;
pub mod server;
pub mod settle;

pub use response::json_error;
pub use server::{ServerLimits, serve};

use crate::metrics::RequestMetrics;
use crate::precache::{self, Precache, Replay, Replayed};
use crate::request_log::{self, RequestLine};
use crate::routing::{RouteMatch, Router, spin_headers};
use admission::{Admission, AdmissionLimits};
use body::BodyLimits;
use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use instance::ComponentRuntime;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
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
    precache: Option<Precache>,
}

impl HttpApp {
    pub fn new(
        router: Router,
        components: Vec<ComponentRuntime>,
        limits: RequestLimits,
        metrics: RequestMetrics,
        precache: Option<Precache>,
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
            precache,
        }
    }

    /// Starts pre-caching's worker, if pre-caching is on.
    pub fn start_precache(self: &Arc<Self>) {
        if let Some(precache) = &self.precache {
            precache.start(Arc::downgrade(self));
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
                    Ok((req, body)) => {
                        let watched = self.watched(&component, &req, body, client);
                        let response = self.run(handler, &component, req, deadline).await;
                        match watched {
                            Some(seen) => self.observe(seen, response, deadline).await,
                            None => response,
                        }
                    }
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
    /// the whole body (also returned on its own); or the answer that refuses it.
    async fn guest_request(
        &self,
        req: Request<WasiBody>,
        route: &RouteMatch<'_>,
        client: SocketAddr,
        local: SocketAddr,
        started: Instant,
    ) -> Result<(Request<WasiBody>, Bytes), Response<WasiBody>> {
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
        // Only the host says a request was computed ahead (see `precache`).
        parts.headers.remove(precache::COMPUTED_AHEAD_HEADER);
        // The body is whole now: its length is known, whatever the framing was.
        parts.headers.remove(http::header::TRANSFER_ENCODING);
        parts
            .headers
            .insert(http::header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
        // The guest sees an absolute URI, as with Spin.
        parts.uri = uri;
        Ok((
            Request::from_parts(parts, response::full_body(bytes.clone())),
            bytes,
        ))
    }

    /// What pre-caching should see of this request, if it watches its
    /// component and the request is a POST of a bounded body.
    fn watched(
        &self,
        component: &str,
        req: &Request<WasiBody>,
        body: Bytes,
        client: SocketAddr,
    ) -> Option<PendingObservation> {
        let precache = self.precache.as_ref()?;
        if req.method() != http::Method::POST
            || !precache.watches(component)
            || body.len() > precache::MAX_OBSERVED_BYTES
        {
            return None;
        }
        Some(PendingObservation {
            session: client.to_string(),
            component: component.to_string(),
            path: req.uri().path().to_string(),
            authority: req.uri().authority()?.to_string(),
            body,
        })
    }

    /// Hands a `200` answer of at most [`precache::MAX_OBSERVED_BYTES`]
    /// (read whole before `deadline`: guests answer in one piece) to
    /// pre-caching with its request, and answers it.
    async fn observe(
        &self,
        pending: PendingObservation,
        response: Response<WasiBody>,
        deadline: Instant,
    ) -> Response<WasiBody> {
        let (Some(precache), StatusCode::OK) = (&self.precache, response.status()) else {
            return response;
        };
        let length = response
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
        if length.is_none_or(|n| n > precache::MAX_OBSERVED_BYTES) {
            return response;
        }
        let (parts, body) = response.into_parts();
        let collected = tokio::time::timeout_at(deadline, http_body_util::BodyExt::collect(body));
        let answer = match collected.await {
            Ok(Ok(collected)) => collected.to_bytes(),
            Ok(Err(err)) => return response::error_response(&pending.component, err.into()),
            Err(_elapsed) => return response::timeout_response(&pending.component),
        };
        precache.observe(pending.seen(answer.clone()));
        Response::from_parts(parts, response::full_body(answer))
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
        request_log::record(&RequestLine {
            method,
            path,
            route,
            component,
            status,
            elapsed,
        });
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
            Ok(Ok(response)) => settle::settle(component, response, deadline).await,
            // The worker's timer for the same deadline ended the instance and
            // was polled first (timers fired together: late, on a runtime
            // thread a guest kept busy). The request timed out all the same.
            Ok(Err(_ended)) if Instant::now() >= deadline => response::timeout_response(component),
            Ok(Err(err)) => response::error_response(component, err),
            Err(_elapsed) => response::timeout_response(component),
        }
    }
}

/// A watched request, until its answer is known.
struct PendingObservation {
    session: String,
    component: String,
    path: String,
    authority: String,
    body: Bytes,
}

impl PendingObservation {
    fn seen(self, answer: Bytes) -> precache::Seen {
        precache::Seen {
            session: self.session,
            component: self.component,
            path: self.path,
            authority: self.authority,
            body: self.body,
            answer,
        }
    }
}

/// Pre-caching replays through the component's handler directly: no
/// admission slot (it runs only when the foreground is idle), no request
/// log, no request metrics.
impl Replay for HttpApp {
    async fn replay(&self, request: Replayed<'_>) -> bool {
        let prediction = request.prediction;
        let (Some(handler), Some(route)) = (
            self.handlers.get(&prediction.component),
            self.router.route(&prediction.path),
        ) else {
            return false;
        };
        let Ok(req) = Request::post(prediction.path.as_str())
            .header(http::header::HOST, request.authority)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(response::full_body(Bytes::from(
                prediction.body.to_string(),
            )))
        else {
            return false;
        };
        let nobody = SocketAddr::from(([127, 0, 0, 1], 0));
        let started = Instant::now();
        let Ok((mut req, _)) = self
            .guest_request(req, &route, nobody, nobody, started)
            .await
        else {
            return false;
        };
        req.headers_mut().insert(
            precache::COMPUTED_AHEAD_HEADER,
            http::HeaderValue::from_static("1"),
        );
        let deadline = started + self.limits.timeout;
        match tokio::time::timeout_at(deadline, handler.handle(deadline, req)).await {
            Ok(Ok(response)) => {
                let ok = response.status() == StatusCode::OK;
                let drained = http_body_util::BodyExt::collect(response.into_body()).await;
                ok && drained.is_ok()
            }
            _ => false,
        }
    }

    fn idle(&self) -> bool {
        self.admission.idle()
    }
}
