//! A benchmark kept as an ignored test: times the ways of turning the
//! embedded ONNX bytes into a runnable tract plan (paid once per fresh
//! instance), the per-row cost of each plan, and whether a row's result
//! depends on the batch it is in; also the cold first call through [`run`]
//! (load + one row). Run it alone, so that the first call is really cold:
//!
//! `cargo test --release -p inference-portable -- --ignored --nocapture load_timing`
//!
//! On wasm32-wasip2 the same test runs under any WASI runner
//! (`CARGO_TARGET_WASM32_WASIP2_RUNNER`).

use std::time::{Duration, Instant};

use tract_onnx::prelude::*;

use crate::run;

const REPEAT: u32 = 20;
const BATCH: usize = 256;

fn onnx_bytes() -> &'static [u8] {
    crate::models::find("engagement").unwrap().1.onnx
}

type Plan = Arc<TypedRunnableModel>;
/// The graph passes a loading path runs between `into_typed()` and `into_runnable()`.
type Passes = fn(&mut TypedModel);

/// The loading paths compared, cheapest first.
const PATHS: [(&str, Passes); 5] = [
    ("typed, no passes", |_| {}),
    ("typed + engine::lower (chosen)", |m| {
        crate::engine::lower(m).unwrap()
    }),
    ("typed + declutter", |m| m.declutter().unwrap()),
    ("typed + optimize() (codegen optimizer)", |m| {
        m.optimize().unwrap()
    }),
    ("into_optimized (declutter+codegen)", |m| {
        m.declutter().unwrap();
        m.optimize().unwrap();
    }),
];

fn build(passes: Passes) -> Plan {
    let mut model = onnx()
        .model_for_read(&mut &onnx_bytes()[..])
        .unwrap()
        .into_typed()
        .unwrap();
    passes(&mut model);
    model.into_runnable().unwrap()
}

fn rows(n: usize) -> Vec<f32> {
    crate::tests::synthetic_rows(n).concat()
}

fn input(data: &[f32]) -> TVec<TValue> {
    tvec![
        Tensor::from_shape(&[data.len() / 7, 7], data)
            .unwrap()
            .into()
    ]
}

fn values(out: &TValue) -> &[f32] {
    out.try_as_plain_ram().unwrap().as_slice::<f32>().unwrap()
}

fn mean<T>(n: u32, f: impl Fn() -> T) -> Duration {
    std::hint::black_box(f());
    let start = Instant::now();
    for _ in 0..n {
        std::hint::black_box(f());
    }
    start.elapsed() / n
}

#[test]
#[ignore = "benchmark: run alone with --release --ignored --nocapture"]
fn load_timing() {
    // First, before anything else warms the process: a fresh instance's cost.
    let one = crate::Tensor::new("features", vec![1, 7], rows(1));
    let start = Instant::now();
    run("engagement", std::slice::from_ref(&one)).unwrap();
    println!(
        "cold first call via inference_portable::run (load + 1 row): {:.2?}",
        start.elapsed()
    );

    let parse = mean(REPEAT, || {
        onnx().model_for_read(&mut &onnx_bytes()[..]).unwrap()
    });
    println!("parse only: {parse:.2?}");
    let data = rows(BATCH);
    for (name, passes) in PATHS {
        let load = mean(REPEAT, || build(passes));
        let plan = build(passes);
        let batch1 = mean(200, || plan.run(input(&data[..7])).unwrap());
        let batch_n = mean(REPEAT, || plan.run(input(&data)).unwrap()) / BATCH as u32;
        let all = plan.run(input(&data)).unwrap();
        let mut differing = 0;
        for i in 0..BATCH {
            let single = plan.run(input(&data[i * 7..i * 7 + 7])).unwrap();
            for (s, a) in single.iter().zip(all.iter()) {
                let a = &values(a)[i * 4..i * 4 + 4];
                differing += values(s).iter().zip(a).filter(|(x, y)| x != y).count();
            }
        }
        println!(
            "{name:40} load {load:>9.2?}  batch 1: {batch1:>9.2?}/row  batch {BATCH}: {batch_n:>8.2?}/row  \
             rows differing batch 1 vs {BATCH}: {differing}/{}",
            BATCH * 12
        );
    }
}
