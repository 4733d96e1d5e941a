//! From the WIT request types to `fbposts-core`'s, and from its `Analysis`
//! to the WIT report. Field for field: the importer rebuilds the same
//! `Analysis` from the report (see `fbposts-guest-kit`'s `analysis`).

use crate::bindings::exports::fbposts::pipeline::analysis as wit;
use fbposts_core::bait::{BaitKind, BaitMatch};
use fbposts_core::features::Features;
use fbposts_core::hashtags::HashtagIssue;
use fbposts_core::hook::Hook;
use fbposts_core::sentiment::SentimentScores;
use fbposts_core::style::RepeatedWord;
use fbposts_core::substance::{Gate, Substance};
use fbposts_core::tone::ToneScores;
use fbposts_core::{Analysis, AnalyzeRequest, Language, PostType, Signal, Tone};

/// The scorer's request for `text` with the caller's options.
pub fn request(text: String, options: wit::Options) -> AnalyzeRequest {
    AnalyzeRequest {
        language: options.language.map(language_in),
        post_type: options.post_type.map(post_type_in),
        tone: options.tone.map(tone_in),
        audience: options.audience,
        ..AnalyzeRequest::new(text)
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

fn grade_out(grade: &str) -> wit::Grade {
    match grade {
        "A" => wit::Grade::A,
        "B" => wit::Grade::B,
        "C" => wit::Grade::C,
        "D" => wit::Grade::D,
        _ => wit::Grade::F,
    }
}

fn formula_out(formula: &str) -> wit::ReadabilityFormula {
    match formula {
        "flesch" => wit::ReadabilityFormula::Flesch,
        _ => wit::ReadabilityFormula::FernandezHuerta,
    }
}

fn problem_out(issue: &str) -> wit::HashtagProblem {
    match issue {
        "duplicate" => wit::HashtagProblem::Duplicate,
        "all_caps" => wit::HashtagProblem::AllCaps,
        "too_long" => wit::HashtagProblem::TooLong,
        "numeric" => wit::HashtagProblem::Numeric,
        "broken" => wit::HashtagProblem::Broken,
        _ => wit::HashtagProblem::SpaceAfterHash,
    }
}

fn bait_kind_out(kind: BaitKind) -> wit::BaitKind {
    match kind {
        BaitKind::React => wit::BaitKind::React,
        BaitKind::Comment => wit::BaitKind::Comment,
        BaitKind::Share => wit::BaitKind::Share,
        BaitKind::Tag => wit::BaitKind::Tag,
        BaitKind::Vote => wit::BaitKind::Vote,
    }
}

/// Counts are bounded by the post's length (≤ 63,206 chars), far below u32.
fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn signal(s: Signal) -> wit::Signal {
    wit::Signal {
        name: s.name.to_string(),
        score: s.score,
        weight: s.weight,
        detail: s.detail,
    }
}

fn hook(h: Hook) -> wit::Hook {
    wit::Hook {
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

fn hashtag_issue(i: HashtagIssue) -> wit::HashtagIssue {
    wit::HashtagIssue {
        tag: i.tag,
        problem: problem_out(i.issue),
    }
}

fn repeated_word(w: RepeatedWord) -> wit::RepeatedWord {
    wit::RepeatedWord {
        word: w.word,
        count: count(w.count),
    }
}

fn sentiment(s: SentimentScores) -> wit::Sentiment {
    wit::Sentiment {
        compound: s.compound,
        positive: s.positive,
        negative: s.negative,
        neutral: s.neutral,
    }
}

fn tone_scores(t: ToneScores) -> wit::ToneScores {
    wit::ToneScores {
        friendly: t.friendly,
        professional: t.professional,
        playful: t.playful,
        inspirational: t.inspirational,
        urgent: t.urgent,
        informative: t.informative,
    }
}

fn bait_match(m: BaitMatch) -> wit::BaitMatch {
    wit::BaitMatch {
        kind: bait_kind_out(m.kind),
        text: m.text,
        first_token: count(m.tokens.0),
        end_token: count(m.tokens.1),
    }
}

/// The scorer names its reasons `call_to_action`, `question`, `offer`,
/// `date` and `link`.
fn reason_out(reason: &str) -> wit::ReasonToEngage {
    match reason {
        "call_to_action" => wit::ReasonToEngage::CallToAction,
        "question" => wit::ReasonToEngage::Question,
        "offer" => wit::ReasonToEngage::Offer,
        "date" => wit::ReasonToEngage::Date,
        _ => wit::ReasonToEngage::Link,
    }
}

fn substance(s: Substance) -> wit::Substance {
    wit::Substance {
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
        reason_to_engage: s.reason_to_engage.map(reason_out),
        score: s.score,
    }
}

fn gate(g: Gate) -> wit::Gate {
    wit::Gate {
        factor: g.factor,
        substance: g.substance,
        reason_to_engage: g.reason_to_engage,
        short_post: g.short_post,
        detail: g.detail,
    }
}

fn features(f: Features) -> wit::Features {
    wit::Features {
        chars: count(f.chars),
        text_chars: count(f.text_chars),
        words: count(f.words),
        sentences: count(f.sentences),
        syllables: count(f.syllables),
        words_per_sentence: f.words_per_sentence,
        syllables_per_word: f.syllables_per_word,
        readability: f.readability,
        readability_formula: formula_out(f.readability_formula),
        lines: count(f.lines),
        first_line: f.first_line,
        first_line_chars: count(f.first_line_chars),
        hook: hook(f.hook),
        emoji_count: count(f.emoji_count),
        emojis: f.emojis,
        hashtags: f.hashtags,
        hashtag_issues: f.hashtag_issues.into_iter().map(hashtag_issue).collect(),
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
        repeated_words: f.repeated_words.into_iter().map(repeated_word).collect(),
        sentiment: sentiment(f.sentiment),
        detected_tone: tone_out(f.detected_tone),
        tone_scores: tone_scores(f.tone_scores),
        bait_matches: f.bait_matches.into_iter().map(bait_match).collect(),
        cta_matches: f.cta_matches,
        substance: substance(f.substance),
        post_type: post_type_out(f.post_type),
        post_type_inferred: f.post_type_inferred,
    }
}

/// The WIT report of an analysis.
pub fn report(a: Analysis) -> wit::Report {
    wit::Report {
        score: a.score,
        grade: grade_out(a.grade),
        weighted: a.weighted,
        language: language_out(a.language),
        language_detected: a.language_detected,
        breakdown: a.breakdown.into_iter().map(signal).collect(),
        gate: gate(a.gate),
        suggestions: a.suggestions,
        features: features(a.features),
        scorer_version: a.scorer_version.to_string(),
    }
}
