//! `fbposts-learning`: how facebook-posts gets better from what happened to
//! the posts it wrote. Pure Rust, deterministic given a seed, unit-tested
//! natively and compiled to `wasm32-wasip2` inside the components.
//!
//! - [`bandit`]: Beta posteriors over arms (prompt variants, template
//!   structures, generators) with Thompson sampling, fractional rewards and
//!   the probability that each arm is best.
//! - [`reward`]: turning observed engagement into a reward in 0..=1.
//! - [`selection`]: choosing a generator per context with a cost penalty and
//!   a hard budget, with a human-readable explanation.
//! - [`page_model`]: a per-page Bayesian linear regression (normal–inverse-
//!   gamma) on the log-ratio of observed to globally predicted engagement,
//!   which the predict step blends with the global model.
//! - [`records`]: the candidate and feedback records the steps share.

pub mod bandit;
pub mod page_model;
pub mod records;
pub mod reward;
pub mod selection;

pub use bandit::{ArmStats, ArmSummary, Rng, assign_distinct, probability_best, rng_from_seed};
pub use page_model::{
    MIN_HOUR_OBSERVATIONS, MIN_HOUR_SPREAD, MIN_PAGE_OBSERVATIONS, PageFeatures, PageModel,
    PageStatistics,
};
pub use records::{CandidateRecord, Credit, context_key};
pub use reward::engagement_reward;
pub use selection::{GeneratorChoice, GeneratorOption, choose_generator};

/// Errors of this crate (stored state that cannot be used).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum LearningError {
    #[error("stored state is not valid: {0}")]
    InvalidState(String),
}
