//! Guest-side glue every JSON route shares, so each component is only its own
//! logic: method and content-type checks, a size-limited body read, JSON
//! responses and `{ "error": { "code", "message" } }` errors, and the response
//! cache kept in the `cache` key-value store; the learning state in the
//! `default` store ([`state`], [`arms`]); and the imports of the steps composed in
//! through WIT: with the `inference` feature the engagement model behind
//! `fbposts:ml/inference` ([`inference`]), with `analysis` and `forecast`
//! the pipeline steps of `fbposts:pipeline` ([`analysis`], [`forecast`]).

#[cfg(feature = "analysis")]
pub mod analysis;
pub mod arms;
#[cfg(feature = "forecast")]
pub mod forecast;
#[cfg(feature = "inference")]
pub mod inference;
#[cfg(any(feature = "inference", feature = "forecast"))]
pub mod pages;
pub mod state;

use bytes::Bytes;
use fbposts_core::ApiError;
use http_body_util::{BodyExt, Full, Limited};
use spin_sdk::http::{Method, Request, StatusCode};
use spin_sdk::key_value::Store;

/// Largest request body accepted: a maximal post (63,206 chars, up to 4 bytes
/// each) plus room for the other fields.
pub const MAX_BODY_BYTES: usize = 512 * 1024;

/// The response type every component returns.
pub type JsonResponse = http::Response<Full<Bytes>>;

/// Reads the body of a `POST` with a JSON (or unspecified) content type.
pub async fn read_json_post(req: Request) -> Result<Bytes, ApiError> {
    if req.method() != Method::POST {
        return Err(ApiError {
            status: 405,
            code: "method_not_allowed",
            message: format!(
                "{} is not allowed here; use POST with a JSON body",
                req.method()
            ),
        });
    }
    if let Some(content_type) = req.headers().get(http::header::CONTENT_TYPE) {
        let content_type = content_type.to_str().unwrap_or("").to_ascii_lowercase();
        if !content_type.starts_with("application/json") && !content_type.contains("+json") {
            return Err(ApiError {
                status: 415,
                code: "unsupported_media_type",
                message: format!(
                    "content-type {content_type:?} is not supported; send application/json"
                ),
            });
        }
    }
    match Limited::new(req.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
    {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err)
            if err
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(ApiError {
                status: 413,
                code: "body_too_large",
                message: format!("the request body exceeds {MAX_BODY_BYTES} bytes"),
            })
        }
        Err(err) => Err(ApiError {
            status: 400,
            code: "unreadable_body",
            message: format!("could not read the request body: {err}"),
        }),
    }
}

/// A JSON response with `status` and extra headers.
pub fn json_bytes(status: u16, body: Bytes, headers: &[(&'static str, &str)]) -> JsonResponse {
    let mut builder = http::Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header(http::header::CONTENT_TYPE, "application/json");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder
        .body(Full::new(body))
        .expect("static header names and JSON bodies are valid")
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
/// opened or read is treated as empty: the request still succeeds.
pub struct ResponseCache {
    store: Option<Store>,
    namespace: &'static str,
}

impl ResponseCache {
    /// Opens the `cache` store; `namespace` keeps routes apart (e.g. "analyze").
    pub async fn open(namespace: &'static str) -> Self {
        let store = match Store::open("cache").await {
            Ok(store) => Some(store),
            Err(err) => {
                eprintln!("{namespace}: response cache unavailable: {err:?}");
                None
            }
        };
        Self { store, namespace }
    }

    fn key(&self, key: &str) -> String {
        format!("{}:{key}", self.namespace)
    }

    pub async fn get(&self, key: &str) -> Option<Vec<u8>> {
        let store = self.store.as_ref()?;
        match store.get(self.key(key)).await {
            Ok(value) => value,
            Err(err) => {
                eprintln!("{}: cache read failed: {err:?}", self.namespace);
                None
            }
        }
    }

    pub async fn put(&self, key: &str, value: &[u8]) {
        if let Some(store) = &self.store
            && let Err(err) = store.set(self.key(key), value).await
        {
            eprintln!("{}: cache write failed: {err:?}", self.namespace);
        }
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
    let cache = ResponseCache::open(namespace).await;
    if let Some(cached) = cache.get(key).await {
        return json_bytes(200, Bytes::from(cached), &[CacheStatus::Hit.header()]);
    }
    let value = match compute() {
        Ok(value) => value,
        Err(err) => return error_response(&err),
    };
    let Ok(encoded) = serde_json::to_vec(&value) else {
        return internal_error(&format!("could not encode the {namespace} response"));
    };
    cache.put(key, &encoded).await;
    json_bytes(200, Bytes::from(encoded), &[CacheStatus::Miss.header()])
}
