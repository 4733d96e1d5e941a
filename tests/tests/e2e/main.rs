//! The end-to-end suite as one test binary: each module covers one part of
//! the app or the host through `fbposts up` and HTTP, and all of them share
//! one process, so the host and the components are built (`ensure_built`)
//! and this binary is linked once. Support code: the `support` library
//! (tests/src/lib.rs).

mod alerts;
mod analyze;
mod api_contract;
mod async_runtime;
mod atomic_state;
mod build_watch;
mod cache_tiers;
mod composition;
mod cron;
mod dashboard;
mod dependencies;
mod enhance;
mod event_stream;
mod events;
mod generate;
mod host;
mod hostile;
mod inference_contract;
mod learning;
mod llm;
mod metrics;
mod outbound;
mod precache;
mod predict;
mod reuse;
mod suggestions;
