//! Records the learning steps share through the `default` store: a
//! generated candidate (written by `generate`, read by `feedback` to credit
//! the right arms) and the outcome of a feedback event (kept for
//! idempotency: the same event sent twice is applied once).

use serde::{Deserialize, Serialize};

/// Bandit families.
pub const FAMILY_STRUCTURE: &str = "structure";
pub const FAMILY_PROMPT: &str = "prompt";
pub const FAMILY_GENERATOR: &str = "generator";

/// The bandit context of a brief: `<language>.<goal>.<tone>`.
pub fn context_key(language: &str, goal: &str, tone: &str) -> String {
    format!("{language}.{goal}.{tone}")
}

/// A generated candidate, as stored under `candidate/<id>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateRecord {
    pub id: String,
    pub text: String,
    pub language: String,
    /// [`context_key`] of the brief.
    pub context: String,
    pub generator: String,
    /// [`FAMILY_STRUCTURE`] (template engine) or [`FAMILY_PROMPT`] (LLM).
    pub variant_family: String,
    pub variant: String,
    #[serde(default)]
    pub post_type: Option<String>,
    #[serde(default)]
    pub page_id: Option<String>,
    #[serde(default)]
    pub page_likes: Option<u64>,
}

/// One arm a feedback event credited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Credit {
    pub family: String,
    pub context: String,
    pub arm: String,
    /// The arm's posterior mean after the update.
    pub posterior_mean: f64,
    pub rewards: u64,
}
