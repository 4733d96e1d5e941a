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
///
/// An expired entry is still a value to the host, so its single-flight does
/// not start on it, and the requests in flight on a hot key would compute
/// it again (2 to 10 of 64 in the e2e test without what follows). So a request
/// that finds its entry expired looks up the entry's refresh marker
/// ([`refresh_marker`]: one key per key and expiry) instead: the first one
/// misses it, computes and `put`s the value, then the marker; the others
/// wait on the marker in the host's single-flight, then read the fresh
/// value.
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
    /// The refresh marker this request leads, written by `put` after the
    /// fresh value.
    refresh: Option<String>,
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
            refresh: None,
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
    /// request leads the key (the host's single-flight) until its `put`;
    /// after finding it expired, it leads the key's refresh or waits for
    /// another request's.
    pub async fn get(&mut self, key: &str) -> Option<Vec<u8>> {
        let key = self.key(key);
        self.choose_handle(&key).await;
        let stored = self.read(&key).await?;
        let found = match expiry::open(&stored, expiry::now_secs()) {
            expiry::Stored::Expired => self.refresh_or_wait(&key, &stored).await,
            live => live.value().map(<[u8]>::to_vec),
        };
        if found.is_some() {
            self.claim = None;
        }
        found
    }

    /// The stored bytes of `key` through this request's handle.
    async fn read(&self, key: &str) -> Option<Vec<u8>> {
        match self.handle()?.get(key).await {
            Ok(stored) => stored,
            Err(err) => {
                eprintln!("{}: cache read failed: {err:?}", self.namespace);
                None
            }
        }
    }

    /// `key` was found `expired`: the fresh value once another request has
    /// refreshed it (its marker is there, or appears while the host makes
    /// this request wait), else `None` and this request refreshes it.
    async fn refresh_or_wait(&mut self, key: &str, expired: &[u8]) -> Option<Vec<u8>> {
        let marker = refresh_marker(key, expired);
        if self.read(&marker).await.is_none() {
            self.refresh = Some(marker);
            return None;
        }
        let fresh = self.read(key).await?;
        expiry::open(&fresh, expiry::now_secs())
            .value()
            .map(<[u8]>::to_vec)
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

    /// Caches `value` for the cache's lifetime, then the refresh marker
    /// this request leads, if any. The index is only written on this (miss)
    /// path, never on a hit.
    pub async fn put(&mut self, key: &str, value: &[u8]) {
        let key = self.key(key);
        let now = expiry::now_secs();
        self.put_sealed(&key, value, now, now.saturating_add(self.lifetime_secs))
            .await;
        if let Some(marker) = self.refresh.take() {
            let lifetime = REFRESH_MARKER_SECS.min(self.lifetime_secs);
            self.put_sealed(&marker, b"1", now, now.saturating_add(lifetime))
                .await;
        }
        self.claim = None;
    }

    /// Indexes `key`'s expiry (written at `now`) and writes `value` sealed
    /// with it.
    async fn put_sealed(&self, key: &str, value: &[u8], now: u64, expires_at: u64) {
        let Some(store) = self.handle() else {
            return;
        };
        match expiring::open_bucket("cache") {
            Ok(bucket) => {
                let index = expiry::ExpiryIndex::new(expiring::WasiIndexStore(&bucket));
                let recorded = instance::with_slot_block("cache", |block| {
                    index.record_in(key, expires_at, now, block)
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
    }
}

/// How long a refresh marker stays: longer than the host's single-flight
/// wait (5 s), so every request that waited on it still finds it.
const REFRESH_MARKER_SECS: u64 = 60;

/// The key whose lookup decides who refreshes `key` after the entry
/// `expired` (its stored bytes): one per key and expiry, so the marker of
/// an earlier refresh never answers for a later one.
pub fn refresh_marker(key: &str, expired: &[u8]) -> String {
    let generation = expiry::expires_at(expired).unwrap_or_default();
    format!("{key}#refreshed-after:{generation}")
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

    #[test]
    fn each_expiry_of_a_key_has_its_own_refresh_marker() {
        let first = expiry::seal(b"{}", 1_800_000_000);
        let second = expiry::seal(b"{}", 1_800_003_600);
        assert_eq!(
            refresh_marker("analyze:k", &first),
            "analyze:k#refreshed-after:1800000000"
        );
        assert_ne!(
            refresh_marker("analyze:k", &first),
            refresh_marker("analyze:k", &second)
        );
        assert_ne!(
            refresh_marker("analyze:k", &first),
            refresh_marker("analyze:j", &first)
        );
    }

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
