//! Test component that misbehaves on purpose, to prove a bad guest fails only
//! its own request: `/misbehave/loop` spins forever, `/misbehave/trap` panics
//! (a trap), `/misbehave/balloon` allocates until the memory cap stops it, and
//! `/misbehave/ok` answers normally.

use spin_sdk::http::{IntoResponse, Request, StatusCode};
use spin_sdk::http_service;

#[http_service]
async fn handle(req: Request) -> impl IntoResponse {
    let path = req.uri().path().to_string();
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
        _ => (StatusCode::OK, "ok".to_string()),
    }
}
