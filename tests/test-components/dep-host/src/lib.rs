//! Test-only HTTP component with the `dep-probe` dependency composed in:
//! `GET <route>/<capability>` (with an optional `x-target-url` header for
//! `outbound`) asks the dependency to try that capability and answers 200
//! with what it said. The component itself is granted the store, the
//! variable and the host; whether its dependency gets them is the test.

use spin_sdk::http::{IntoResponse, Request, StatusCode};
use spin_sdk::http_service;

mod bindings {
    spin_sdk::wit_bindgen::generate!({
        path: "../dep-probe/wit",
        world: "fbposts-test:probe/probe-user",
        runtime_path: "::spin_sdk::wit_bindgen::rt",
    });
}

fn header(req: &Request, name: &str) -> String {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

#[http_service]
async fn handle(req: Request) -> impl IntoResponse {
    let capability = header(&req, "spin-path-info")
        .trim_start_matches('/')
        .to_string();
    let url = header(&req, "x-target-url");
    let said = bindings::fbposts_test::probe::probe::try_capability(capability, url).await;
    (StatusCode::OK, said)
}
