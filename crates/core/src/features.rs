//! Raw measurements of a post ([`Features`]): everything the signals are
//! computed from, returned to clients so they can explain the score.
//! [`extract`] tokenises once and runs every measurement over the same
//! [`Doc`].

use crate::bait::{self, BaitMatch};
use crate::hashtags::{self, HashtagIssue};
use crate::hook::{self, Hook};
use crate::question::{self, Questions};
use crate::readability::{self, Readability};
use crate::sentiment::{self, SentimentScores};
use crate::style::{self, Caps, Exclamations, RepeatedWord};
use crate::substance::{self, Substance};
use crate::text::{Doc, TokKind};
use crate::tone::{self, ToneScores};
use crate::{Language, PostType, Tone, cta, links, round3};
use serde::Serialize;

/// Lists in the output are capped at this many entries (a 63 KB post of
/// emoji must not produce a 63 KB list).
pub const MAX_LIST: usize = 50;

/// Raw measurements of a post.
#[derive(Debug, Clone, Serialize)]
pub struct Features {
    /// Unicode scalar values (Facebook's limit is counted this way).
    pub chars: usize,
    /// Chars excluding links (what the length signal judges).
    pub text_chars: usize,
    /// Words and numbers.
    pub words: usize,
    /// Sentences containing at least one word.
    pub sentences: usize,
    pub syllables: usize,
    pub words_per_sentence: f64,
    pub syllables_per_word: f64,
    /// Reading ease (Fernández-Huerta for Spanish, Flesch for English).
    pub readability: f64,
    /// `fernandez-huerta` or `flesch`.
    pub readability_formula: &'static str,
    /// Non-blank lines.
    pub lines: usize,
    /// The first line (or first sentence of a long first line).
    pub first_line: String,
    pub first_line_chars: usize,
    pub hook: Hook,
    pub emoji_count: usize,
    /// Distinct emoji, in order of appearance.
    pub emojis: Vec<String>,
    pub hashtags: Vec<String>,
    pub hashtag_issues: Vec<HashtagIssue>,
    pub links: Vec<String>,
    pub shortened_links: usize,
    pub mentions: Vec<String>,
    /// Question sentences.
    pub questions: usize,
    pub ends_with_question: bool,
    pub exclamations: usize,
    /// Runs of `!!` or more.
    pub exclamation_runs: usize,
    /// Uppercase letters / letters.
    pub caps_ratio: f64,
    /// Words in ALL CAPS (2+ letters).
    pub caps_words: usize,
    /// Content words (3+ letters, not function words).
    pub content_words: usize,
    pub repeated_words: Vec<RepeatedWord>,
    pub sentiment: SentimentScores,
    pub detected_tone: Tone,
    pub tone_scores: ToneScores,
    pub bait_matches: Vec<BaitMatch>,
    pub cta_matches: Vec<String>,
    /// Concrete information in the post (feeds the substance gate).
    pub substance: Substance,
    /// The post type used for scoring.
    pub post_type: PostType,
    /// True when the request did not give a post type and it was inferred
    /// (`link` when the text contains a link, else `status`).
    pub post_type_inferred: bool,
}

/// Internal measurements the scorer needs beyond the serialised features.
#[derive(Debug, Clone)]
pub(crate) struct Measures {
    pub readability: Readability,
    pub questions: Questions,
    pub caps: Caps,
    pub exclamations: Exclamations,
}

/// Measures a tokenised post.
pub(crate) fn extract_doc(
    doc: &Doc<'_>,
    lang: Language,
    post_type: Option<PostType>,
) -> (Features, Measures) {
    let text = doc.text;
    let chars = text.chars().count();
    let link_list = links::extract(doc);
    let link_chars: usize = link_list.iter().map(|l| l.chars().count()).sum();
    let text_chars = chars.saturating_sub(link_chars);
    let (post_type, post_type_inferred) = match post_type {
        Some(p) => (p, false),
        None => (
            if link_list.is_empty() {
                PostType::Status
            } else {
                PostType::Link
            },
            true,
        ),
    };

    let r = readability::measure(doc, lang);
    let hook = hook::measure(doc);
    let emoji_toks: Vec<&str> = doc.of_kind(TokKind::Emoji).map(|t| t.raw).collect();
    let mut emojis: Vec<String> = Vec::new();
    for e in &emoji_toks {
        if emojis.len() >= MAX_LIST {
            break;
        }
        if !emojis.iter().any(|x| x == e) {
            emojis.push((*e).to_string());
        }
    }
    let tags = hashtags::extract(doc);
    let tag_issues = hashtags::issues(doc);
    let q = question::measure(doc);
    let ex = style::exclamations(doc);
    let caps = style::caps(doc);
    let (repeated, content_words) = style::repetition(doc);
    let senti = sentiment::analyze_doc(doc, lang);
    let (detected_tone, tone_scores) = tone::detect(doc, &senti);
    let bait_matches = bait::find(doc);
    let cta_matches: Vec<String> = cta::find(doc, &bait_matches)
        .into_iter()
        .map(String::from)
        .collect();

    let substance = substance::measure(doc, lang, cta_matches.len(), q.count);

    let own = |v: Vec<&str>| {
        v.into_iter()
            .take(MAX_LIST)
            .map(String::from)
            .collect::<Vec<_>>()
    };
    let features = Features {
        chars,
        text_chars,
        words: r.words,
        sentences: doc.sentences.len(),
        syllables: r.syllables,
        words_per_sentence: round3(r.words as f64 / r.sentences.max(1) as f64),
        syllables_per_word: round3(if r.words == 0 {
            0.0
        } else {
            r.syllables as f64 / r.words as f64
        }),
        readability: round3(r.index),
        readability_formula: r.formula,
        lines: doc.lines,
        first_line: hook.text.clone(),
        first_line_chars: hook.chars,
        hook,
        emoji_count: emoji_toks.len(),
        emojis,
        hashtags: own(tags),
        hashtag_issues: tag_issues.into_iter().take(MAX_LIST).collect(),
        shortened_links: link_list.iter().filter(|l| links::is_shortened(l)).count(),
        links: own(link_list),
        mentions: own(doc.of_kind(TokKind::Mention).map(|t| t.raw).collect()),
        questions: q.count,
        ends_with_question: q.ends_with_question,
        exclamations: ex.count,
        exclamation_runs: ex.runs,
        caps_ratio: round3(caps.letter_ratio),
        caps_words: caps.caps_words,
        content_words,
        repeated_words: repeated.into_iter().take(MAX_LIST).collect(),
        sentiment: SentimentScores {
            compound: round3(senti.compound),
            positive: round3(senti.positive),
            negative: round3(senti.negative),
            neutral: round3(senti.neutral),
        },
        detected_tone,
        tone_scores: ToneScores {
            friendly: round3(tone_scores.friendly),
            professional: round3(tone_scores.professional),
            playful: round3(tone_scores.playful),
            inspirational: round3(tone_scores.inspirational),
            urgent: round3(tone_scores.urgent),
            informative: round3(tone_scores.informative),
        },
        bait_matches: bait_matches.into_iter().take(MAX_LIST).collect(),
        cta_matches: cta_matches.into_iter().take(MAX_LIST).collect(),
        substance,
        post_type,
        post_type_inferred,
    };
    (
        features,
        Measures {
            readability: r,
            questions: q,
            caps,
            exclamations: ex,
        },
    )
}

/// Measures `text` as a post in `lang` (post type inferred when `None`).
pub fn extract(text: &str, lang: Language, post_type: Option<PostType>) -> Features {
    extract_doc(&Doc::new(text), lang, post_type).0
}
