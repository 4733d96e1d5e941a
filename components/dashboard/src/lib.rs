//! `GET /dashboard`: the live dashboard, a static page whose script polls
//! the JSON the app already serves (`/api/alerts`, `/api/experiments`, and
//! the events' analytics summary when the manifest names it) and draws it
//! with the vendored uPlot. Everything is embedded ([`assets`]); this
//! component only picks the file, sets its type, length and cache headers,
//! answers `304` to a matching `If-None-Match`, and says which optional data
//! sources exist (`sources.json`, from the component's variables) so the page
//! never requests an endpoint that is not there.
//!
//! `/dashboard` redirects to `/dashboard/` so the page's relative links
//! resolve below it. Unknown paths are a JSON `404`; methods other than GET
//! a JSON `405`.

mod assets;

use assets::Asset;
use bytes::Bytes;
use fbposts_core::ApiError;
use fbposts_guest_kit::{JsonResponse, error_response, json_bytes, refuse_other_methods};
use http_body_util::Full;
use spin_sdk::http::{Method, Request};
use spin_sdk::http_service;

/// Security headers on every page and asset: nothing but this origin.
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// Variables naming optional data sources (empty: not in this app).
const SOURCE_VARIABLES: &[&str] = &[
    "analytics_summary",
    "analytics_suggestions",
    "analytics_stream",
    "metrics",
];

#[http_service]
async fn handle(req: Request) -> JsonResponse {
    if let Some(refusal) = refuse_other_methods(&req, &[Method::GET]) {
        return refusal;
    }
    let Some(rest) = below_dashboard(&req) else {
        return redirect_to_slash(req.uri().path());
    };
    if rest == "sources.json" {
        return sources().await;
    }
    match assets::find(&rest) {
        Some(asset) => serve(asset, if_none_match(&req)),
        None => error_response(&ApiError::new(
            404,
            "not_found",
            format!("no dashboard file '{rest}'"),
        )),
    }
}

/// The path below `/dashboard/` without its leading slash, or `None` for
/// `/dashboard` itself (which must gain its slash first). Spin's
/// `spin-path-info` header is the part after the route's prefix.
fn below_dashboard(req: &Request) -> Option<String> {
    let info = req
        .headers()
        .get("spin-path-info")
        .and_then(|v| v.to_str().ok())
        .map_or_else(|| path_info_of(req.uri().path()), str::to_string);
    info.strip_prefix('/').map(str::to_string)
}

/// `spin-path-info` worked out from the path when the host did not send it.
fn path_info_of(path: &str) -> String {
    path.strip_prefix("/dashboard").unwrap_or(path).to_string()
}

fn redirect_to_slash(path: &str) -> JsonResponse {
    let location = format!("{path}/");
    let err = ApiError::new(308, "moved", format!("the dashboard is at {location}"));
    json_bytes(
        308,
        Bytes::from(err.to_json().to_string()),
        &[("location", &location)],
    )
}

fn if_none_match(req: &Request) -> Option<String> {
    req.headers()
        .get(http::header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn serve(asset: &Asset, if_none_match: Option<String>) -> JsonResponse {
    let etag = asset.etag();
    let unchanged = if_none_match.is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag));
    let (status, body) = if unchanged {
        (http::StatusCode::NOT_MODIFIED, Bytes::new())
    } else {
        (http::StatusCode::OK, Bytes::from_static(asset.body))
    };
    let mut builder = http::Response::builder()
        .status(status)
        .header(http::header::ETAG, etag)
        .header(http::header::CACHE_CONTROL, asset.cache.header())
        .header(http::header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .header(http::header::CONTENT_SECURITY_POLICY, CSP);
    if status == http::StatusCode::OK {
        builder = builder
            .header(http::header::CONTENT_TYPE, asset.content_type)
            .header(http::header::CONTENT_LENGTH, body.len());
    }
    builder
        .body(Full::new(body))
        .expect("static header names and embedded bodies are valid")
}

/// `sources.json`: each optional source's path, `null` when its variable is
/// empty or unset (the page then shows "no data" without requesting it).
async fn sources() -> JsonResponse {
    let mut listing = serde_json::Map::new();
    for name in SOURCE_VARIABLES {
        let value = spin_sdk::variables::get(name)
            .await
            .ok()
            .filter(|v| v.starts_with('/'))
            .map_or(serde_json::Value::Null, serde_json::Value::String);
        listing.insert((*name).to_string(), value);
    }
    let body = serde_json::json!({ "uplot_version": assets::UPLOT_VERSION, "sources": listing });
    json_bytes(
        200,
        Bytes::from(body.to_string()),
        &[("cache-control", "no-cache")],
    )
}
