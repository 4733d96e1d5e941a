//! Times `analyze()` on a ~300-character Spanish post, the size of a typical
//! Facebook post, in a tight loop: the pure-compute floor under
//! `/api/analyze` (no Wasm, no HTTP, no cache).
//!
//! `cargo run --release -p fbposts-core --example analyze_timing`

use fbposts_core::{AnalyzeRequest, analyze};
use std::time::Instant;

const POST: &str = "¿Sabías que el 80% del sabor del café depende del tueste? ☕\n\
    Este sábado te enseñamos en directo cómo tostamos cada lote, con tiempo para tus preguntas.\n\
    Reserva tu plaza en el enlace de la bio. ¿Qué café preparas tú en casa? 👇 #CaféDeEspecialidad";

const CALLS: u32 = 20_000;

fn main() {
    let request = AnalyzeRequest::new(POST);
    let start = Instant::now();
    let mut total = 0.0;
    for _ in 0..CALLS {
        total += analyze(std::hint::black_box(&request)).score;
    }
    let per_call = start.elapsed() / CALLS;
    println!(
        "analyze() on {} chars: {per_call:?} per call (checksum {total:.0})",
        POST.chars().count()
    );
}
