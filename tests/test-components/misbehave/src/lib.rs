//! Test component that misbehaves on purpose, to prove a bad guest fails only
//! its own request: `/misbehave/loop` spins forever, `/misbehave/trap` panics
//! (a trap), `/misbehave/balloon` allocates until the memory cap stops it,
//! `/misbehave/ok` answers normally, and `/misbehave/count` answers how many
//! requests its instance has served (1 on a fresh instance per request; more
//! when the host reuses instances).

use spin_sdk::http::{IntoResponse, Request, StatusCode};
use spin_sdk::http_service;
use std::sync::atomic::{AtomicU64, Ordering};

/// Requests this instance has served (deliberately instance-global state).
static SERVED: AtomicU64 = AtomicU64::new(0);

#[http_service]
async fn handle(req: Request) -> impl IntoResponse {
    let path = req.uri().path().to_string();
    let served = SERVED.fetch_add(1, Ordering::Relaxed) + 1;
    match path.rsplit('/').next().unwrap_or_default() {
        "loop" => {
            let mut n: u64 = 0;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }
        "trap" => panic!("deliberate trap"),
        "balloon" => {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                hoard.push(vec![1u8; 16 << 20]);
                std::hint::black_box(&hoard);
            }
        }
        "count" => (StatusCode::OK, served.to_string()),
        _ => (StatusCode::OK, "ok".to_string()),
    }
}
