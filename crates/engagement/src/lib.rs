//! `fbposts-engagement`: the predict step's logic, independent of how
//! inference runs — request validation and time decoding ([`request`]), the
//! model's input/output contract ([`encoding`]), the inference seam and the
//! one-batch plan ([`engine`]: the requested slot plus the week's
//! weekday × hour slots inside the posting window in one call), best times to post ([`best_times`],
//! on the [`basis`] the page's feedback allows) and
//! the response ([`response`]), blending with a page's own model
//! ([`page`]) and the posting window ([`window`]); the feedback request
//! ([`feedback`]).
//!
//! The `predict` component implements [`Engine`] over the
//! `fbposts:ml/inference` import; tests implement it with closures. Pure Rust,
//! unit-tested natively, compiled to `wasm32-wasip2` inside the component.
//!
//! Entry points: [`PredictRequest::from_json`], [`PredictRequest::cache_key`],
//! [`predict`] (or [`forecast`] + [`build_response`]).

pub mod basis;
pub mod best_times;
pub mod encoding;
pub mod engine;
pub mod feedback;
pub mod page;
pub mod request;
pub mod response;
pub mod tensors;
pub mod window;

pub use basis::{BestTimesBasis, BestTimesSource};
pub use best_times::{BestTime, TOP_N};
pub use encoding::{FeatureRow, INPUT_NAME, MODEL_NAME, MODEL_VERSION, TIMING_MODEL_NAME};
pub use engine::{
    Engine, EngineError, Forecast, Outputs, Prediction, SlotPrediction, TargetQuantiles, forecast,
};
pub use page::{PageInfo, PageModels, page_model_key};
pub use request::PredictRequest;
pub use response::{
    ModelInfo, Outlook, PredictResponse, Quality, build_response, outlook, predict, respond,
};
pub use window::PostingWindow;

/// Version of this step's logic (request decoding, slot plan, ranking,
/// response); part of every cache key with [`MODEL_VERSION`]. Bump it
/// whenever a change here can change a response.
pub const PREDICT_VERSION: &str = "predict-1.3.0";
