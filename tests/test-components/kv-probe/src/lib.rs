//! Test component that exercises `spin:key-value` through the real SDK:
//! `PUT <route>/<label>/<key>` stores the body, `GET <route>/<label>/<key>`
//! reads it, `DELETE` removes it, `GET <route>/<label>` lists keys. The label
//! and key come from the `spin-path-info` header the host sets. Store errors come back
//! as `{"kv_error": "<variant>"}` with status 403 (access-denied), 404
//! (no-such-store) or 500, so tests can see exactly what the host returned.

use spin_sdk::http::body::IncomingBodyExt;
use spin_sdk::http::{IntoResponse, Method, Request, StatusCode};
use spin_sdk::http_service;
use spin_sdk::key_value::{Error, Store};

fn kv_error(err: Error) -> (StatusCode, String) {
    let (status, name) = match &err {
        Error::AccessDenied => (StatusCode::FORBIDDEN, "access-denied".to_string()),
        Error::NoSuchStore => (StatusCode::NOT_FOUND, "no-such-store".to_string()),
        Error::StoreTableFull => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "store-table-full".to_string(),
        ),
        Error::Other(msg) => (StatusCode::INTERNAL_SERVER_ERROR, format!("other: {msg}")),
    };
    (status, serde_json::json!({ "kv_error": name }).to_string())
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
    let method = req.method().clone();
    let (label, key) = match path.split_once('/') {
        Some((label, key)) => (label.to_string(), Some(key.to_string())),
        None => (path.clone(), None),
    };
    let store = match Store::open(&label).await {
        Ok(store) => store,
        Err(err) => return kv_error(err),
    };
    let result = match (method, key) {
        (Method::PUT, Some(key)) => {
            let body = req.into_body().bytes().await.unwrap_or_default();
            store
                .set(&key, &body)
                .await
                .map(|()| (StatusCode::OK, "stored".to_string()))
        }
        (Method::GET, Some(key)) => store.get(&key).await.map(|value| match value {
            Some(value) => (StatusCode::OK, String::from_utf8_lossy(&value).into_owned()),
            None => (StatusCode::NOT_FOUND, "missing".to_string()),
        }),
        (Method::DELETE, Some(key)) => store
            .delete(&key)
            .await
            .map(|()| (StatusCode::OK, "deleted".to_string())),
        (Method::GET, None) => match store.get_keys().await.collect().await {
            Ok(mut keys) => {
                keys.sort();
                Ok((StatusCode::OK, serde_json::json!(keys).to_string()))
            }
            Err(err) => Err(err),
        },
        _ => Ok((StatusCode::METHOD_NOT_ALLOWED, "unsupported".to_string())),
    };
    result.unwrap_or_else(kv_error)
}
