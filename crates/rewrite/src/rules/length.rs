//! Rule `length`: trims a post that is longer than its type's ideal range by
//! dropping whole sentences, least informative first (fewest content words
//! not said elsewhere in the post). Never cuts mid-sentence, and never drops
//! the first sentence (the hook), a question, a call to action, or a
//! sentence with facts; trailing links and hashtags of a sentence stay.

use super::{Candidate, Ctx};
use crate::facts::has_facts_in;
use crate::text::{sentences, tidy};
use fbposts_core::length::ideal_range;
use fbposts_core::text::{Doc, TokKind};
use fbposts_core::{Language, cta, lang};

pub const RULE: &str = "length";

/// Candidates generated per step (the least informative sentences).
const PER_STEP: usize = 2;

fn content_words(s: &str, l: Language) -> Vec<String> {
    Doc::new(s)
        .words()
        .filter(|t| {
            t.kind == TokKind::Word && t.norm.chars().count() >= 4 && !lang::is_stopword(l, &t.norm)
        })
        .map(|t| t.norm.to_string())
        .collect()
}

pub fn candidates(ctx: &Ctx<'_>, text: &str) -> Vec<Candidate> {
    let f = &ctx.analysis.features;
    let (_, hi) = ideal_range(f.post_type);
    if f.text_chars <= hi {
        return Vec::new();
    }
    let spans = sentences(text);
    let doc = Doc::new(text);
    // Each sentence's prose part: without a trailing run of links/hashtags.
    let prose: Vec<(usize, usize)> = spans
        .iter()
        .map(|s| {
            let mut end = s.end;
            for t in doc
                .tokens
                .iter()
                .rev()
                .filter(|t| t.start >= s.start && t.end() <= s.end)
            {
                if matches!(t.kind, TokKind::Link | TokKind::Hashtag) {
                    end = t.start;
                } else {
                    break;
                }
            }
            (s.start, end)
        })
        .collect();
    let words: Vec<Vec<String>> = prose
        .iter()
        .map(|&(a, b)| content_words(&text[a..b], ctx.lang))
        .collect();
    let prose_sentences = words.iter().filter(|w| !w.is_empty()).count();
    if prose_sentences < 2 {
        return Vec::new();
    }
    let mut ranked: Vec<(usize, usize, usize)> = Vec::new(); // (info, !chars, index)
    for (i, &(a, b)) in prose.iter().enumerate().skip(1) {
        let s = &text[a..b];
        if s.trim().is_empty()
            || s.contains(['?', '¿'])
            || has_facts_in(&doc, text, a, b)
            || !cta::find(&Doc::new(s), &[]).is_empty()
        {
            continue;
        }
        let info = words[i]
            .iter()
            .filter(|w| {
                !words
                    .iter()
                    .enumerate()
                    .any(|(j, other)| j != i && other.contains(w))
            })
            .count();
        ranked.push((info, usize::MAX - s.chars().count(), i));
    }
    ranked.sort();
    ranked
        .iter()
        .take(PER_STEP)
        .map(|&(_, _, i)| {
            let (a, b) = prose[i];
            Candidate::new(RULE, tidy(&format!("{}{}", &text[..a], &text[b..])))
        })
        .collect()
}
