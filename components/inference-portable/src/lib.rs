//! `inference-portable`: the pure-Wasm implementation of `fbposts:ml/inference`
//! (world `inference-provider` in `wit/ml.wit`), for stock Spin and
//! `spin deploy`. ONNX models are compiled into the component (see
//! [`models`]) and run with tract ([`engine`]); the WIT export glue lives in
//! `component`, which only exists on `wasm32`. The crate is tested as what it
//! ships as, a Wasm component: the e2e suite's inference contract
//! (`tests/tests/e2e/inference_contract.rs`) runs the same checks on it and on
//! `inference-wasi-nn`. It is also an `rlib` so that the `load_timing` example
//! (the load-time benchmark) can call the engine natively, on demand.

pub mod engine;
pub mod models;

#[cfg(target_arch = "wasm32")]
mod component;

pub use engine::{InferenceError, Tensor, run};
