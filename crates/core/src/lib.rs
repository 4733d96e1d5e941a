//! `fbposts-core`: text features, scoring and suggestions for Facebook posts,
//! with Spanish and English as first-class languages.
//!
//! Shared by every component (compiled natively for tests and to
//! `wasm32-wasip2` inside the HTTP components). Each HTTP request runs in a
//! fresh Wasm instance, so nothing here initialises lazily: lexicons and
//! pattern lists are compile-time static data (see `build.rs`), word lists
//! are packed into integer keys and pattern lists carry their prefilters
//! by `const fn` ([`words`], [`pattern::PatternList`]), and there is no
//! `regex`.
//!
//! Entry points: [`AnalyzeRequest::from_json`], [`analyze`],
//! [`detect_language`]. The individual signals live in their own modules so
//! the rewriter and the generator can reuse them; `SCORING.md` documents the
//! weights and the reasoning behind every signal.

use serde::{Deserialize, Serialize};

/// Renders a message in the post's language. Both literals may capture
/// identifiers from the caller's scope (`{name}`).
macro_rules! tr {
    ($lang:expr, $en:literal, $es:literal $(,)?) => {
        match $lang {
            $crate::Language::En => format!($en),
            $crate::Language::Es => format!($es),
        }
    };
}

pub mod bait;
pub mod cta;
pub mod emoji;
pub mod features;
pub mod fold;
pub mod hashtags;
pub mod hook;
pub mod json;
pub mod lang;
pub mod length;
pub mod lexicon;
pub mod links;
pub mod pattern;
pub mod question;
pub mod readability;
pub mod request;
pub mod scoring;
pub mod sentiment;
pub mod style;
pub mod substance;
pub mod text;
pub mod tone;
pub mod words;

pub use features::Features;
pub use request::{AnalyzeRequest, ApiError};
pub use scoring::{Analysis, Signal, analyze};

/// Version of the scoring model; part of every cache key. Bump it whenever
/// a change to this crate can change an [`Analysis`].
pub const SCORER_VERSION: &str = "analyze-2.0.0";

/// Facebook's maximum post length, counted in chars (Unicode scalar values).
pub const MAX_POST_CHARS: usize = 63_206;

/// Languages the analyser supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Es,
    En,
}

impl Language {
    /// ISO 639-1 code, as used in the API.
    pub fn code(self) -> &'static str {
        match self {
            Language::Es => "es",
            Language::En => "en",
        }
    }

    /// Parses `"es"`/`"en"` (case-insensitive; a region subtag such as
    /// `es-MX` or `en_US` is accepted and ignored).
    pub fn parse(s: &str) -> Option<Self> {
        let primary = s.trim().split(['-', '_']).next().unwrap_or("");
        if primary.eq_ignore_ascii_case("es") {
            Some(Language::Es)
        } else if primary.eq_ignore_ascii_case("en") {
            Some(Language::En)
        } else {
            None
        }
    }
}

/// Kind of Facebook post the text belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PostType {
    Status,
    Photo,
    Video,
    Link,
}

impl PostType {
    pub const ALL: [PostType; 4] = [
        PostType::Status,
        PostType::Photo,
        PostType::Video,
        PostType::Link,
    ];

    pub fn code(self) -> &'static str {
        match self {
            PostType::Status => "status",
            PostType::Photo => "photo",
            PostType::Video => "video",
            PostType::Link => "link",
        }
    }

    /// Case-insensitive parse of the API name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|p| p.code().eq_ignore_ascii_case(s.trim()))
    }
}

/// Tone a post is written in (requested by the user or detected).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tone {
    Friendly,
    Professional,
    Playful,
    Inspirational,
    Urgent,
    Informative,
}

impl Tone {
    pub const ALL: [Tone; 6] = [
        Tone::Friendly,
        Tone::Professional,
        Tone::Playful,
        Tone::Inspirational,
        Tone::Urgent,
        Tone::Informative,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Tone::Friendly => "friendly",
            Tone::Professional => "professional",
            Tone::Playful => "playful",
            Tone::Inspirational => "inspirational",
            Tone::Urgent => "urgent",
            Tone::Informative => "informative",
        }
    }

    /// Case-insensitive parse of the API name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|t| t.code().eq_ignore_ascii_case(s.trim()))
    }

    /// Human name in the given language.
    pub fn label(self, lang: Language) -> &'static str {
        match (lang, self) {
            (Language::En, t) => t.code(),
            (Language::Es, Tone::Friendly) => "cercano",
            (Language::Es, Tone::Professional) => "profesional",
            (Language::Es, Tone::Playful) => "divertido",
            (Language::Es, Tone::Inspirational) => "inspirador",
            (Language::Es, Tone::Urgent) => "urgente",
            (Language::Es, Tone::Informative) => "informativo",
        }
    }
}

/// Detects whether `text` is Spanish or English (the only two supported
/// languages). See [`lang::detect`] for the method.
pub fn detect_language(text: &str) -> Language {
    lang::detect(text)
}

/// Rounds to 3 decimals (scores and ratios in the output).
pub(crate) fn round3(x: f64) -> f64 {
    if x.is_finite() {
        (x * 1000.0).round() / 1000.0
    } else {
        0.0
    }
}
