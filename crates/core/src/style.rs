//! Style hygiene: ALL-CAPS overuse, exclamation overuse (`!!!`) and
//! repetition of the same content word.
//!
//! Capitals and stacked exclamation marks read as shouting and are classic
//! spam/clickbait markers (Facebook's 2014 and 2017 clickbait and spam
//! updates name sensational, exaggerated formatting); a word hammered over
//! and over reads as keyword stuffing and makes the post monotonous.

use crate::scoring::Signal;
use crate::text::{Doc, TokKind, Token};
use crate::{Language, round3};
use serde::Serialize;

// ---------------------------------------------------------------- caps --

/// Capital-letter measurements.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Caps {
    /// Words (letters only).
    pub words: usize,
    /// Words of 2+ letters written entirely in capitals.
    pub caps_words: usize,
    /// Uppercase letters / letters.
    pub letter_ratio: f64,
}

pub fn caps(doc: &Doc<'_>) -> Caps {
    let (mut words, mut caps_words, mut letters, mut upper) = (0, 0, 0usize, 0usize);
    for t in doc.of_kind(TokKind::Word) {
        words += 1;
        if t.is_all_caps() {
            caps_words += 1;
        }
        for c in t.raw.chars().filter(|c| c.is_alphabetic()) {
            letters += 1;
            if c.is_uppercase() {
                upper += 1;
            }
        }
    }
    let letter_ratio = if letters == 0 {
        0.0
    } else {
        upper as f64 / letters as f64
    };
    Caps {
        words,
        caps_words,
        letter_ratio,
    }
}

/// Share of words in capitals.
pub fn caps_word_ratio(c: &Caps) -> f64 {
    if c.words == 0 {
        0.0
    } else {
        c.caps_words as f64 / c.words as f64
    }
}

/// 0..=1: up to two capitalised words (acronyms, one emphasis) or 10% of
/// the words is fine; 50% or more scores 0.
pub fn caps_score(c: &Caps) -> f64 {
    let r = caps_word_ratio(c);
    if c.caps_words <= 2 || r <= 0.1 {
        1.0
    } else {
        (1.0 - (r - 0.1) / 0.4).clamp(0.0, 1.0)
    }
}

pub fn caps_signal(c: &Caps, lang: Language) -> Signal {
    let n = c.caps_words;
    let pct = (caps_word_ratio(c) * 100.0).round();
    let detail = if caps_score(c) >= 1.0 {
        tr!(
            lang,
            "Capitals used sparingly.",
            "Mayúsculas usadas con moderación."
        )
    } else {
        tr!(
            lang,
            "{n} words in ALL CAPS ({pct}%): reads as shouting.",
            "{n} palabras en MAYÚSCULAS ({pct}%): parece que gritas."
        )
    };
    Signal::new("caps", round3(caps_score(c)), detail)
}

pub fn caps_suggestion(c: &Caps, lang: Language) -> Option<String> {
    (caps_score(c) < 0.75).then(|| {
        tr!(
            lang,
            "Write in normal sentence case; keep capitals for one key word at most (it reads as shouting otherwise).",
            "Escribe en minúsculas normales; reserva las mayúsculas para una palabra clave como mucho (si no, parece que gritas)."
        )
    })
}

// ------------------------------------------------------- exclamations --

/// Exclamation measurements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Exclamations {
    /// `!` characters.
    pub count: usize,
    /// Runs of two or more `!` (`!!`, `!!!`, `!?!`).
    pub runs: usize,
    /// Sentences in the post.
    pub sentences: usize,
}

pub fn exclamations(doc: &Doc<'_>) -> Exclamations {
    let (mut count, mut runs) = (0, 0);
    let mut in_run = 0; // '!' in the current run of ! and ?
    for c in doc.text.chars() {
        match c {
            '!' => {
                count += 1;
                in_run += 1;
                if in_run == 2 {
                    runs += 1;
                }
            }
            '?' | '\u{FE0F}' => {}
            _ => in_run = 0,
        }
    }
    Exclamations {
        count,
        runs,
        sentences: doc.sentences.len(),
    }
}

/// 0..=1: −0.25 per `!!` run, −0.1 per `!` beyond max(2, half the
/// sentences).
pub fn exclamation_score(e: &Exclamations) -> f64 {
    let allowed = 2.max(e.sentences / 2);
    let excess = e.count.saturating_sub(allowed) as f64;
    (1.0 - 0.25 * e.runs as f64 - 0.1 * excess).clamp(0.0, 1.0)
}

pub fn exclamation_signal(e: &Exclamations, lang: Language) -> Signal {
    let (n, r) = (e.count, e.runs);
    let detail = if exclamation_score(e) >= 1.0 {
        tr!(
            lang,
            "Exclamation marks used sparingly ({n}).",
            "Signos de exclamación con moderación ({n})."
        )
    } else {
        tr!(
            lang,
            "{n} exclamation marks, {r} stacked (\"!!\"): over-excited, a common clickbait marker.",
            "{n} signos de exclamación, {r} repetidos («!!»): exceso de entusiasmo, típico del clickbait."
        )
    };
    Signal::new("exclamations", round3(exclamation_score(e)), detail)
}

pub fn exclamation_suggestion(e: &Exclamations, lang: Language) -> Option<String> {
    (exclamation_score(e) < 0.75).then(|| {
        tr!(
            lang,
            "Use at most one exclamation mark, never \"!!!\": let the words carry the excitement.",
            "Usa como mucho un signo de exclamación, nunca «!!!»: deja que las palabras transmitan la emoción."
        )
    })
}

// ---------------------------------------------------------- repetition --

/// A content word used more often than the post's length justifies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepeatedWord {
    /// Folded form.
    pub word: String,
    pub count: usize,
}

/// How many uses of one content word are "too many" for a post with
/// `content_words` content words: 3 in a short post, ~6% in a long one.
pub fn repetition_threshold(content_words: usize) -> usize {
    3.max((content_words as f64 * 0.06).ceil() as usize + 1)
}

fn is_content_word(t: &Token<'_>) -> bool {
    t.kind == TokKind::Word && !t.stop_es && !t.stop_en && t.norm.chars().nth(2).is_some()
}

/// Content words (3+ letters, not function words of either language) used
/// at least [`repetition_threshold`] times, most repeated first.
pub fn repeated_words(doc: &Doc<'_>) -> Vec<RepeatedWord> {
    repetition(doc).0
}

/// [`repeated_words`] and [`content_words`] in one pass.
pub fn repetition(doc: &Doc<'_>) -> (Vec<RepeatedWord>, usize) {
    let mut words: Vec<&str> = doc
        .tokens
        .iter()
        .filter(|t| is_content_word(t))
        .map(|t| t.norm.as_ref())
        .collect();
    let content = words.len();
    let threshold = repetition_threshold(words.len());
    words.sort_unstable();
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let j = i + words[i..].partition_point(|w| *w == words[i]);
        if j - i >= threshold {
            out.push(RepeatedWord {
                word: words[i].to_string(),
                count: j - i,
            });
        }
        i = j;
    }
    out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.word.cmp(&b.word)));
    (out, content)
}

/// 0..=1: −0.25 per over-used word, −0.1 per use beyond the threshold of
/// the worst one.
pub fn repetition_score(repeated: &[RepeatedWord], content_words: usize) -> f64 {
    let Some(worst) = repeated.first() else {
        return 1.0;
    };
    let over = worst
        .count
        .saturating_sub(repetition_threshold(content_words)) as f64;
    (1.0 - 0.25 * repeated.len() as f64 - 0.1 * over).clamp(0.0, 1.0)
}

/// Number of content words, as counted by [`repeated_words`].
pub fn content_words(doc: &Doc<'_>) -> usize {
    doc.tokens.iter().filter(|t| is_content_word(t)).count()
}

pub fn repetition_signal(repeated: &[RepeatedWord], content: usize, lang: Language) -> Signal {
    let s = repetition_score(repeated, content);
    let detail = match repeated.first() {
        None => tr!(
            lang,
            "No word is over-used.",
            "Ninguna palabra se repite en exceso."
        ),
        Some(w) => {
            let (word, count) = (&w.word, w.count);
            tr!(
                lang,
                "\"{word}\" appears {count} times: repetitive.",
                "«{word}» aparece {count} veces: repetitivo."
            )
        }
    };
    Signal::new("repetition", round3(s), detail)
}

pub fn repetition_suggestion(
    repeated: &[RepeatedWord],
    content: usize,
    lang: Language,
) -> Option<String> {
    if repetition_score(repeated, content) >= 0.75 {
        return None;
    }
    let w = repeated.first()?;
    let (word, count) = (&w.word, w.count);
    Some(tr!(
        lang,
        "Vary your wording: \"{word}\" is used {count} times; keep it once or twice and use a synonym or a pronoun elsewhere.",
        "Varía el vocabulario: «{word}» aparece {count} veces; déjala una o dos veces y usa un sinónimo o un pronombre en el resto."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_overuse() {
        let calm = caps(&Doc::new("Our NASA trip was great, see you in the USA"));
        let loud = caps(&Doc::new("BUY NOW THE BEST DEAL EVER, ONLY TODAY"));
        assert_eq!(caps_score(&calm), 1.0);
        assert_eq!(loud.caps_words, 8);
        assert!(caps_score(&loud) < 0.1);
        assert!(loud.letter_ratio > 0.9);
        let es = caps(&Doc::new("¡OFERTA INCREÍBLE SOLO HOY EN TIENDA!"));
        assert!(caps_score(&es) < 0.2);
    }

    #[test]
    fn exclamation_overuse() {
        let calm = exclamations(&Doc::new("Big news! We open on Monday."));
        let loud = exclamations(&Doc::new("Big news!!! We open on Monday!!! Come!!"));
        assert_eq!(calm.runs, 0);
        assert_eq!(exclamation_score(&calm), 1.0);
        assert_eq!(loud.runs, 3);
        assert!(exclamation_score(&loud) < 0.3);
        let es = exclamations(&Doc::new("¡¡¡Hola!!! ¿¡Qué tal?!"));
        assert_eq!(es.runs, 1);
    }

    #[test]
    fn repetition() {
        let d =
            Doc::new("Pizza night! Our pizza is the best pizza, and pizza lovers love our pizza.");
        let r = repeated_words(&d);
        assert_eq!(
            r[0],
            RepeatedWord {
                word: "pizza".into(),
                count: 5
            }
        );
        assert!(repetition_score(&r, content_words(&d)) < 0.6);
        let d = Doc::new("Pizza night! Our wood-fired oven is finally ready, come taste it.");
        assert!(repeated_words(&d).is_empty());
        // Function words never count.
        let d = Doc::new("de la de la de la de la que que que");
        assert!(repeated_words(&d).is_empty());
    }
}
