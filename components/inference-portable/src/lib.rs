//! `inference-portable`: the pure-Wasm implementation of `fbposts:ml/inference`
//! (world `inference-provider` in `wit/ml.wit`), for stock Spin and
//! `spin deploy`. ONNX models are compiled into the component (see
//! [`models`]) and run with tract ([`engine`]); the WIT export glue lives in
//! `component`, which only exists on `wasm32` so the rest is testable natively.
//! The crate is also an `rlib` so that the `load_timing` example (the
//! load-time benchmark) can call the engine natively.

pub mod engine;
pub mod models;

#[cfg(target_arch = "wasm32")]
mod component;

pub use engine::{InferenceError, Tensor, run};

#[cfg(test)]
mod tests;
