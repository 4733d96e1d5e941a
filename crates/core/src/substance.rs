//! Substance: does the post say something concrete a reader can act on?
//!
//! The other signals judge *form* and mostly score "nothing wrong" as good,
//! so an empty post ("hola", "New post", a link, an emoji) would pass most
//! of the checklist. This module measures the *content*: distinct content
//! words, and concrete facts of seven kinds — numbers, dates and times,
//! places, names, offers and prices, action verbs, links — with word lists
//! per language (Spanish and English). It also says whether the post gives
//! a reason to engage (a call to action or action verb, a question, an
//! offer, a date or time, a link).
//!
//! [`gate`] turns that into the multiplier the scorer applies to the whole
//! weighted score (see `SCORING.md`, "The substance gate"): a post cannot
//! score high without substance and a reason to engage, however clean its
//! form, and a post of fewer than four content words is capped at 0.35.

use crate::pattern;
use crate::text::{Doc, TokKind, Token};
use crate::word_set;
use crate::words::WordSet;
use crate::{Language, round3};
use serde::Serialize;

/// Examples of facts returned at most (per post).
pub const MAX_FACTS: usize = 12;

/// Below this many content words a post is "too short to say anything"
/// and its score is capped (see [`short_cap`]).
pub const MIN_CONTENT_WORDS: usize = 4;

/// Concrete-information measurements of a post.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Substance {
    /// Content-word tokens (3+ letters, not a function word of either
    /// language; hashtags, links and numbers are not words).
    pub content_words: usize,
    pub distinct_content_words: usize,
    pub numbers: usize,
    /// Weekdays, months, dates and clock times ("sábado", "June 14",
    /// "18:00", "7pm"); relative days ("hoy", "tomorrow") count half.
    pub dates: usize,
    /// Relative days ("hoy", "tomorrow", "tonight"): half a date.
    pub relative_dates: usize,
    pub places: usize,
    pub names: usize,
    pub offers: usize,
    pub actions: usize,
    pub links: usize,
    /// What was found, as written ("date: sábado", "price: 12 €"…).
    pub facts: Vec<String>,
    /// Why a reader would act, if anything: `call_to_action`, `question`,
    /// `offer`, `date` or `link`.
    pub reason_to_engage: Option<&'static str>,
    /// 0..=1: `0.3 × breadth + 0.7 × concreteness` (see [`score`]).
    pub score: f64,
}

// Word lists are folded (lowercase, no accents) and sorted.
const WEEKDAYS_MONTHS_ES: &[&str] = &[
    "abril",
    "agosto",
    "diciembre",
    "domingo",
    "enero",
    "febrero",
    "jueves",
    "julio",
    "junio",
    "lunes",
    "martes",
    "marzo",
    "mayo",
    "miercoles",
    "noviembre",
    "octubre",
    "sabado",
    "septiembre",
    "setiembre",
    "viernes",
];
const WEEKDAYS_MONTHS_EN: &[&str] = &[
    "april",
    "aug",
    "august",
    "dec",
    "december",
    "feb",
    "february",
    "friday",
    "jan",
    "january",
    "july",
    "june",
    "monday",
    "nov",
    "november",
    "oct",
    "october",
    "saturday",
    "sept",
    "september",
    "sunday",
    "thursday",
    "tuesday",
    "wednesday",
];
const RELATIVE_DAYS_ES: &[&str] = &["finde", "hoy", "manana", "medianoche", "mediodia", "noche"];
const RELATIVE_DAYS_EN: &[&str] = &[
    "midnight", "noon", "today", "tomorrow", "tonight", "weekend",
];
const CLOCK_WORDS: &[&str] = &["am", "h", "hrs", "hs", "pm"];

const PLACE_WORDS_ES: &[&str] = &[
    "avda", "avenida", "barrio", "calle", "carrera", "centro", "esquina", "local", "mercado",
    "paseo", "plaza", "sede", "tienda",
];
const PLACE_WORDS_EN: &[&str] = &[
    "ave",
    "avenue",
    "blvd",
    "boulevard",
    "corner",
    "downtown",
    "mall",
    "market",
    "road",
    "square",
    "store",
    "street",
    "studio",
    "venue",
];
const PLACE_PREPS_ES: &[&str] = &["desde", "en", "hacia"];
const PLACE_PREPS_EN: &[&str] = &["at", "from", "in", "near"];

const OFFER_WORDS_ES: &[&str] = &[
    "2x1",
    "3x2",
    "ahorra",
    "cupon",
    "descuento",
    "descuentos",
    "dolares",
    "euros",
    "gratis",
    "gratuita",
    "gratuito",
    "oferta",
    "ofertas",
    "pesos",
    "precio",
    "promo",
    "promocion",
    "rebajas",
    "regalo",
];
const OFFER_WORDS_EN: &[&str] = &[
    "bogo",
    "bucks",
    "coupon",
    "deal",
    "deals",
    "discount",
    "dollars",
    "free",
    "half-price",
    "offer",
    "price",
    "promo",
    "save",
    "voucher",
];
const CURRENCY: &[&str] = &["$", "%", "£", "€"];

/// Action verbs at the start of a clause (imperatives and invitations),
/// beyond core's call-to-action phrases.
const ACTIONS_ES: &[&str] = &[
    "^ ven|venid|vengan|veni",
    "^ pasa|pasate|pasen",
    "^ llama|llamanos",
    "^ escribe|escribenos",
    "^ trae|traete|traigan",
    "^ elige|elegi|elijan",
    "^ recoge|recogelo",
    "^ consulta|consulten",
    "^ encarga|encargalo",
    "^ reserva|reservad|reserven",
    "^ apuntate|apuntaos",
    "^ prueba|pruebalo|pruebala",
    "^ pide|pidelo|pidela",
    "^ compra|compralo|comprala",
    "te|os|les esperamos",
    "abrimos",
    "inauguramos",
    "lanzamos",
];
const ACTIONS_EN: &[&str] = &[
    "^ come",
    "^ stop|swing|drop by|in",
    "^ call",
    "^ bring",
    "^ grab",
    "^ pick up",
    "^ choose",
    "^ book",
    "^ order|pre-order|preorder",
    "^ join",
    "^ try",
    "^ get",
    "^ shop",
    "^ register",
    "^ reserve",
    "see you",
    "we open|reopen",
    "opens|reopens",
    "now open",
];

fn has(list: WordSet, w: &str) -> bool {
    list.contains(w)
}

/// Is this word token a content word (3+ letters, not a function word)?
pub fn is_content_word(t: &Token<'_>) -> bool {
    t.kind == TokKind::Word && !t.stop_es && !t.stop_en && t.norm.chars().nth(2).is_some()
}

/// Does the word start its sentence or line (so its capital says nothing)?
fn starts_clause(doc: &Doc<'_>, i: usize) -> bool {
    let t = &doc.tokens[i];
    let Some(prev) = i.checked_sub(1).map(|p| &doc.tokens[p]) else {
        return true;
    };
    prev.line != t.line
        || prev.sentence != t.sentence
        || (prev.kind == TokKind::Punct && matches!(prev.raw, ":" | "¿" | "¡" | "\"" | "«" | "“"))
        || prev.kind == TokKind::Emoji
}

/// A capitalised word that is not just sentence case: "Madrid", "Aurora",
/// "IPA" (a short acronym, only when the post does not shout).
fn is_name_like(t: &Token<'_>, shouting: bool) -> bool {
    let mut chars = t.raw.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    if t.kind != TokKind::Word || !first.is_uppercase() || t.raw.chars().count() < 2 {
        return false;
    }
    if t.is_all_caps() {
        return !shouting && t.raw.chars().count() <= 4;
    }
    true
}

/// Records one fact of `kind` (as written) in the examples.
fn note(facts: &mut Vec<String>, kind: &str, text: &str) {
    let entry = format!("{kind}: {text}");
    if facts.len() < MAX_FACTS && !facts.contains(&entry) {
        facts.push(entry);
    }
}

/// Measures a tokenised post. `cta_count` and `questions` come from the
/// call-to-action and question detectors (already run by the caller).
pub fn measure(doc: &Doc<'_>, lang: Language, cta_count: usize, questions: usize) -> Substance {
    let (dates_list, relative, places_list, preps, offers_list, actions) = match lang {
        Language::Es => (
            word_set!(WEEKDAYS_MONTHS_ES),
            word_set!(RELATIVE_DAYS_ES),
            word_set!(PLACE_WORDS_ES),
            word_set!(PLACE_PREPS_ES),
            word_set!(OFFER_WORDS_ES),
            crate::patterns!(untagged ACTIONS_ES),
        ),
        Language::En => (
            word_set!(WEEKDAYS_MONTHS_EN),
            word_set!(RELATIVE_DAYS_EN),
            word_set!(PLACE_WORDS_EN),
            word_set!(PLACE_PREPS_EN),
            word_set!(OFFER_WORDS_EN),
            crate::patterns!(untagged ACTIONS_EN),
        ),
    };
    let caps_words = doc.tokens.iter().filter(|t| t.is_all_caps()).count();
    let shouting = caps_words > 3;
    let mut s = Substance {
        content_words: 0,
        distinct_content_words: 0,
        numbers: 0,
        dates: 0,
        relative_dates: 0,
        places: 0,
        names: 0,
        offers: 0,
        actions: 0,
        links: 0,
        facts: Vec::new(),
        reason_to_engage: None,
        score: 0.0,
    };
    let mut distinct: Vec<&str> = Vec::new();
    let toks = &doc.tokens;
    for (i, t) in toks.iter().enumerate() {
        let next = toks.get(i + 1).filter(|n| n.line == t.line);
        let prev = i
            .checked_sub(1)
            .map(|p| &toks[p])
            .filter(|p| p.line == t.line);
        match t.kind {
            TokKind::Link => {
                s.links += 1;
                note(&mut s.facts, "link", t.raw);
            }
            TokKind::Mention => {
                s.names += 1;
                note(&mut s.facts, "name", t.raw);
            }
            TokKind::Number => {
                s.numbers += 1;
                let clock = next.is_some_and(|n| {
                    (n.kind == TokKind::Punct && n.raw == ":")
                        || (n.kind == TokKind::Word && has(word_set!(CLOCK_WORDS), &n.norm))
                });
                let money = next.is_some_and(|n| CURRENCY.contains(&n.raw))
                    || prev.is_some_and(|p| CURRENCY.contains(&p.raw));
                if clock {
                    s.dates += 1;
                    note(&mut s.facts, "time", t.raw);
                } else if money {
                    s.offers += 1;
                    note(&mut s.facts, "price", t.raw);
                } else {
                    note(&mut s.facts, "number", t.raw);
                }
            }
            TokKind::Word => {
                let w = t.norm.as_ref();
                if is_content_word(t) {
                    s.content_words += 1;
                    if !distinct.contains(&w) {
                        distinct.push(w);
                    }
                }
                if t.raw.starts_with(|c: char| c.is_ascii_digit()) {
                    // "10am", "7pm", "14h" are times; "2x1", "5k" numbers.
                    s.numbers += 1;
                    let clock = ["am", "pm", "h", "hs", "hrs"].iter().any(|u| {
                        w.strip_suffix(u).is_some_and(|n| {
                            n.bytes()
                                .all(|b| b.is_ascii_digit() || b == b':' || b == b'.')
                        })
                    });
                    if clock {
                        s.dates += 1;
                        note(&mut s.facts, "time", t.raw);
                    } else {
                        note(&mut s.facts, "number", t.raw);
                    }
                }
                if has(dates_list, w) {
                    s.dates += 1;
                    note(&mut s.facts, "date", t.raw);
                } else if has(relative, w) {
                    s.relative_dates += 1;
                    note(&mut s.facts, "date", t.raw);
                } else if has(places_list, w) {
                    s.places += 1;
                    note(&mut s.facts, "place", t.raw);
                } else if has(offers_list, w) {
                    s.offers += 1;
                    note(&mut s.facts, "offer", t.raw);
                } else if is_name_like(t, shouting) && !starts_clause(doc, i) {
                    let after_prep = prev.is_some_and(|p| has(preps, &p.norm));
                    if after_prep {
                        s.places += 1;
                        note(&mut s.facts, "place", t.raw);
                    } else {
                        s.names += 1;
                        note(&mut s.facts, "name", t.raw);
                    }
                }
            }
            _ => {}
        }
    }
    let verbs = pattern::find_all(doc, &actions);
    for m in &verbs {
        note(&mut s.facts, "action", doc.span_text(m.start, m.end));
    }
    s.actions = cta_count + verbs.len();
    s.distinct_content_words = distinct.len();
    s.reason_to_engage = if s.actions > 0 {
        Some("call_to_action")
    } else if questions > 0 {
        Some("question")
    } else if s.offers > 0 {
        Some("offer")
    } else if s.dates > 0 {
        Some("date")
    } else if s.links > 0 {
        Some("link")
    } else {
        None
    };
    s.score = round3(score(&s));
    s
}

/// Breadth: distinct content words, 0 at three or fewer, 1 at twelve.
pub fn breadth(s: &Substance) -> f64 {
    ((s.distinct_content_words as f64 - 3.0) / 9.0).clamp(0.0, 1.0)
}

/// Concreteness: the kinds of fact present, weighted (a date, a price or a
/// place says more than a bare number or a link), 1 at 2 points.
pub fn concreteness(s: &Substance) -> f64 {
    let date_points = if s.dates > 0 {
        0.6
    } else if s.relative_dates > 0 {
        0.3
    } else {
        0.0
    };
    let kinds = [
        (s.numbers, 0.35),
        (s.places, 0.5),
        (s.names, 0.4),
        (s.offers, 0.6),
        (s.actions, 0.2),
        (s.links, 0.3),
    ];
    let points: f64 = kinds
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(_, w)| w)
        .sum::<f64>()
        + date_points;
    (points / 2.0).min(1.0)
}

/// 0..=1: `0.3 × breadth + 0.7 × concreteness`.
pub fn score(s: &Substance) -> f64 {
    0.3 * breadth(s) + 0.7 * concreteness(s)
}

/// Substance at which the gate is fully open.
pub const FULL_SUBSTANCE: f64 = 0.85;
/// Gate with no substance at all.
pub const GATE_FLOOR: f64 = 0.4;
/// Gate factor when nothing gives the reader a reason to engage.
pub const NO_REASON_FACTOR: f64 = 0.8;

/// The cap for short posts: `0.2 + 0.05 × content words` below
/// [`MIN_CONTENT_WORDS`] (so at most 0.35), none from four words on.
pub fn short_cap(content_words: usize) -> f64 {
    if content_words < MIN_CONTENT_WORDS {
        0.2 + 0.05 * content_words as f64
    } else {
        1.0
    }
}

/// The multiplier applied to the weighted score:
/// `min(short_cap, (0.4 + 0.6 × min(1, substance / 0.85)) × reason)`, where
/// `reason` is 1 with a reason to engage and 0.8 without.
pub fn gate(s: &Substance) -> f64 {
    let open = GATE_FLOOR + (1.0 - GATE_FLOOR) * (score(s) / FULL_SUBSTANCE).min(1.0);
    let reason = if s.reason_to_engage.is_some() {
        1.0
    } else {
        NO_REASON_FACTOR
    };
    (open * reason).min(short_cap(s.content_words))
}

/// The gate, in the post's language.
#[derive(Debug, Clone, Serialize)]
pub struct Gate {
    /// The multiplier applied to the weighted score (0..=1).
    pub factor: f64,
    pub substance: f64,
    pub reason_to_engage: bool,
    /// True when the post has fewer than four content words.
    pub short_post: bool,
    pub detail: String,
}

pub fn gate_report(s: &Substance, lang: Language) -> Gate {
    let factor = round3(gate(s));
    let (n, sub) = (s.content_words, round3(score(s)));
    let detail = if s.content_words < MIN_CONTENT_WORDS {
        tr!(
            lang,
            "Only {n} content words: too short to say anything, so the score is capped at {factor}.",
            "Solo {n} palabras con contenido: demasiado corto para decir algo, la puntuación queda limitada a {factor}."
        )
    } else if s.reason_to_engage.is_none() {
        tr!(
            lang,
            "Substance {sub}, but nothing invites the reader to act (no call to action, question, offer, date or link): score × {factor}.",
            "Sustancia {sub}, pero nada invita a actuar (sin llamada a la acción, pregunta, oferta, fecha ni enlace): puntuación × {factor}."
        )
    } else if factor < 1.0 {
        tr!(
            lang,
            "Substance {sub}: few concrete facts (numbers, dates, places, names, offers), score × {factor}.",
            "Sustancia {sub}: pocos datos concretos (cifras, fechas, lugares, nombres, ofertas), puntuación × {factor}."
        )
    } else {
        tr!(
            lang,
            "Concrete and actionable (substance {sub}): no reduction.",
            "Concreta y accionable (sustancia {sub}): sin reducción."
        )
    };
    Gate {
        factor,
        substance: sub,
        reason_to_engage: s.reason_to_engage.is_some(),
        short_post: s.content_words < MIN_CONTENT_WORDS,
        detail,
    }
}

/// What to add when the gate costs points (gate < 0.9).
pub fn suggestion(s: &Substance, lang: Language) -> Option<String> {
    if gate(s) >= 0.9 {
        return None;
    }
    Some(if s.content_words < MIN_CONTENT_WORDS {
        tr!(
            lang,
            "Say what the post is about: one or two sentences with the concrete news (what, when, where, how much) and what the reader should do.",
            "Di de qué trata la publicación: una o dos frases con la novedad concreta (qué, cuándo, dónde, cuánto) y qué debe hacer quien la lee."
        )
    } else if concreteness(s) < 0.5 {
        tr!(
            lang,
            "Add concrete facts: a date or time, a place, a price or offer, a product or person's name — specifics are what people act on.",
            "Añade datos concretos: una fecha u hora, un lugar, un precio u oferta, el nombre de un producto o una persona: lo concreto es lo que mueve a actuar."
        )
    } else {
        tr!(
            lang,
            "Give the reader a reason to act: a clear next step (book, visit, order), a question, an offer or a date.",
            "Da a quien lee un motivo para actuar: un siguiente paso claro (reserva, visita, pide), una pregunta, una oferta o una fecha."
        )
    })
}

#[cfg(test)]
#[path = "substance_tests.rs"]
mod tests;
