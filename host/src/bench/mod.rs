//! The host's benchmarks: [`http`] is `fbposts bench`, a load generator for a
//! running server's routes; [`nn`] is `fbposts bench-nn`, raw inference of a
//! model on the wasi-nn backends and the inference components; [`kv`] is
//! `fbposts bench-kv`, the SQLite key-value backend's throughput.

mod http;
mod kv;
mod nn;

pub use self::http::{BenchArgs, run};
pub use self::kv::{BenchKvArgs, run_kv};
pub use self::nn::{BenchNnArgs, run_nn};
