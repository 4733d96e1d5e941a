//! Times the ways of turning the embedded ONNX bytes into a runnable tract
//! plan (paid once per fresh instance), the per-row cost of each plan, and
//! whether a row's result depends on the batch it is in; first of all, the
//! cold first call through [`inference_portable::run`] (load + one row), so
//! run it in a fresh process:
//!
//! `cargo run --release -p inference-portable --example load_timing`

use std::sync::Arc;
use std::time::{Duration, Instant};

use inference_portable::{Tensor as PortableTensor, engine, models, run};
use tract_onnx::prelude::*;

const REPEAT: u32 = 20;
const BATCH: usize = 256;
/// Features per row (the engagement model's input width).
const WIDTH: usize = 7;

type Plan = Arc<TypedRunnableModel>;
/// The graph passes a loading path runs between `into_typed()` and `into_runnable()`.
type Passes = fn(&mut TypedModel);

/// A way of loading the model, by name.
struct LoadingPath {
    name: &'static str,
    passes: Passes,
}

/// The loading paths compared, cheapest first.
const PATHS: [LoadingPath; 5] = [
    LoadingPath {
        name: "typed, no passes",
        passes: |_| {},
    },
    LoadingPath {
        name: "typed + engine::lower (chosen)",
        passes: |m| engine::lower(m).unwrap(),
    },
    LoadingPath {
        name: "typed + declutter",
        passes: |m| m.declutter().unwrap(),
    },
    LoadingPath {
        name: "typed + optimize() (codegen optimizer)",
        passes: |m| m.optimize().unwrap(),
    },
    LoadingPath {
        name: "into_optimized (declutter+codegen)",
        passes: |m| {
            m.declutter().unwrap();
            m.optimize().unwrap();
        },
    },
];

fn onnx_bytes() -> &'static [u8] {
    models::find("engagement")
        .expect("the engagement model is embedded")
        .1
        .onnx
}

fn build(passes: Passes) -> Plan {
    let mut model = onnx()
        .model_for_read(&mut &onnx_bytes()[..])
        .unwrap()
        .into_typed()
        .unwrap();
    passes(&mut model);
    model.into_runnable().unwrap()
}

/// `n` feature rows within the training ranges (page likes, type code,
/// category, month, weekday, hour, paid), flattened.
fn rows(n: usize) -> Vec<f32> {
    (0..n)
        .flat_map(|i| {
            let i = i as f32;
            [
                81_370.0 + (i * 229.0) % 58_072.0,
                i % 4.0,
                1.0 + i % 3.0,
                1.0 + i % 12.0,
                1.0 + (i * 3.0) % 7.0,
                (i * 5.0) % 24.0,
                (i / 2.0).floor() % 2.0,
            ]
        })
        .collect()
}

fn input(data: &[f32]) -> TVec<TValue> {
    tvec![
        Tensor::from_shape(&[data.len() / WIDTH, WIDTH], data)
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

/// Output values of `plan` that differ between running each row alone and
/// the whole batch at once.
fn values_differing_by_batch(plan: &Plan, data: &[f32]) -> usize {
    let all = plan.run(input(data)).unwrap();
    let mut differing = 0;
    for i in 0..data.len() / WIDTH {
        let single = plan.run(input(&data[i * WIDTH..(i + 1) * WIDTH])).unwrap();
        for (alone, batched) in single.iter().zip(all.iter()) {
            let width = values(alone).len();
            let batched = &values(batched)[i * width..(i + 1) * width];
            differing += values(alone)
                .iter()
                .zip(batched)
                .filter(|(x, y)| x != y)
                .count();
        }
    }
    differing
}

fn main() {
    let one = PortableTensor::new("features", vec![1, WIDTH as u32], rows(1));
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
    for path in PATHS {
        let load = mean(REPEAT, || build(path.passes));
        let plan = build(path.passes);
        let batch1 = mean(200, || plan.run(input(&data[..WIDTH])).unwrap());
        let batch_n = mean(REPEAT, || plan.run(input(&data)).unwrap()) / BATCH as u32;
        let differing = values_differing_by_batch(&plan, &data);
        println!(
            "{:40} load {load:>9.2?}  batch 1: {batch1:>9.2?}/row  batch {BATCH}: {batch_n:>8.2?}/row  \
             values differing batch 1 vs {BATCH}: {differing}",
            path.name
        );
    }
}
