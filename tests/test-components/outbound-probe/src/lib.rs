//! Test component for `spin:variables` and outbound HTTP through the real SDK.
//! Routes (from the `spin-path-info` header the host sets):
//!
//! - `GET <route>/var/<name>`: the variable's value as `{"value": ...}`, or
//!   `{"variable_error": "<variant>", "message": ...}` (404 undefined,
//!   400 invalid-name, 500 otherwise).
//! - `GET <route>/forward`: GETs the `upstream_url` variable with an
//!   `authorization` header set to the `auth_header` variable, and returns
//!   `{"status": <upstream status>, "body": <upstream body>}`.
//! - `GET <route>/fetch` with an `x-target-url` header: GETs that URL.
//!
//! Outbound failures come back as 502 `{"http_error": "<ErrorCode debug>"}`.

use spin_sdk::http::body::IncomingBodyExt;
use spin_sdk::http::{IntoResponse, Request, StatusCode};
use spin_sdk::http_service;
use spin_sdk::variables::{self, Error};

fn json(status: StatusCode, value: serde_json::Value) -> (StatusCode, String) {
    (status, value.to_string())
}

fn variable_error(err: Error) -> (StatusCode, String) {
    let (status, name, message) = match err {
        Error::InvalidName(m) => (StatusCode::BAD_REQUEST, "invalid-name", m),
        Error::Undefined(m) => (StatusCode::NOT_FOUND, "undefined", m),
        Error::Provider(m) => (StatusCode::INTERNAL_SERVER_ERROR, "provider", m),
        Error::Other(m) => (StatusCode::INTERNAL_SERVER_ERROR, "other", m),
    };
    json(
        status,
        serde_json::json!({ "variable_error": name, "message": message }),
    )
}

async fn fetch(url: &str, authorization: Option<&str>) -> (StatusCode, String) {
    let mut builder = http::Request::get(url);
    if let Some(value) = authorization {
        builder = builder.header("authorization", value);
    }
    let request = match builder.body(spin_sdk::http::EmptyBody::new()) {
        Ok(request) => request,
        Err(err) => {
            return json(
                StatusCode::BAD_REQUEST,
                serde_json::json!({ "http_error": format!("bad request: {err}") }),
            );
        }
    };
    match spin_sdk::http::send(request).await {
        Ok(response) => {
            let status = response.status().as_u16();
            match response.into_body().bytes().await {
                Ok(body) => json(
                    StatusCode::OK,
                    serde_json::json!({
                        "status": status,
                        "body": String::from_utf8_lossy(&body),
                    }),
                ),
                Err(err) => json(
                    StatusCode::BAD_GATEWAY,
                    serde_json::json!({ "http_error": format!("{err:?}") }),
                ),
            }
        }
        Err(err) => json(
            StatusCode::BAD_GATEWAY,
            serde_json::json!({ "http_error": format!("{err:?}") }),
        ),
    }
}

#[http_service]
async fn handle(req: Request) -> impl IntoResponse {
    let path = req
        .headers()
        .get("spin-path-info")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .trim_start_matches('/')
        .to_string();
    if let Some(name) = path.strip_prefix("var/") {
        return match variables::get(name).await {
            Ok(value) => json(StatusCode::OK, serde_json::json!({ "value": value })),
            Err(err) => variable_error(err),
        };
    }
    match path.as_str() {
        "forward" => {
            let url = match variables::get("upstream_url").await {
                Ok(url) => url,
                Err(err) => return variable_error(err),
            };
            let auth = match variables::get("auth_header").await {
                Ok(auth) => auth,
                Err(err) => return variable_error(err),
            };
            fetch(&url, Some(&auth)).await
        }
        "fetch" => {
            let url = req
                .headers()
                .get("x-target-url")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            fetch(&url, None).await
        }
        _ => (StatusCode::NOT_FOUND, "no such probe".to_string()),
    }
}
