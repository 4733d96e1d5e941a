//! `fbposts-writer`: the offline post writer behind the `generate` step.
//!
//! It owns the [`Brief`] (what the client asks for, parsed from JSON with
//! core's field readers), the template engine ([`write_drafts`]: curated
//! Spanish and English phrase banks combined through a small set of
//! [`STRUCTURES`], the arms of the structure bandit), the prompts for an LLM
//! generator ([`PROMPT_VARIANTS`], [`llm_messages`]) and the post-processing
//! and validation every generated text must pass, whoever wrote it
//! ([`conform()`], [`check()`]). A brief's `details` (the facts the post is
//! about) are carried verbatim into every draft; without them the drafts
//! are generic and [`generic_notice`] says so.
//!
//! Everything is static data and plain functions: no threads, no
//! filesystem, no lazily initialised globals, so a fresh Wasm instance per
//! request pays nothing up front. Randomness is a seeded SplitMix64
//! ([`rng::Rng`]): the same brief and seed give the same drafts on every
//! platform.

pub mod bank;
pub mod brief;
pub mod compose;
pub mod conform;
pub mod details;
pub mod emoji;
pub mod hashtags;
pub mod prompt;
pub mod repair;
pub mod rng;
pub mod structure;
pub mod text;

pub use brief::{BrandVoice, Brief, Cta, Goal, Length, PageRef};
pub use compose::{Draft, write_drafts};
pub use conform::{check, conform};
pub use details::{GenericNotice, generic_notice};
pub use fbposts_core::{ApiError, Language, PostType, Tone};
pub use prompt::{PROMPT_VARIANTS, PromptVariant, llm_messages};
pub use structure::{Closing, CtaPosition, EmojiDensity, HookStyle, STRUCTURES, Structure};

/// Version of the writer (phrase banks, structures, prompts, rules); part
/// of every [`Brief::cache_key`]. Bump it whenever a change can alter the
/// output for the same brief.
pub const WRITER_VERSION: &str = "writer-2.0.0";

#[cfg(test)]
mod details_tests;
#[cfg(test)]
mod quality_tests;
