//! The host's own answers: `{ "error": { "code", "message" } }` JSON errors
//! with an exact `content-length`, and the mapping of each host-side failure
//! of a request (deadline, instantiation, trap, refusal) to one of them.

use super::admission;
use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use std::convert::Infallible;
use wasmtime_wasi_http::WasiBody;
use wasmtime_wasi_http::handler::{ExpirationError, InstantiationError, TrapOrPanicError};

/// Seconds a refused client is told to wait (`Retry-After`).
const RETRY_AFTER_SECS: &str = "1";

/// `{ "error": { "code", "message" } }` with the given status.
pub fn json_error(status: StatusCode, code: &str, message: &str) -> Response<WasiBody> {
    let body = serde_json::json!({ "error": { "code": code, "message": message } });
    let body = Bytes::from(body.to_string());
    let length = HeaderValue::from(body.len());
    let mut response = Response::new(full_body(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(http::header::CONTENT_LENGTH, length);
    response
}

/// `200` with `value` as its JSON body and an exact `content-length`.
pub fn json_ok(value: &impl serde::Serialize) -> Response<WasiBody> {
    // Serialising our own view types cannot fail.
    let body = Bytes::from(serde_json::to_vec(value).unwrap_or_default());
    let length = HeaderValue::from(body.len());
    let mut response = Response::new(full_body(body));
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(http::header::CONTENT_LENGTH, length);
    response
}

/// A body that is all there in one piece.
pub fn full_body(bytes: Bytes) -> WasiBody {
    Full::new(bytes)
        .map_err(|never: Infallible| match never {})
        .boxed_unsync()
}

/// `503` for a request that was not admitted, with `Retry-After`.
pub fn refused(refusal: admission::Refusal) -> Response<WasiBody> {
    let mut response = match refusal {
        admission::Refusal::QueueFull => json_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            "the server is busy with other requests; retry shortly",
        ),
        admission::Refusal::DeadlinePassed => json_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "the request waited for a free slot until its deadline",
        ),
    };
    response.headers_mut().insert(
        http::header::RETRY_AFTER,
        HeaderValue::from_static(RETRY_AFTER_SECS),
    );
    response
}

pub fn timeout_response(component: &str) -> Response<WasiBody> {
    tracing::warn!(component, "request exceeded its deadline");
    json_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "timeout",
        "the component did not answer in time",
    )
}

/// Maps a host-side failure of one request to a JSON error response.
pub fn error_response(component: &str, err: wasmtime::Error) -> Response<WasiBody> {
    if err.downcast_ref::<ExpirationError>().is_some()
        || matches!(
            err.downcast_ref::<wasmtime::Trap>(),
            Some(wasmtime::Trap::Interrupt)
        )
    {
        return timeout_response(component);
    }
    if let Some(inst) = err.downcast_ref::<InstantiationError<tokio::time::Instant>>() {
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

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_text(response: Response<WasiBody>) -> String {
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn a_json_error_carries_its_exact_length() {
        let response = json_error(StatusCode::BAD_REQUEST, "invalid_host", "bad host");
        let length: usize = response.headers()[http::header::CONTENT_LENGTH]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let text = body_text(response).await;
        assert_eq!(length, text.len());
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&text).unwrap()["error"]["code"],
            "invalid_host"
        );
    }

    #[tokio::test]
    async fn an_overloaded_server_says_when_to_retry() {
        let response = refused(admission::Refusal::QueueFull);
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[http::header::RETRY_AFTER], "1");
        let text = body_text(response).await;
        assert!(text.contains("\"overloaded\""), "{text}");
    }
}
