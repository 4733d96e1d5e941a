//! The rewrite rules. Each proposes zero or more candidate texts for the
//! current post; the greedy loop in [`crate::enhance`] scores them and keeps
//! the best. Rules only change form, and every candidate is re-checked for
//! lost facts before it is scored.

pub mod bait;
pub mod cta;
pub mod emoji;
pub mod hashtags;
pub mod hook;
pub mod length;
pub mod style;

use fbposts_core::{Analysis, Language, Tone};

/// What the rules know about the current text.
#[derive(Debug)]
pub struct Ctx<'a> {
    pub lang: Language,
    pub requested_tone: Option<Tone>,
    /// The analysis of the current text.
    pub analysis: &'a Analysis,
}

impl Ctx<'_> {
    /// The requested tone, else the detected one.
    pub fn tone(&self) -> Tone {
        self.requested_tone
            .unwrap_or(self.analysis.features.detected_tone)
    }
}

/// A proposed rewrite of the whole text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Rule name as reported in `edits`.
    pub rule: &'static str,
    pub text: String,
    /// Facts this edit may drop because they belong to what it removes
    /// (the "3" of "etiqueta a 3 amigos" is part of the bait, not a fact).
    pub allowed_loss: Vec<String>,
}

impl Candidate {
    pub fn new(rule: &'static str, text: String) -> Self {
        Candidate {
            rule,
            text,
            allowed_loss: Vec::new(),
        }
    }
}

/// Every rule's candidates, in the fixed rule order (ties in the greedy
/// loop go to the earlier rule).
pub fn candidates(ctx: &Ctx<'_>, text: &str) -> Vec<Candidate> {
    let mut out = Vec::new();
    out.extend(bait::candidates(ctx, text));
    out.extend(style::caps_candidates(ctx, text));
    out.extend(style::exclamation_candidates(ctx, text));
    out.extend(hashtags::candidates(ctx, text));
    out.extend(hook::candidates(ctx, text));
    out.extend(cta::candidates(ctx, text));
    out.extend(emoji::candidates(ctx, text));
    out.extend(length::candidates(ctx, text));
    out
}
