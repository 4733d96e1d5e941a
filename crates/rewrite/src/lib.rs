//! `fbposts-rewrite`: enhances a Facebook post by editing its *form* only —
//! hook, call to action, hashtags, emoji, length, engagement bait, capitals
//! and exclamation runs — never its facts (numbers, names, links, prices,
//! dates; see [`facts`]).
//!
//! [`enhance`] is greedy: at each step every rule proposes its candidate
//! rewrites of the current text, each is scored with `fbposts_core::analyze`
//! (same language, post type and tone as the original), and the one that
//! raises the score most is kept. It stops when the target score is reached,
//! when no candidate improves the score, or after `max_edits` edits. So the
//! enhanced score is never below the original, and the same request always
//! gives the same answer (rules are tried in a fixed order; ties keep the
//! earlier rule).

pub mod auto;
pub mod facts;
pub mod request;
pub mod rules;
pub mod text;

pub use auto::{AUTO_ENHANCE_BELOW, AutoEnhancement, auto_enhance};
pub use request::EnhanceRequest;

use fbposts_core::{AnalyzeRequest, ApiError, Language, SCORER_VERSION, analyze};
use serde::Serialize;

/// Version of the rewrite rules; part of every cache key. Bump it whenever a
/// change here can change an [`Enhancement`].
pub const REWRITE_VERSION: &str = "rewrite-1.0.0";

/// Why a request cannot be enhanced. Converts into the API's
/// [`ApiError`] (status, code, message).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RewriteError {
    /// A malformed body or field, as reported by the shared JSON readers.
    #[error(transparent)]
    Field(#[from] ApiError),
    #[error("field 'text' is required (the post to enhance)")]
    MissingText,
    #[error("field 'text' must contain some non-whitespace text")]
    EmptyText,
    #[error("field 'text' has {0} characters; Facebook's limit is 63206")]
    TextTooLong(usize),
    #[error("field 'language' must be \"es\" or \"en\" (got \"{0}\")")]
    UnsupportedLanguage(String),
}

impl From<RewriteError> for ApiError {
    fn from(e: RewriteError) -> Self {
        let code = match &e {
            RewriteError::Field(api) => return api.clone(),
            RewriteError::MissingText => "missing_field",
            RewriteError::EmptyText => "empty_text",
            RewriteError::TextTooLong(_) => "text_too_long",
            RewriteError::UnsupportedLanguage(_) => "unsupported_language",
        };
        ApiError::new(422, code, e.to_string())
    }
}

/// A text and its score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scored {
    pub text: String,
    pub score: f64,
}

/// One applied edit: the rule, and the fragment it changed (the whole text
/// for edits that touch it everywhere).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edit {
    pub rule: &'static str,
    pub before: String,
    pub after: String,
}

/// The result of [`enhance`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Enhancement {
    pub original: Scored,
    pub enhanced: Scored,
    pub language: Language,
    pub target_score: f64,
    pub target_reached: bool,
    /// Present when the target was not reached, in plain words (in the
    /// post's language).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// In application order.
    pub edits: Vec<Edit>,
    pub scorer_version: &'static str,
    pub rewrite_version: &'static str,
}

/// The request that scores `text` the way the original is scored.
fn scoring_request(req: &EnhanceRequest, lang: Language, text: &str) -> AnalyzeRequest {
    AnalyzeRequest {
        language: Some(lang),
        post_type: req.post_type,
        tone: req.tone,
        ..AnalyzeRequest::new(text)
    }
}

/// Enhances the post (see the crate docs), scoring with the linked scorer.
pub fn enhance(req: &EnhanceRequest) -> Enhancement {
    match enhance_with(req, |r| Ok::<_, std::convert::Infallible>(analyze(r))) {
        Ok(enhancement) => enhancement,
        Err(never) => match never {},
    }
}

/// Enhances the post, scoring every version with `score` (the `enhance`
/// component passes the imported `fbposts:pipeline/analysis` step); the
/// first scoring error ends the run.
pub fn enhance_with<E>(
    req: &EnhanceRequest,
    score: impl Fn(&AnalyzeRequest) -> Result<fbposts_core::Analysis, E>,
) -> Result<Enhancement, E> {
    let score_with =
        |req: &EnhanceRequest, lang: Language, text: &str| score(&scoring_request(req, lang, text));
    let original = fbposts_core::scoring::normalize_text(&req.text).into_owned();
    let lang = req
        .language
        .unwrap_or_else(|| fbposts_core::detect_language(&original));
    let mut required_facts = facts::facts(&original);
    let mut current = original.clone();
    let mut analysis = score_with(req, lang, &current)?;
    let original_score = analysis.score;
    let mut edits = Vec::new();

    while edits.len() < req.max_edits && analysis.score < req.target_score {
        let ctx = rules::Ctx {
            lang,
            requested_tone: req.tone,
            analysis: &analysis,
        };
        let mut best: Option<(rules::Candidate, fbposts_core::Analysis)> = None;
        for cand in rules::candidates(&ctx, &current) {
            if cand.text == current
                || cand.text.trim().is_empty()
                || !facts::preserved(
                    &facts::without(&required_facts, &cand.allowed_loss),
                    &facts::facts(&cand.text),
                )
            {
                continue;
            }
            let a = score_with(req, lang, &cand.text)?;
            let bar = best.as_ref().map_or(analysis.score, |(_, b)| b.score);
            if a.score > bar {
                best = Some((cand, a));
            }
        }
        let Some((cand, a)) = best else { break };
        let (before, after) = text::changed_fragment(&current, &cand.text);
        edits.push(Edit {
            rule: cand.rule,
            before,
            after,
        });
        required_facts = facts::without(&required_facts, &cand.allowed_loss);
        current = cand.text;
        analysis = a;
    }

    let target_reached = analysis.score >= req.target_score;
    let message = (!target_reached).then(|| {
        let (target, from, to) = (req.target_score, original_score, analysis.score);
        if edits.is_empty() {
            match lang {
                Language::En => format!(
                    "Target {target:.2} not reached: no change to the form of the post raised its score ({from:.3}), so the original is returned unchanged. What is left to improve is the content itself."
                ),
                Language::Es => format!(
                    "No se alcanzó el objetivo de {target:.2}: ningún cambio de forma mejoró la puntuación ({from:.3}), así que se devuelve el texto original sin cambios. Lo que queda por mejorar es el contenido."
                ),
            }
        } else if edits.len() >= req.max_edits {
            let n = req.max_edits;
            match lang {
                Language::En => format!(
                    "Target {target:.2} not reached within the limit of {n} edits: the score went from {from:.3} to {to:.3}. Allow more edits (max_edits) to go further."
                ),
                Language::Es => format!(
                    "No se alcanzó el objetivo de {target:.2} con el límite de {n} cambios: la puntuación pasó de {from:.3} a {to:.3}. Permite más cambios (max_edits) para seguir mejorando."
                ),
            }
        } else {
            match lang {
                Language::En => format!(
                    "Target {target:.2} not reached: the edits raised the score from {from:.3} to {to:.3}, and no further change to the form helps. The rest is up to the content."
                ),
                Language::Es => format!(
                    "No se alcanzó el objetivo de {target:.2}: los cambios subieron la puntuación de {from:.3} a {to:.3} y ningún otro cambio de forma la mejora. El resto depende del contenido."
                ),
            }
        }
    });
    Ok(Enhancement {
        original: Scored {
            text: original,
            score: original_score,
        },
        enhanced: Scored {
            text: current,
            score: analysis.score,
        },
        language: lang,
        target_score: req.target_score,
        target_reached,
        message,
        edits,
        scorer_version: SCORER_VERSION,
        rewrite_version: REWRITE_VERSION,
    })
}

/// The review corpus, shared by the tests and the `full_runs` example.
pub mod corpus;
#[cfg(test)]
mod tests;
