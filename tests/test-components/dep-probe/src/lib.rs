//! Test-only dependency (`fbposts-test:probe/probe`): composed into
//! `dep-host`, it tries one capability of the component it is composed into
//! — open the `default` store, read the `llm_api_key` variable (a secret, as
//! in the app's `generate`), GET a URL, read the `PROBE_SECRET` environment
//! variable — and says what happened (`loop` spins forever instead, for the
//! deadline test). Without `inherit_configuration` the host must deny each
//! one (the call traps; the environment is empty); with it, each works.

/// Generated bindings; exporting needs the `unsafe` ABI glue wit-bindgen emits.
#[allow(unsafe_code)]
mod bindings {
    spin_sdk::wit_bindgen::generate!({
        path: "wit",
        world: "fbposts-test:probe/probe-provider",
        runtime_path: "::spin_sdk::wit_bindgen::rt",
    });
    use super::Probe;
    export!(Probe with_types_in self);
}

use bindings::exports::fbposts_test::probe::probe::Guest;

struct Probe;

impl Guest for Probe {
    async fn try_capability(capability: String, url: String) -> String {
        match capability.as_str() {
            "store" => match spin_sdk::key_value::Store::open("default").await {
                Ok(_) => "ok: opened the default store".into(),
                Err(err) => format!("error: {err:?}"),
            },
            "variable" => match spin_sdk::variables::get("llm_api_key").await {
                Ok(value) => format!("ok: read {} characters", value.len()),
                Err(err) => format!("error: {err:?}"),
            },
            "outbound" => outbound(&url).await,
            "environment" => match std::env::var("PROBE_SECRET") {
                Ok(value) => format!("ok: read {} characters", value.len()),
                Err(err) => format!("error: {err}"),
            },
            "loop" => spin_forever(),
            other => format!("error: unknown capability {other:?}"),
        }
    }
}

/// Never returns: the host's deadline must stop it.
fn spin_forever() -> ! {
    let mut turns: u64 = 0;
    loop {
        turns = std::hint::black_box(turns.wrapping_add(1));
    }
}

async fn outbound(url: &str) -> String {
    let request = match http::Request::get(url).body(spin_sdk::http::EmptyBody::new()) {
        Ok(request) => request,
        Err(err) => return format!("error: {err}"),
    };
    match spin_sdk::http::send(request).await {
        Ok(response) => format!("ok: HTTP {}", response.status().as_u16()),
        Err(err) => format!("error: {err:?}"),
    }
}
