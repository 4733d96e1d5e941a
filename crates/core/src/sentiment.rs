//! Sentiment: a port of VADER (Hutto & Gilbert, ICWSM 2014), the
//! lexicon-and-rules analyser tuned for social media, for English and
//! Spanish.
//!
//! * English uses VADER's own lexicon, booster list and negations.
//! * Spanish uses a translation of VADER's lexicon (see `data/NOTICE.md`)
//!   with Spanish negations (no, nunca, jamás, ni, sin…), boosters (muy,
//!   súper, demasiado…), dampeners (poco, algo, apenas…) and `pero`/`sino`
//!   as the contrastive conjunction.
//! * Emoji carry the valence of their VADER description; emoticons (`:)`)
//!   come from the English lexicon in both languages.
//!
//! Rules kept from VADER: boosters/dampeners up to three words back
//! (decaying), negation up to three words back (×−0.74), ALL-CAPS emphasis
//! when only some words are capitalised, the "but" rule (before ×0.5, after
//! ×1.5), `!` (up to 4) and `??` amplification, and the compound
//! normalisation `x/√(x²+15)`. Compound scores are computed per sentence and
//! averaged over the sentences that carry sentiment.

use crate::Language;
use crate::lexicon::{self, Lexicon};
use crate::text::{Doc, TokKind, Token};
use crate::words::{WordMap, WordSet};
use serde::Serialize;

const B_INCR: f32 = 0.293;
const B_DECR: f32 = -0.293;
const C_INCR: f32 = 0.733;
const N_SCALAR: f32 = -0.74;

/// VADER's negations (folded, sorted).
const EN_NEGATE: &[&str] = &[
    "ain't",
    "aint",
    "aren't",
    "arent",
    "can't",
    "cannot",
    "cant",
    "couldn't",
    "couldnt",
    "daren't",
    "darent",
    "despite",
    "didn't",
    "didnt",
    "doesn't",
    "doesnt",
    "don't",
    "dont",
    "hadn't",
    "hadnt",
    "hasn't",
    "hasnt",
    "haven't",
    "havent",
    "isn't",
    "isnt",
    "mightn't",
    "mightnt",
    "mustn't",
    "mustnt",
    "needn't",
    "neednt",
    "neither",
    "never",
    "none",
    "nope",
    "nor",
    "not",
    "nothing",
    "nowhere",
    "oughtn't",
    "oughtnt",
    "rarely",
    "seldom",
    "shan't",
    "shant",
    "shouldn't",
    "shouldnt",
    "uh-uh",
    "uhuh",
    "wasn't",
    "wasnt",
    "weren't",
    "werent",
    "without",
    "won't",
    "wont",
    "wouldn't",
    "wouldnt",
];

const ES_NEGATE: &[&str] = &[
    "jamas", "nada", "nadie", "ni", "ningun", "ninguna", "ninguno", "no", "nunca", "sin", "tampoco",
];

/// VADER's booster/dampener words (folded, sorted).
const EN_BOOSTERS: &[(&str, f32)] = &[
    ("absolutely", B_INCR),
    ("almost", B_DECR),
    ("amazingly", B_INCR),
    ("awfully", B_INCR),
    ("barely", B_DECR),
    ("completely", B_INCR),
    ("considerable", B_INCR),
    ("considerably", B_INCR),
    ("decidedly", B_INCR),
    ("deeply", B_INCR),
    ("effing", B_INCR),
    ("enormous", B_INCR),
    ("enormously", B_INCR),
    ("entirely", B_INCR),
    ("especially", B_INCR),
    ("exceptional", B_INCR),
    ("exceptionally", B_INCR),
    ("extreme", B_INCR),
    ("extremely", B_INCR),
    ("fabulously", B_INCR),
    ("flippin", B_INCR),
    ("flipping", B_INCR),
    ("frackin", B_INCR),
    ("fracking", B_INCR),
    ("frickin", B_INCR),
    ("fricking", B_INCR),
    ("friggin", B_INCR),
    ("frigging", B_INCR),
    ("fuckin", B_INCR),
    ("fucking", B_INCR),
    ("fuggin", B_INCR),
    ("fugging", B_INCR),
    ("fully", B_INCR),
    ("greatly", B_INCR),
    ("hardly", B_DECR),
    ("hella", B_INCR),
    ("highly", B_INCR),
    ("hugely", B_INCR),
    ("incredible", B_INCR),
    ("incredibly", B_INCR),
    ("intensely", B_INCR),
    ("kinda", B_DECR),
    ("kindof", B_DECR),
    ("less", B_DECR),
    ("little", B_DECR),
    ("major", B_INCR),
    ("majorly", B_INCR),
    ("marginal", B_DECR),
    ("marginally", B_DECR),
    ("more", B_INCR),
    ("most", B_INCR),
    ("occasional", B_DECR),
    ("occasionally", B_DECR),
    ("particularly", B_INCR),
    ("partly", B_DECR),
    ("purely", B_INCR),
    ("quite", B_INCR),
    ("really", B_INCR),
    ("remarkably", B_INCR),
    ("scarce", B_DECR),
    ("scarcely", B_DECR),
    ("slight", B_DECR),
    ("slightly", B_DECR),
    ("so", B_INCR),
    ("somewhat", B_DECR),
    ("sorta", B_DECR),
    ("sortof", B_DECR),
    ("substantially", B_INCR),
    ("thoroughly", B_INCR),
    ("total", B_INCR),
    ("totally", B_INCR),
    ("tremendous", B_INCR),
    ("tremendously", B_INCR),
    ("uber", B_INCR),
    ("unbelievably", B_INCR),
    ("unusually", B_INCR),
    ("utter", B_INCR),
    ("utterly", B_INCR),
    ("very", B_INCR),
];

/// Spanish boosters and dampeners (folded, sorted).
const ES_BOOSTERS: &[(&str, f32)] = &[
    ("absolutamente", B_INCR),
    ("algo", B_DECR),
    ("altamente", B_INCR),
    ("apenas", B_DECR),
    ("bastante", B_INCR),
    ("casi", B_DECR),
    ("completamente", B_INCR),
    ("demasiada", B_INCR),
    ("demasiado", B_INCR),
    ("enormemente", B_INCR),
    ("escasamente", B_DECR),
    ("especialmente", B_INCR),
    ("extremadamente", B_INCR),
    ("increiblemente", B_INCR),
    ("ligeramente", B_DECR),
    ("mas", B_INCR),
    ("medio", B_DECR),
    ("mucha", B_INCR),
    ("muchas", B_INCR),
    ("muchisima", B_INCR),
    ("muchisimo", B_INCR),
    ("mucho", B_INCR),
    ("muchos", B_INCR),
    ("muy", B_INCR),
    ("parcialmente", B_DECR),
    ("poco", B_DECR),
    ("profundamente", B_INCR),
    ("re", B_INCR),
    ("realmente", B_INCR),
    ("recontra", B_INCR),
    ("sumamente", B_INCR),
    ("super", B_INCR),
    ("tan", B_INCR),
    ("tanta", B_INCR),
    ("tanto", B_INCR),
    ("totalmente", B_INCR),
    ("tremendamente", B_INCR),
    ("verdaderamente", B_INCR),
];

/// VADER-style scores. `compound` is in −1..=1; the three proportions sum
/// to 1 (or are all 0 for text without words).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct SentimentScores {
    pub compound: f64,
    pub positive: f64,
    pub negative: f64,
    pub neutral: f64,
}

const EN_BOOSTER_MAP: WordMap<f32> = crate::word_map!(EN_BOOSTERS);
const ES_BOOSTER_MAP: WordMap<f32> = crate::word_map!(ES_BOOSTERS);
const EN_NEGATE_SET: WordSet = crate::word_set!(EN_NEGATE);
const ES_NEGATE_SET: WordSet = crate::word_set!(ES_NEGATE);

fn booster(lang: Language, w: &str) -> Option<f32> {
    let map = match lang {
        Language::En => EN_BOOSTER_MAP,
        Language::Es => ES_BOOSTER_MAP,
    };
    map.get(w).copied()
}

fn is_negation(lang: Language, w: &str) -> bool {
    match lang {
        Language::En => EN_NEGATE_SET.contains(w) || w.ends_with("n't"),
        Language::Es => ES_NEGATE_SET.contains(w),
    }
}

fn is_contrast(lang: Language, w: &str) -> bool {
    match lang {
        Language::En => w == "but",
        Language::Es => w == "pero" || w == "sino",
    }
}

/// An item VADER scores: a word, number, hashtag, emoji or emoticon.
struct Item<'t, 'a> {
    tok: &'t Token<'a>,
    /// Lexicon valence, looked up once.
    val: Option<f32>,
}

impl Item<'_, '_> {
    fn norm(&self) -> &str {
        &self.tok.norm
    }
}

fn valence_of(tok: &Token<'_>, lex: &Lexicon) -> Option<f32> {
    match tok.kind {
        TokKind::Emoji => lexicon::emoji_valence(tok.raw),
        TokKind::Emoticon => lexicon::EN.get(&tok.norm),
        _ => lex.get(&tok.norm),
    }
}

/// VADER's `scalar_inc_dec`.
fn scalar(lang: Language, item: &Item<'_, '_>, valence: f32, cap_diff: bool) -> f32 {
    let Some(mut s) = booster(lang, item.norm()) else {
        return 0.0;
    };
    if valence < 0.0 {
        s = -s;
    }
    if item.tok.is_all_caps() && cap_diff {
        s += if valence > 0.0 { C_INCR } else { -C_INCR };
    }
    s
}

/// Valences of one sentence's items (VADER's `sentiment_valence` loop plus
/// the "but" rule).
fn sentence_valences(items: &[Item<'_, '_>], lang: Language, cap_diff: bool, out: &mut Vec<f32>) {
    out.clear();
    for (i, item) in items.iter().enumerate() {
        let w = item.norm();
        if booster(lang, w).is_some()
            || (lang == Language::En
                && w == "kind"
                && items.get(i + 1).is_some_and(|n| n.norm() == "of"))
        {
            out.push(0.0);
            continue;
        }
        let Some(base) = item.val else {
            out.push(0.0);
            continue;
        };
        let mut v = base;
        // "no" negating an adjacent lexicon word rather than carrying its own valence.
        if lang == Language::En && w == "no" && items.get(i + 1).is_some_and(|n| n.val.is_some()) {
            v = 0.0;
        }
        if item.tok.is_all_caps() && cap_diff {
            v += if v > 0.0 { C_INCR } else { -C_INCR };
        }
        for back in 0..3 {
            if i <= back {
                break;
            }
            let prev = &items[i - back - 1];
            if prev.val.is_some() {
                continue;
            }
            let mut s = scalar(lang, prev, v, cap_diff);
            if back == 1 {
                s *= 0.95;
            } else if back == 2 {
                s *= 0.9;
            }
            v += s;
            if is_negation(lang, prev.norm()) {
                v *= N_SCALAR;
            }
        }
        // "kind of good", "sort of nice": VADER's bigram dampeners.
        if lang == Language::En
            && i >= 2
            && matches!(items[i - 2].norm(), "kind" | "sort")
            && items[i - 1].norm() == "of"
        {
            v += B_DECR;
        }
        out.push(v);
    }
    if let Some(bi) = items.iter().position(|it| is_contrast(lang, it.norm())) {
        for (i, v) in out.iter_mut().enumerate() {
            if i < bi {
                *v *= 0.5;
            } else if i > bi {
                *v *= 1.5;
            }
        }
    }
}

fn normalize(score: f32) -> f64 {
    let s = f64::from(score);
    (s / (s * s + 15.0).sqrt()).clamp(-1.0, 1.0)
}

/// `!` and `?` emphasis of a token range (VADER's `_punctuation_emphasis`).
fn punctuation_emphasis(tokens: &[Token<'_>]) -> f32 {
    let ep = tokens.iter().filter(|t| t.raw == "!").count().min(4) as f32 * 0.292;
    let qm = tokens.iter().filter(|t| t.raw == "?").count();
    let qm = match qm {
        0 | 1 => 0.0,
        2 | 3 => qm as f32 * 0.18,
        _ => 0.96,
    };
    ep + qm
}

/// Sentiment of a tokenised post in `lang`.
pub fn analyze_doc(doc: &Doc<'_>, lang: Language) -> SentimentScores {
    let lex = lexicon::for_language(lang);
    let scored = |t: &Token<'_>| {
        matches!(
            t.kind,
            TokKind::Word | TokKind::Number | TokKind::Hashtag | TokKind::Emoji | TokKind::Emoticon
        )
    };
    let (mut n_items, mut caps) = (0, 0);
    for t in doc.tokens.iter().filter(|t| scored(t)) {
        n_items += 1;
        caps += usize::from(t.is_all_caps());
    }
    let cap_diff = caps > 0 && caps < n_items;

    // Sentence ranges; a post without sentences (emoji only) is one range.
    // Each sentence extends to the next one, so tokens of word-less
    // fragments (a line of emoji) are scored with the sentence before.
    let mut ranges: Vec<(usize, usize)> = doc.sentences.iter().map(|s| (s.start, s.end)).collect();
    for i in 0..ranges.len() {
        ranges[i].1 = ranges.get(i + 1).map_or(doc.tokens.len(), |n| n.0);
    }
    match ranges.first_mut() {
        Some(first) => first.0 = 0,
        None => ranges.push((0, doc.tokens.len())),
    }

    let (mut pos_sum, mut neg_sum, mut neu) = (0.0f64, 0.0f64, 0usize);
    let (mut compound_sum, mut compound_n) = (0.0f64, 0usize);
    let mut items = Vec::new();
    let mut vals = Vec::new();
    for (s, e) in ranges {
        items.clear();
        items.extend(
            doc.tokens[s..e]
                .iter()
                .filter(|t| scored(t))
                .map(|tok| Item {
                    tok,
                    val: valence_of(tok, lex),
                }),
        );
        if items.is_empty() {
            continue;
        }
        sentence_valences(&items, lang, cap_diff, &mut vals);
        let mut sum: f32 = vals.iter().sum();
        let emph = punctuation_emphasis(&doc.tokens[s..e]);
        if sum > 0.0 {
            sum += emph;
        } else if sum < 0.0 {
            sum -= emph;
        }
        if sum != 0.0 {
            compound_sum += normalize(sum);
            compound_n += 1;
        }
        for &v in &vals {
            let v = f64::from(v);
            if v > 0.0 {
                pos_sum += v + 1.0;
            } else if v < 0.0 {
                neg_sum += v - 1.0;
            } else {
                neu += 1;
            }
        }
    }
    let total = pos_sum + neg_sum.abs() + neu as f64;
    if total == 0.0 {
        return SentimentScores::default();
    }
    SentimentScores {
        compound: if compound_n == 0 {
            0.0
        } else {
            compound_sum / compound_n as f64
        },
        positive: pos_sum / total,
        negative: neg_sum.abs() / total,
        neutral: neu as f64 / total,
    }
}

/// Sentiment of raw text in `lang`.
pub fn analyze(text: &str, lang: Language) -> SentimentScores {
    analyze_doc(&Doc::new(text), lang)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(text: &str, lang: Language) -> f64 {
        analyze(text, lang).compound
    }

    #[test]
    fn lists_sorted() {
        assert!(EN_NEGATE.windows(2).all(|w| w[0] < w[1]));
        assert!(ES_NEGATE.windows(2).all(|w| w[0] < w[1]));
        assert!(EN_BOOSTERS.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(ES_BOOSTERS.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn matches_vader_reference_values() {
        // Reference compounds from vaderSentiment 3.3.2.
        assert!((c("VADER is smart, handsome, and funny.", Language::En) - 0.8316).abs() < 0.01);
        assert!((c("VADER is smart, handsome, and funny!", Language::En) - 0.8439).abs() < 0.01);
        assert!(
            (c("VADER is very smart, handsome, and funny.", Language::En) - 0.8545).abs() < 0.01
        );
        assert!((c("The book was good.", Language::En) - 0.4404).abs() < 0.01);
        assert!((c("The book was kind of good.", Language::En) - 0.3832).abs() < 0.01);
        assert!((c("A really bad, horrible book.", Language::En) - (-0.8211)).abs() < 0.01);
    }

    #[test]
    fn english_polarity_negation_and_boosters() {
        assert!(c("I love this place, the staff is wonderful", Language::En) > 0.5);
        assert!(c("This is terrible, I hate it", Language::En) < -0.5);
        assert!(c("not good", Language::En) < 0.0);
        assert!(c("very good", Language::En) > c("good", Language::En));
        assert!(c("The food was good but the service was awful", Language::En) < 0.0);
        assert_eq!(c("The meeting is on Tuesday at noon.", Language::En), 0.0);
    }

    #[test]
    fn spanish_polarity_negation_and_boosters() {
        assert!(
            c(
                "Me encanta este lugar, el equipo es maravilloso",
                Language::Es
            ) > 0.5
        );
        assert!(c("Es horrible, odio este servicio", Language::Es) < -0.5);
        assert!(c("No es bueno", Language::Es) < 0.0);
        assert!(c("muy bueno", Language::Es) > c("bueno", Language::Es));
        assert!(
            c(
                "La comida estaba buena pero el servicio fue pésimo",
                Language::Es
            ) < 0.0
        );
        assert!(c("¡Qué ALEGRÍA! Estamos felices 😍", Language::Es) > 0.6);
        assert_eq!(c("La reunión es el martes a las doce.", Language::Es), 0.0);
    }

    #[test]
    fn emoji_only_and_empty() {
        assert!(c("😍😍", Language::En) > 0.0);
        assert!(c("😡", Language::Es) < 0.0);
        assert!(c("😠", Language::En) < 0.0);
        assert_eq!(analyze("", Language::En), SentimentScores::default());
        let s = analyze("good bad meh table", Language::En);
        assert!((s.positive + s.negative + s.neutral - 1.0).abs() < 1e-9);
    }
}
