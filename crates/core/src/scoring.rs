//! Scoring: combines the signals into one score with documented weights
//! (they sum to 1; see `SCORING.md` for the reasoning), applies the
//! engagement-bait penalty and the substance gate, assigns the grade and
//! ranks the suggestions.
//!
//! `score = Σ weightᵢ·signalᵢ × bait multiplier × substance gate`, rounded
//! to 3 decimals. The bait multiplier is 1.0 without bait, 0.85 with one
//! bait phrase, 0.7 with more; the gate ([`crate::substance::gate`]) is 1.0
//! for a concrete post with a reason to engage and falls to 0.4 (0.32
//! without a reason to engage) for one that says nothing, and a post of
//! fewer than four content words is capped at 0.35.

use crate::features::{self, Features};
use crate::text::Doc;
use crate::{
    AnalyzeRequest, Language, SCORER_VERSION, bait, cta, emoji, hashtags, hook, lang, length,
    links, question, readability, round3, style, substance, tone,
};
use serde::Serialize;

/// Signal weights. They sum to 1 (checked by a test).
pub const WEIGHTS: &[(&str, f64)] = &[
    ("hook", 0.13),
    ("engagement_bait", 0.12),
    ("length", 0.09),
    ("readability", 0.09),
    ("call_to_action", 0.09),
    ("question", 0.08),
    ("sentiment", 0.08),
    ("hashtags", 0.07),
    ("emoji", 0.06),
    ("links", 0.06),
    ("caps", 0.05),
    ("exclamations", 0.04),
    ("repetition", 0.04),
];

/// Weight of a signal (0 for an unknown name).
pub fn weight(name: &str) -> f64 {
    WEIGHTS
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(0.0, |(_, w)| *w)
}

/// Grade cut-offs: A ≥ 0.85, B ≥ 0.70, C ≥ 0.55, D ≥ 0.40, else F.
pub const GRADES: &[(f64, &str)] = &[
    (0.85, "A"),
    (0.70, "B"),
    (0.55, "C"),
    (0.40, "D"),
    (0.0, "F"),
];

pub fn grade(score: f64) -> &'static str {
    GRADES
        .iter()
        .find(|(cut, _)| score >= *cut)
        .map_or("F", |(_, g)| g)
}

/// One scored aspect of a post.
#[derive(Debug, Clone, Serialize)]
pub struct Signal {
    pub name: &'static str,
    /// 0..=1, higher is better.
    pub score: f64,
    /// Its weight in the total (see [`WEIGHTS`]).
    pub weight: f64,
    /// Human-readable explanation, in the post's language.
    pub detail: String,
}

impl Signal {
    /// A signal with its weight from [`WEIGHTS`].
    pub fn new(name: &'static str, score: f64, detail: String) -> Self {
        Signal {
            name,
            score: score.clamp(0.0, 1.0),
            weight: weight(name),
            detail,
        }
    }
}

/// The result of [`analyze`].
#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    /// 0..=1, rounded to 3 decimals.
    pub score: f64,
    /// `A`..`F` (see [`GRADES`]).
    pub grade: &'static str,
    /// The form score: the weighted mean of the signals times the bait
    /// multiplier, before the substance gate (`score = weighted ×
    /// gate.factor`, up to rounding).
    pub weighted: f64,
    pub language: Language,
    /// True when the language was detected rather than given.
    pub language_detected: bool,
    /// One entry per signal, in [`WEIGHTS`] order.
    pub breakdown: Vec<Signal>,
    /// The substance gate: the multiplier applied to the weighted score.
    pub gate: substance::Gate,
    /// At most [`MAX_SUGGESTIONS`], most impactful first, in the post's
    /// language; empty when every signal is already good.
    pub suggestions: Vec<String>,
    pub features: Features,
    pub scorer_version: &'static str,
}

/// Suggestions returned at most.
pub const MAX_SUGGESTIONS: usize = 6;

/// Normalises post text the way the request layer does: CRLF/CR → LF,
/// trailing whitespace removed from both ends.
pub fn normalize_text(text: &str) -> std::borrow::Cow<'_, str> {
    let trimmed = text.trim();
    if trimmed.contains('\r') {
        std::borrow::Cow::Owned(trimmed.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        std::borrow::Cow::Borrowed(trimmed)
    }
}

/// Scores a post: every signal, the weighted total, grade and suggestions.
pub fn analyze(req: &AnalyzeRequest) -> Analysis {
    let text = normalize_text(&req.text);
    let doc = Doc::new(&text);
    let (language, language_detected) = match req.language {
        Some(l) => (l, false),
        None => (lang::detect_doc(&doc), true),
    };
    let l = language;
    let (f, m) = features::extract_doc(&doc, l, req.post_type);
    let links_list: Vec<&str> = f.links.iter().map(String::as_str).collect();
    let tags: Vec<&str> = f.hashtags.iter().map(String::as_str).collect();
    let ctas: Vec<&str> = f.cta_matches.iter().map(String::as_str).collect();
    let requested = req.tone;

    // (signal, suggestion) in WEIGHTS order.
    let parts: Vec<(crate::Signal, Option<String>)> = vec![
        (hook::signal(&f.hook, l), hook::suggestion(&f.hook, l)),
        (
            bait::signal(&f.bait_matches, l),
            bait::suggestion(&f.bait_matches, l),
        ),
        (
            length::signal(f.text_chars, f.post_type, l),
            length::suggestion(f.text_chars, f.post_type, l),
        ),
        (
            readability::signal(&m.readability, l),
            readability::suggestion(&m.readability, l),
        ),
        (cta::signal(&ctas, l), cta::suggestion(&ctas, l)),
        (
            question::signal(&m.questions, l),
            question::suggestion(&m.questions, l),
        ),
        (
            tone::signal(&f.sentiment, f.detected_tone, requested, l),
            tone::suggestion(&f.sentiment, f.detected_tone, requested, l),
        ),
        (
            hashtags::signal(&tags, &f.hashtag_issues, l),
            hashtags::suggestion(&tags, &f.hashtag_issues, l),
        ),
        (
            emoji::signal(f.emoji_count, f.text_chars, l),
            emoji::suggestion(f.emoji_count, f.text_chars, l),
        ),
        (
            links::signal(&links_list, f.post_type, l),
            links::suggestion(&links_list, f.post_type, l),
        ),
        (
            style::caps_signal(&m.caps, l),
            style::caps_suggestion(&m.caps, l),
        ),
        (
            style::exclamation_signal(&m.exclamations, l),
            style::exclamation_suggestion(&m.exclamations, l),
        ),
        (
            style::repetition_signal(&f.repeated_words, f.content_words, l),
            style::repetition_suggestion(&f.repeated_words, f.content_words, l),
        ),
    ];
    let multiplier = bait::penalty_multiplier(&f.bait_matches);
    let raw: f64 = parts.iter().map(|(s, _)| s.weight * s.score).sum();
    let gate = substance::gate_report(&f.substance, l);
    let gated = raw.clamp(0.0, 1.0) * multiplier * substance::gate(&f.substance);
    let score = round3(gated);

    // Most impactful first: the points the signal loses, bait counted with
    // its multiplier's share of the total.
    let mut ranked: Vec<(f64, String)> = parts
        .iter()
        .filter_map(|(s, sug)| {
            let mut impact = s.weight * (1.0 - s.score);
            if s.name == "engagement_bait" {
                impact += raw * (1.0 - multiplier);
            }
            sug.clone().map(|t| (impact, t))
        })
        .collect();
    // The gate's share of the total: what the post loses for saying
    // nothing concrete.
    if let Some(text) = substance::suggestion(&f.substance, l) {
        ranked.push((raw * multiplier - gated, text));
    }
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    let suggestions = ranked
        .into_iter()
        .take(MAX_SUGGESTIONS)
        .map(|(_, s)| s)
        .collect();

    Analysis {
        score,
        grade: grade(score),
        weighted: round3(raw.clamp(0.0, 1.0) * multiplier),
        language,
        language_detected,
        breakdown: parts.into_iter().map(|(s, _)| s).collect(),
        gate,
        suggestions,
        features: f,
        scorer_version: SCORER_VERSION,
    }
}

#[cfg(test)]
#[path = "scoring_tests.rs"]
mod tests;
