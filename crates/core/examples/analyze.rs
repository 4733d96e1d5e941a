//! Prints the analysis of a post as JSON, and times `analyze()`.
//!
//! `cargo run --release -p fbposts-core --example analyze -- "post text" [es|en]`
//! (with no arguments, a built-in ~300-char post is used).

use fbposts_core::{AnalyzeRequest, Language, analyze};
use std::time::Instant;

const SAMPLE: &str = "¿Sabías que el 80% del sabor del café depende del tueste? ☕\n\
Este sábado abrimos las puertas de nuestro obrador para que veas cómo tostamos cada lote y \
pruebes tres orígenes distintos con nuestro equipo. Las plazas son limitadas.\n\
Reserva tu sitio en el enlace de la bio. ¿Cuál te gustaría probar primero? 👇 #CaféDeEspecialidad";

fn main() {
    let mut args = std::env::args().skip(1);
    let text = args.next().unwrap_or_else(|| SAMPLE.to_string());
    let mut req = AnalyzeRequest::new(text);
    req.language = args.next().as_deref().and_then(Language::parse);
    let a = analyze(&req);
    println!("{}", serde_json::to_string_pretty(&a).expect("serialize"));

    let n = (6_000_000 / req.text.len().max(300)).clamp(10, 20_000) as u32;
    let start = Instant::now();
    let mut total = 0.0;
    for _ in 0..n {
        total += analyze(std::hint::black_box(&req)).score;
    }
    let per = start.elapsed() / n;
    eprintln!(
        "{} chars: {per:?} per analyze() (checksum {total:.1})",
        req.text.chars().count()
    );
}
