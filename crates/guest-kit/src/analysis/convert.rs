//! Between `fbposts-core`'s types and the WIT types of
//! `fbposts:pipeline/analysis`, on the importing side: the request's options
//! out, the report back into the scorer's own `Analysis`, field for field
//! (the inverse of `components/analysis/src/convert.rs`).
//!
//! Written against `super::wit` only, so `components/analysis` compiles
//! this same file against its export-side types and checks natively that
//! an `Analysis` survives the round trip (`round_trip_tests.rs` there).

use super::wit;
use fbposts_core::bait::{BaitKind, BaitMatch};
use fbposts_core::features::Features;
use fbposts_core::hashtags::HashtagIssue;
use fbposts_core::hook::Hook;
use fbposts_core::scoring::WEIGHTS;
use fbposts_core::sentiment::SentimentScores;
use fbposts_core::style::RepeatedWord;
use fbposts_core::substance::{Gate, Substance};
use fbposts_core::tone::ToneScores;
use fbposts_core::{Analysis, AnalyzeRequest, Language, PostType, SCORER_VERSION, Signal, Tone};

/// The options the caller knows, for the step's `analyze`.
pub fn options(request: &AnalyzeRequest) -> wit::Options {
    wit::Options {
        language: request.language.map(language_out),
        post_type: request.post_type.map(post_type_out),
        tone: request.tone.map(tone_out),
        audience: request.audience.clone(),
    }
}

fn language_out(language: Language) -> wit::Language {
    match language {
        Language::Es => wit::Language::Es,
        Language::En => wit::Language::En,
    }
}

fn post_type_out(post_type: PostType) -> wit::PostType {
    match post_type {
        PostType::Status => wit::PostType::Status,
        PostType::Photo => wit::PostType::Photo,
        PostType::Video => wit::PostType::Video,
        PostType::Link => wit::PostType::Link,
    }
}

fn tone_out(tone: Tone) -> wit::Tone {
    match tone {
        Tone::Friendly => wit::Tone::Friendly,
        Tone::Professional => wit::Tone::Professional,
        Tone::Playful => wit::Tone::Playful,
        Tone::Inspirational => wit::Tone::Inspirational,
        Tone::Urgent => wit::Tone::Urgent,
        Tone::Informative => wit::Tone::Informative,
    }
}

fn language_in(language: wit::Language) -> Language {
    match language {
        wit::Language::Es => Language::Es,
        wit::Language::En => Language::En,
    }
}

fn post_type_in(post_type: wit::PostType) -> PostType {
    match post_type {
        wit::PostType::Status => PostType::Status,
        wit::PostType::Photo => PostType::Photo,
        wit::PostType::Video => PostType::Video,
        wit::PostType::Link => PostType::Link,
    }
}

fn tone_in(tone: wit::Tone) -> Tone {
    match tone {
        wit::Tone::Friendly => Tone::Friendly,
        wit::Tone::Professional => Tone::Professional,
        wit::Tone::Playful => Tone::Playful,
        wit::Tone::Inspirational => Tone::Inspirational,
        wit::Tone::Urgent => Tone::Urgent,
        wit::Tone::Informative => Tone::Informative,
    }
}

fn grade_in(grade: wit::Grade) -> &'static str {
    match grade {
        wit::Grade::A => "A",
        wit::Grade::B => "B",
        wit::Grade::C => "C",
        wit::Grade::D => "D",
        wit::Grade::F => "F",
    }
}

fn formula_in(formula: wit::ReadabilityFormula) -> &'static str {
    match formula {
        wit::ReadabilityFormula::FernandezHuerta => "fernandez-huerta",
        wit::ReadabilityFormula::Flesch => "flesch",
    }
}

fn problem_in(problem: wit::HashtagProblem) -> &'static str {
    match problem {
        wit::HashtagProblem::Duplicate => "duplicate",
        wit::HashtagProblem::AllCaps => "all_caps",
        wit::HashtagProblem::TooLong => "too_long",
        wit::HashtagProblem::Numeric => "numeric",
        wit::HashtagProblem::Broken => "broken",
        wit::HashtagProblem::SpaceAfterHash => "space_after_hash",
    }
}

fn bait_kind_in(kind: wit::BaitKind) -> BaitKind {
    match kind {
        wit::BaitKind::React => BaitKind::React,
        wit::BaitKind::Comment => BaitKind::Comment,
        wit::BaitKind::Share => BaitKind::Share,
        wit::BaitKind::Tag => BaitKind::Tag,
        wit::BaitKind::Vote => BaitKind::Vote,
    }
}

fn count(n: u32) -> usize {
    n as usize
}

/// A signal; its name must be one the scorer weighs.
fn signal(s: wit::Signal) -> Result<Signal, String> {
    let name = WEIGHTS
        .iter()
        .map(|(name, _)| *name)
        .find(|name| *name == s.name)
        .ok_or_else(|| format!("unknown signal {:?}", s.name))?;
    Ok(Signal {
        name,
        score: s.score,
        weight: s.weight,
        detail: s.detail,
    })
}

fn hook(h: wit::Hook) -> Hook {
    Hook {
        text: h.text,
        chars: count(h.chars),
        question: h.question,
        number: h.number,
        addresses_reader: h.addresses_reader,
        curiosity: h.curiosity,
        generic_opener: h.generic_opener,
        all_caps: h.all_caps,
    }
}

fn reason_in(reason: wit::ReasonToEngage) -> &'static str {
    match reason {
        wit::ReasonToEngage::CallToAction => "call_to_action",
        wit::ReasonToEngage::Question => "question",
        wit::ReasonToEngage::Offer => "offer",
        wit::ReasonToEngage::Date => "date",
        wit::ReasonToEngage::Link => "link",
    }
}

fn substance(s: wit::Substance) -> Substance {
    Substance {
        content_words: count(s.content_words),
        distinct_content_words: count(s.distinct_content_words),
        numbers: count(s.numbers),
        dates: count(s.dates),
        relative_dates: count(s.relative_dates),
        places: count(s.places),
        names: count(s.names),
        offers: count(s.offers),
        actions: count(s.actions),
        links: count(s.links),
        facts: s.facts,
        reason_to_engage: s.reason_to_engage.map(reason_in),
        score: s.score,
    }
}

fn gate(g: wit::Gate) -> Gate {
    Gate {
        factor: g.factor,
        substance: g.substance,
        reason_to_engage: g.reason_to_engage,
        short_post: g.short_post,
        detail: g.detail,
    }
}

fn features(f: wit::Features) -> Features {
    Features {
        chars: count(f.chars),
        text_chars: count(f.text_chars),
        words: count(f.words),
        sentences: count(f.sentences),
        syllables: count(f.syllables),
        words_per_sentence: f.words_per_sentence,
        syllables_per_word: f.syllables_per_word,
        readability: f.readability,
        readability_formula: formula_in(f.readability_formula),
        lines: count(f.lines),
        first_line: f.first_line,
        first_line_chars: count(f.first_line_chars),
        hook: hook(f.hook),
        emoji_count: count(f.emoji_count),
        emojis: f.emojis,
        hashtags: f.hashtags,
        hashtag_issues: f
            .hashtag_issues
            .into_iter()
            .map(|i| HashtagIssue {
                tag: i.tag,
                issue: problem_in(i.problem),
            })
            .collect(),
        links: f.links,
        shortened_links: count(f.shortened_links),
        mentions: f.mentions,
        questions: count(f.questions),
        ends_with_question: f.ends_with_question,
        exclamations: count(f.exclamations),
        exclamation_runs: count(f.exclamation_runs),
        caps_ratio: f.caps_ratio,
        caps_words: count(f.caps_words),
        content_words: count(f.content_words),
        repeated_words: f
            .repeated_words
            .into_iter()
            .map(|w| RepeatedWord {
                word: w.word,
                count: count(w.count),
            })
            .collect(),
        sentiment: SentimentScores {
            compound: f.sentiment.compound,
            positive: f.sentiment.positive,
            negative: f.sentiment.negative,
            neutral: f.sentiment.neutral,
        },
        detected_tone: tone_in(f.detected_tone),
        tone_scores: ToneScores {
            friendly: f.tone_scores.friendly,
            professional: f.tone_scores.professional,
            playful: f.tone_scores.playful,
            inspirational: f.tone_scores.inspirational,
            urgent: f.tone_scores.urgent,
            informative: f.tone_scores.informative,
        },
        bait_matches: f
            .bait_matches
            .into_iter()
            .map(|m| BaitMatch {
                kind: bait_kind_in(m.kind),
                text: m.text,
                tokens: (count(m.first_token), count(m.end_token)),
            })
            .collect(),
        cta_matches: f.cta_matches,
        substance: substance(f.substance),
        post_type: post_type_in(f.post_type),
        post_type_inferred: f.post_type_inferred,
    }
}

/// The scorer's `Analysis` from the report; the step must run the same
/// scorer version as this component was built with (cache keys carry it).
pub fn report(r: wit::Report) -> Result<Analysis, String> {
    if r.scorer_version != SCORER_VERSION {
        return Err(format!(
            "scorer {:?}, this step expects {SCORER_VERSION:?}",
            r.scorer_version
        ));
    }
    Ok(Analysis {
        score: r.score,
        grade: grade_in(r.grade),
        weighted: r.weighted,
        language: language_in(r.language),
        language_detected: r.language_detected,
        breakdown: r
            .breakdown
            .into_iter()
            .map(signal)
            .collect::<Result<_, _>>()?,
        gate: gate(r.gate),
        suggestions: r.suggestions,
        features: features(r.features),
        scorer_version: SCORER_VERSION,
    })
}
