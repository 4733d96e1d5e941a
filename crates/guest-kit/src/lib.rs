//! Guest-side glue every JSON route shares, so each component is only its own
//! logic: method and content-type checks, a size-limited body read, JSON
//! responses and `{ "error": { "code", "message" } }` errors, and the response
//! cache kept in the `cache` key-value store; the learning state in the
//! `default` store ([`state`], [`arms`]); expiry of cached responses,
//! candidates and feedback records ([`expiry`], [`expiring`]); and the imports
//! of the steps composed in through WIT: with the `inference` feature the engagement model behind
//! `fbposts:ml/inference` (module `inference`), with `analysis` and `forecast`
//! the pipeline steps of `fbposts:pipeline` (modules `analysis`, `forecast`);
//! the events the steps publish through Redis, with their outbox
//! ([`events`]), and the aggregates the `analytics` consumer keeps ([`analytics`]).
//! The stores and variables are opened and read once per instance
//! ([`instance`]), not once per request. The JSON `POST` routes are
//! exported with [`json_post_service!`] ([`post`]), which asks `wasi:http`
//! for only what they read.

#[cfg(feature = "analysis")]
pub mod analysis;
pub mod analytics;
pub mod arms;
pub mod events;
pub mod expiring;
pub mod expiry;
#[cfg(feature = "forecast")]
pub mod forecast;
#[cfg(feature = "inference")]
pub mod inference;
pub mod instance;
pub mod live;
pub mod page_index;
#[cfg(any(feature = "inference", feature = "forecast"))]
pub mod pages;
pub mod post;
pub mod state;
pub mod suggestions;

use bytes::Bytes;
use fbposts_core::ApiError;
use http_body_util::Full;
use spin_sdk::http::{Method, Request, StatusCode};
use spin_sdk::key_value::Store;
use std::rc::Rc;

/// Largest request body accepted: a maximal post (63,206 chars, up to 4 bytes
/// each) plus room for the other fields.
pub const MAX_BODY_BYTES: usize = 512 * 1024;

/// The response type every component returns.
pub type JsonResponse = http::Response<Full<Bytes>>;

/// Whether a `content-type` is `application/json`, parameters (e.g.
/// `charset`) allowed. A missing type, `text/plain` or any other `+json`
/// type is refused: those are what a web page can send cross-site without a
/// CORS preflight, so requiring `application/json` keeps other sites from
/// posting to a local server.
pub fn is_json_media_type(content_type: Option<&[u8]>) -> bool {
    let Some(value) = content_type.and_then(|v| std::str::from_utf8(v).ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
}

/// A JSON response with `status` and extra headers. The body is one piece
/// with its `content-length`, so a host can send the head and the body in
/// one write (a chunked body after a separate head stalls ~40 ms per request
/// on keep-alive connections of a listener with Nagle's algorithm on).
pub fn json_bytes(status: u16, body: Bytes, headers: &[(&'static str, &str)]) -> JsonResponse {
    let mut builder = http::Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::CONTENT_LENGTH, body.len());
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder
        .body(Full::new(body))
        .expect("static header names and JSON bodies are valid")
}

/// The `405` answer, with `Allow`, for a request whose method is not one of
/// `allowed` (the first is the one the message suggests); `None` when it is.
pub fn refuse_other_methods(req: &Request, allowed: &[Method]) -> Option<JsonResponse> {
    if allowed.contains(req.method()) {
        return None;
    }
    let allow = allowed
        .iter()
        .map(Method::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    let err = ApiError::new(
        405,
        "method_not_allowed",
        format!(
            "{} is not allowed here; use {}",
            req.method(),
            allowed.first().map_or("GET", Method::as_str)
        ),
    );
    Some(json_bytes(
        405,
        Bytes::from(err.to_json().to_string()),
        &[("allow", &allow)],
    ))
}

/// The client error as a JSON response (`Allow: POST` on 405).
pub fn error_response(err: &ApiError) -> JsonResponse {
    let body = Bytes::from(err.to_json().to_string());
    if err.status == 405 {
        json_bytes(err.status, body, &[("allow", "POST")])
    } else {
        json_bytes(err.status, body, &[])
    }
}

/// A server-side failure as a JSON 500, without internals.
pub fn internal_error(what: &str) -> JsonResponse {
    error_response(&ApiError {
        status: 500,
        code: "internal",
        message: format!("internal error: {what}"),
    })
}

/// Whether a response came from the cache (`x-cache` header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheStatus {
    Hit,
    Miss,
}

impl CacheStatus {
    pub fn header(self) -> (&'static str, &'static str) {
        (
            "x-cache",
            if self == CacheStatus::Hit {
                "hit"
            } else {
                "miss"
            },
        )
    }
}

/// Response cache over the `cache` key-value store. A cache that cannot be
/// opened or read is treated as empty: the request still succeeds. Entries
/// expire after `response_cache_lifetime_secs` ([`expiring`]): they are
/// sealed with their expiry, listed in the store's expiry index, read as
/// misses once expired and deleted by the scheduled pruner.
pub struct ResponseCache {
    /// The instance's handle ([`instance::store`]).
    store: Option<Rc<Store>>,
    /// This request's claim on its key in the shared handle, held from the
    /// lookup to the `put` after a miss ([`instance::claim_shared_lookup`]).
    claim: Option<instance::SharedLookup>,
    /// A handle of this request's own, opened when another request of the
    /// instance holds the key: the host's single-flight then sees a second
    /// request and makes it wait for the first one's answer.
    own: Option<Store>,
    namespace: &'static str,
    /// The lifetime of entries put from now on.
    lifetime_secs: u64,
}

impl ResponseCache {
    /// The `cache` store (opened once per instance, [`instance::store`]);
    /// `namespace` keeps routes apart (e.g. "analyze").
    ///
    /// The lifetime variable is read here, before the lookup, not on the
    /// miss path (an instance reads it once, [`instance::variable`]): the
    /// first read is a host call that can suspend the handler, and a
    /// suspension between a miss and its `put` lets another request of the
    /// same reused instance — which shares the store handle, so the host's
    /// single-flight takes it for the leader — miss and compute the same
    /// key again.
    pub async fn open(namespace: &'static str) -> Self {
        let store = match instance::store("cache").await {
            Ok(store) => Some(store),
            Err(err) => {
                eprintln!("{namespace}: response cache unavailable: {err:?}");
                None
            }
        };
        let lifetime_secs = expiry::lifetime_from_variable(
            expiring::RESPONSE_CACHE_LIFETIME,
            expiring::DEFAULT_RESPONSE_CACHE_SECS,
        )
        .await;
        Self {
            store,
            claim: None,
            own: None,
            namespace,
            lifetime_secs,
        }
    }

    /// Entries put from now on live at most `secs` (and at most
    /// `response_cache_lifetime_secs`).
    pub fn limit_lifetime(&mut self, secs: u64) {
        self.lifetime_secs = self.lifetime_secs.min(secs.max(1));
    }

    fn key(&self, key: &str) -> String {
        format!("{}:{key}", self.namespace)
    }

    /// The cached value, unless absent or expired. After a miss this
    /// request leads the key (the host's single-flight) until its `put`.
    pub async fn get(&mut self, key: &str) -> Option<Vec<u8>> {
        let key = self.key(key);
        self.choose_handle(&key).await;
        let store = self.handle()?;
        let found = match store.get(&key).await {
            Ok(value) => value.and_then(|stored| {
                expiry::open(&stored, expiry::now_secs())
                    .value()
                    .map(<[u8]>::to_vec)
            }),
            Err(err) => {
                eprintln!("{}: cache read failed: {err:?}", self.namespace);
                None
            }
        };
        if found.is_some() {
            self.claim = None;
        }
        found
    }

    /// Claims `key` in the instance's handle, or, if another request of the
    /// instance holds it, opens a handle of this request's own. A second
    /// lookup of this request keeps the handle of its first.
    async fn choose_handle(&mut self, key: &str) {
        if self.store.is_none() || self.claim.is_some() || self.own.is_some() {
            return;
        }
        self.claim = instance::claim_shared_lookup(key);
        if self.claim.is_none() {
            match Store::open("cache").await {
                Ok(own) => self.own = Some(own),
                Err(err) => eprintln!("{}: own cache handle: {err:?}", self.namespace),
            }
        }
    }

    /// The handle this request looks up and writes through.
    fn handle(&self) -> Option<&Store> {
        self.own.as_ref().or(self.store.as_deref())
    }

    /// Caches `value` for the cache's lifetime. The index is only written
    /// on this (miss) path, never on a hit.
    pub async fn put(&mut self, key: &str, value: &[u8]) {
        let Some(store) = self.handle() else {
            return;
        };
        let key = self.key(key);
        let now = expiry::now_secs();
        let expires_at = now.saturating_add(self.lifetime_secs);
        match expiring::open_bucket("cache") {
            Ok(bucket) => {
                let index = expiry::ExpiryIndex::new(expiring::WasiIndexStore(&bucket));
                let recorded = instance::with_slot_block("cache", |block| {
                    index.record_in(&key, expires_at, now, block)
                });
                if let Err(err) = recorded {
                    eprintln!("{}: cache index write failed: {err}", self.namespace);
                }
            }
            Err(err) => eprintln!("{}: cache index unavailable: {err}", self.namespace),
        }
        if let Err(err) = store.set(key, &expiry::seal(value, expires_at)).await {
            eprintln!("{}: cache write failed: {err:?}", self.namespace);
        }
        self.claim = None;
    }
}

/// The body of every cached JSON step: answer from the `cache` store under
/// `namespace`/`key` when possible (`x-cache: hit`), else run `compute`,
/// cache its JSON and answer it (`x-cache: miss`). Errors from `compute`
/// become their JSON error responses and are not cached.
pub async fn answer_cached<T: serde::Serialize>(
    namespace: &'static str,
    key: &str,
    compute: impl FnOnce() -> Result<T, ApiError>,
) -> JsonResponse {
    match cached_json(namespace, key, compute).await {
        Ok((body, status)) => json_bytes(200, body, &[status.header()]),
        Err(response) => response,
    }
}

/// What [`answer_cached`] answers, before it becomes a response: the JSON
/// body and whether it came from the cache; an error is its response.
pub async fn cached_json<T: serde::Serialize>(
    namespace: &'static str,
    key: &str,
    compute: impl FnOnce() -> Result<T, ApiError>,
) -> Result<(Bytes, CacheStatus), JsonResponse> {
    let mut cache = ResponseCache::open(namespace).await;
    if let Some(cached) = cache.get(key).await {
        return Ok((Bytes::from(cached), CacheStatus::Hit));
    }
    let value = compute().map_err(|err| error_response(&err))?;
    let Ok(encoded) = serde_json::to_vec(&value) else {
        return Err(internal_error(&format!(
            "could not encode the {namespace} response"
        )));
    };
    cache.put(key, &encoded).await;
    Ok((Bytes::from(encoded), CacheStatus::Miss))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json_type(value: &str) -> bool {
        is_json_media_type(Some(value.as_bytes()))
    }

    #[test]
    fn application_json_with_or_without_parameters_is_json() {
        assert!(json_type("application/json"));
        assert!(json_type("application/json; charset=utf-8"));
        assert!(json_type("Application/JSON;charset=UTF-8"));
        assert!(json_type(" application/json "));
    }

    #[test]
    fn anything_a_page_can_send_cross_site_without_a_preflight_is_not_json() {
        assert!(!is_json_media_type(None));
        for other in [
            "",
            "text/plain",
            "text/plain; x=application/json",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/evil+json",
            "text/plain; a=+json",
            "application/jsonp",
            "application/json-seq",
        ] {
            assert!(!json_type(other), "{other:?}");
        }
    }

    #[test]
    fn a_json_response_carries_its_exact_length() {
        let response = json_bytes(
            200,
            Bytes::from_static(b"{\"ok\":true}"),
            &[("x-cache", "hit")],
        );
        assert_eq!(response.headers()[http::header::CONTENT_LENGTH], "11");
        assert_eq!(response.headers()["x-cache"], "hit");
        let err = ApiError {
            status: 405,
            code: "method_not_allowed",
            message: "use POST".into(),
        };
        let response = error_response(&err);
        assert_eq!(
            response.headers()[http::header::CONTENT_LENGTH],
            err.to_json().to_string().len().to_string().as_str()
        );
    }
}
