//! `GET /api/openapi.json`: the app's HTTP contract, served the Spin way (a
//! component with its own route, so stock `spin up` serves it too). The
//! document is the repository's `openapi.yaml`, converted to JSON by
//! `build.rs` and embedded, so there is one source and nothing to read at
//! run time. Answers with its exact length, an entity tag and a cache
//! lifetime; a matching `If-None-Match` gets `304` with no body.

use bytes::Bytes;
use fbposts_guest_kit::{JsonResponse, json_bytes, refuse_other_methods};
use http_body_util::Full;
use spin_sdk::http::{Method, Request};
use spin_sdk::http_service;

/// The OpenAPI document, compact JSON.
const DOCUMENT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/openapi.json"));
/// Its entity tag, quoted (`"…"`).
const ETAG: &str = include_str!(concat!(env!("OUT_DIR"), "/openapi.etag"));
/// Clients may reuse the document this long (seconds) before revalidating.
const CACHE_CONTROL: &str = "public, max-age=300";

#[http_service]
async fn handle(req: Request) -> JsonResponse {
    if let Some(refusal) = refuse_other_methods(&req, &[Method::GET, Method::HEAD]) {
        return refusal;
    }
    if matches_etag(req.headers().get(http::header::IF_NONE_MATCH)) {
        return not_modified();
    }
    json_bytes(
        200,
        Bytes::from_static(DOCUMENT),
        &[("etag", ETAG), ("cache-control", CACHE_CONTROL)],
    )
}

/// Whether an `If-None-Match` names this document (`*`, or a list of tags
/// holding ours, weak or strong: a GET compares weakly).
fn matches_etag(value: Option<&http::HeaderValue>) -> bool {
    let Some(value) = value.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    value
        .split(',')
        .map(|tag| tag.trim())
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == ETAG)
}

/// `304 Not Modified`: the validators again, no body.
fn not_modified() -> JsonResponse {
    http::Response::builder()
        .status(304)
        .header(http::header::ETAG, ETAG)
        .header(http::header::CACHE_CONTROL, CACHE_CONTROL)
        .body(Full::new(Bytes::new()))
        .expect("static headers are valid")
}
