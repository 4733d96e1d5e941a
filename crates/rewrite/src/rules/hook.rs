//! Rule `hook`: the first line, which is all the feed shows before "See
//! more". Candidates, each judged by the scorer:
//!
//! * drop a generic opener sentence ("Hola a todos!", "Hi everyone.");
//! * turn a flat first sentence into a question with the post's own words:
//!   "Abrimos el sábado." → "¿Sabías que abrimos el sábado?", "We open on
//!   Saturday." → "Did you know we open on Saturday?";
//! * move the most striking sentence (the best hook by core's measure) to
//!   the top, on its own line;
//! * put a long first line's first sentence on a line of its own.

use super::{Candidate, Ctx};
use crate::facts::has_facts;
use crate::text::{capitalize_first, sentences, tidy};
use fbposts_core::fold::fold;
use fbposts_core::text::{Doc, TokKind};
use fbposts_core::{Language, bait, cta, hook, lang};

pub const RULE: &str = "hook";

/// First words that read fine lowercased after "Did you know" / "¿Sabías
/// que" (besides function words).
const LOWER_OK_EN: &[&str] = &[
    "every", "fresh", "new", "today", "tomorrow", "tonight", "this", "these", "our", "we", "it",
    "there", "most", "many", "some",
];
const LOWER_OK_ES: &[&str] = &[
    "cada", "ahora", "manana", "esta", "este", "estas", "estos", "nuestro", "nuestra", "nuestros",
    "nuestras", "hoy", "ya", "todos", "todas", "muchos", "muchas", "nuevo", "nueva",
];

fn hook_score(sentence: &str) -> f64 {
    hook::score(&hook::measure(&Doc::new(sentence)))
}

/// The first word lowercased, if that is safe (not a name or acronym).
fn lowered_start(s: &str, l: Language) -> Option<String> {
    let word: String = s
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '\'')
        .collect();
    if word.is_empty() || word.chars().any(|c| c.is_ascii_digit()) {
        return (!word.is_empty()).then(|| s.to_string());
    }
    if word == "I" || word.starts_with("I'") {
        return Some(s.to_string());
    }
    let lower = word.to_lowercase();
    let folded = fold(&lower);
    let letters: Vec<char> = word.chars().filter(|c| c.is_alphabetic()).collect();
    if letters.len() >= 2 && letters.iter().all(|c| c.is_uppercase()) {
        return None;
    }
    let ok = lang::is_stopword(l, &folded)
        || match l {
            Language::En => LOWER_OK_EN.contains(&folded.as_str()),
            Language::Es => {
                LOWER_OK_ES.contains(&folded.as_str())
                    || (folded.len() > 4 && folded.ends_with("mos"))
            }
        };
    ok.then(|| format!("{lower}{}", &s[word.len()..]))
}

/// "¿Sabías que …?" / "Did you know …?" around a declarative sentence.
fn as_question(sentence: &str, l: Language) -> Option<String> {
    if sentence.contains(['?', '¿', ':', '#', '@']) || sentence.contains("www.") {
        return None;
    }
    let words = sentence.split_whitespace().count();
    if !(4..=18).contains(&words) || sentence.chars().count() > 110 {
        return None;
    }
    let doc = Doc::new(sentence);
    if !bait::find(&doc).is_empty() || !cta::find(&doc, &[]).is_empty() {
        return None;
    }
    let m = hook::measure(&doc);
    if m.generic_opener || m.all_caps {
        return None;
    }
    let body = sentence
        .trim_start_matches('¡')
        .trim_end_matches(['.', '!', '…', ' ']);
    if !body
        .chars()
        .next_back()
        .is_some_and(|c| c.is_alphanumeric() || c == '%' || c == ')')
    {
        return None;
    }
    // Only prose: no emoji or symbols we would wrap inside the question.
    if doc
        .tokens
        .iter()
        .any(|t| matches!(t.kind, TokKind::Emoji | TokKind::Emoticon))
    {
        return None;
    }
    let body = lowered_start(body, l)?;
    Some(match l {
        Language::Es => format!("¿Sabías que {body}?"),
        Language::En => format!("Did you know {body}?"),
    })
}

pub fn candidates(ctx: &Ctx<'_>, text: &str) -> Vec<Candidate> {
    let spans = sentences(text);
    let Some(first) = spans.first().copied() else {
        return Vec::new();
    };
    let first_text = &text[first.start..first.end];
    let mut out = Vec::new();

    // Generic opener sentence.
    let opener = hook::measure(&Doc::new(first_text));
    if opener.generic_opener
        && spans.len() > 1
        && first_text.split_whitespace().count() <= 6
        && !has_facts(text, first.start, first.end)
    {
        let rest = capitalize_first(&text[first.end..]);
        out.push(Candidate::new(
            RULE,
            tidy(&format!("{}{}", &text[..first.start], rest)),
        ));
    }

    // The first sentence as a question.
    if let Some(q) = as_question(first_text, ctx.lang) {
        out.push(Candidate::new(
            RULE,
            format!("{}{}{}", &text[..first.start], q, &text[first.end..]),
        ));
    }

    // The most striking sentence first.
    let current = hook_score(first_text);
    let best = spans
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(_, s)| {
            let t = &text[s.start..s.end];
            let doc = Doc::new(t);
            t.split_whitespace().count() >= 5
                && t.chars().count() <= 125
                && !t.contains("http")
                && !t.contains("www.")
                && bait::find(&doc).is_empty()
                && cta::find(&doc, &[]).is_empty()
        })
        .map(|(i, s)| (i, hook_score(&text[s.start..s.end])))
        .fold(None::<(usize, f64)>, |acc, (i, sc)| match acc {
            Some((_, b)) if b >= sc => acc,
            _ => Some((i, sc)),
        });
    if let Some((i, sc)) = best
        && sc > current + 0.1
    {
        let s = spans[i];
        let moved = &text[s.start..s.end];
        let without = format!("{}{}", &text[..s.start], &text[s.end..]);
        out.push(Candidate::new(RULE, tidy(&format!("{moved}\n{without}"))));
    }

    // A long first line: its first sentence on a line of its own.
    if let Some(second) = spans.get(1)
        && second.line == first.line
        && text[first.start..]
            .lines()
            .next()
            .is_some_and(|l| l.chars().count() > 80)
    {
        out.push(Candidate::new(
            RULE,
            format!("{}\n{}", &text[..first.end], &text[second.start..]),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_from_own_words() {
        assert_eq!(
            as_question("Abrimos una panadería nueva en el centro.", Language::Es).as_deref(),
            Some("¿Sabías que abrimos una panadería nueva en el centro?")
        );
        assert_eq!(
            as_question("We open our new bakery on Saturday at 9am!", Language::En).as_deref(),
            Some("Did you know we open our new bakery on Saturday at 9am?")
        );
        // Names keep their capital: not lowercased, so not rewritten.
        assert_eq!(
            as_question("Lucía abre su taller de cerámica el martes.", Language::Es),
            None
        );
        assert_eq!(as_question("¿Ya lo probaste en casa?", Language::Es), None);
    }
}
