//! The first-line hook: what people see in the feed before "See more".
//!
//! Facebook shows roughly the first 125 characters on mobile, so the first
//! line has to earn the tap. Copywriting research and platform guidance
//! agree on what works: keep it short, open a loop (a question, a number, a
//! "why/how/secret"), and talk to the reader ("you", "tú", "usted").
//! Generic openers ("Hello everyone", "Buenos días a todos", "Just wanted
//! to…") waste the most valuable space, and an ALL-CAPS first line reads as
//! shouting.

use crate::pattern;
use crate::scoring::Signal;
use crate::text::{Doc, TokKind};
use crate::{Language, round3};
use serde::Serialize;

/// First-line measurements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Hook {
    /// The first non-blank line, or its first sentence when the line is long.
    pub text: String,
    pub chars: usize,
    pub question: bool,
    pub number: bool,
    pub addresses_reader: bool,
    pub curiosity: bool,
    pub generic_opener: bool,
    pub all_caps: bool,
}

/// Reader-address words (folded): "you", "tú", "usted", and the Spanish
/// second-person verbs that open most hooks.
const YOU: &[&str] = &[
    "buscas",
    "conoces",
    "contigo",
    "imagina",
    "imaginate",
    "necesitas",
    "os",
    "quieres",
    "sabes",
    "sabias",
    "te",
    "tenes",
    "ti",
    "tienes",
    "tu",
    "tus",
    "tuyo",
    "usted",
    "ustedes",
    "vos",
    "vosotras",
    "vosotros",
    "you",
    "you'll",
    "you're",
    "you've",
    "your",
    "youre",
    "yours",
    "yourself",
];

/// Curiosity / open-loop words (folded).
const CURIOSITY: &[&str] = &[
    "actually",
    "descubre",
    "descubri",
    "error",
    "errores",
    "finally",
    "hidden",
    "how",
    "introducing",
    "mistake",
    "mistakes",
    "nadie",
    "never",
    "new",
    "nobody",
    "nueva",
    "nuevo",
    "nunca",
    "oculto",
    "presentamos",
    "real",
    "reason",
    "revealed",
    "secret",
    "secreto",
    "secretos",
    "secrets",
    "sorprendente",
    "surprising",
    "truth",
    "verdad",
    "why",
];

/// Curiosity phrases (see [`crate::pattern`]).
const CURIOSITY_PHRASES: &[&str] = &[
    "por que",
    "por fin",
    "lo que nadie",
    "asi es como",
    "here's why",
    "heres why",
    "what happens",
    "the one thing",
];

/// Generic openers, matched at the very start of the first line.
const GENERIC: &[&str] = &[
    "as you all know",
    "as you know",
    "buenas noches",
    "buenas tardes",
    "buenos dias",
    "check out our",
    "check this out",
    "como todos saben",
    "como ya saben",
    "dear customers",
    "dear friends",
    "estimados",
    "good afternoon",
    "good evening",
    "good morning",
    "hello",
    "hey everyone",
    "hey guys",
    "hi all",
    "hi everyone",
    "hi guys",
    "hola",
    "hoy les traigo",
    "hoy te traigo",
    "i just wanted",
    "just wanted to",
    "les dejo",
    "new post",
    "nueva publicacion",
    "queria compartir",
    "queridos amigos",
    "saludos",
    "solo queria",
    "solo queriamos",
    "update",
    "we just wanted",
];

/// The first line (see [`Hook::text`]) and its token range in `doc`.
fn first_line_range(doc: &Doc<'_>) -> Option<(usize, usize)> {
    let first = doc.tokens.first()?;
    let line = first.line;
    let mut end = doc
        .tokens
        .iter()
        .position(|t| t.line != line)
        .unwrap_or(doc.tokens.len());
    let text = &doc.text[first.start..doc.tokens[end - 1].end()];
    if text.chars().count() > 150
        && let Some(s) = doc.sentences.first()
        && s.end < end
    {
        end = s.end;
    }
    Some((0, end))
}

pub fn measure(doc: &Doc<'_>) -> Hook {
    let Some((s, e)) = first_line_range(doc) else {
        return Hook::default();
    };
    let toks = &doc.tokens[s..e];
    let text = doc.span_text(s, e).to_string();
    let words: Vec<_> = toks.iter().filter(|t| t.kind == TokKind::Word).collect();
    let question = toks.iter().any(|t| t.raw == "?" || t.raw == "¿");
    let number = toks
        .iter()
        .any(|t| t.kind == TokKind::Number || t.raw.contains("\u{20E3}"));
    let addresses_reader = words
        .iter()
        .any(|t| YOU.binary_search(&t.norm.as_ref()).is_ok());
    let mut curiosity = words
        .iter()
        .any(|t| CURIOSITY.binary_search(&t.norm.as_ref()).is_ok())
        || words.iter().any(|t| {
            matches!(
                t.raw.to_lowercase().as_str(),
                "cómo" | "qué" | "cuál" | "cuánto" | "dónde"
            )
        });
    if !curiosity {
        curiosity = pattern::any_in(doc, &crate::patterns!(untagged CURIOSITY_PHRASES), s, e);
    }
    let generic_opener = GENERIC.iter().any(|g| {
        let mut parts = g.split(' ');
        let mut it = words.iter();
        parts.all(|p| it.next().is_some_and(|t| t.norm == p))
    });
    let (mut letters, mut upper) = (0usize, 0usize);
    for c in words
        .iter()
        .flat_map(|t| t.raw.chars())
        .filter(|c| c.is_alphabetic())
    {
        letters += 1;
        upper += usize::from(c.is_uppercase());
    }
    let all_caps = letters >= 4 && upper * 10 >= letters * 7;
    Hook {
        chars: text.chars().count(),
        text,
        question,
        number,
        addresses_reader,
        curiosity,
        generic_opener,
        all_caps,
    }
}

/// 0..=1: base 0.3; +0.25 if ≤ 80 chars (+0.15 if ≤ 125); +0.2 question;
/// +0.1 number; +0.15 addresses the reader; +0.15 curiosity; −0.3 generic
/// opener; −0.25 all caps.
pub fn score(h: &Hook) -> f64 {
    if h.chars == 0 {
        return 0.0;
    }
    let mut s = 0.3;
    s += if h.chars <= 80 {
        0.25
    } else if h.chars <= 125 {
        0.15
    } else {
        0.0
    };
    if h.question {
        s += 0.2;
    }
    if h.number {
        s += 0.1;
    }
    if h.addresses_reader {
        s += 0.15;
    }
    if h.curiosity {
        s += 0.15;
    }
    if h.generic_opener {
        s -= 0.3;
    }
    if h.all_caps {
        s -= 0.25;
    }
    f64::clamp(s, 0.0, 1.0)
}

pub fn signal(h: &Hook, lang: Language) -> Signal {
    let mut good: Vec<&str> = Vec::new();
    let mut bad: Vec<&str> = Vec::new();
    let en = lang == Language::En;
    if h.chars <= 80 {
        good.push(if en { "short" } else { "breve" });
    } else if h.chars > 125 {
        bad.push(if en {
            "cut off before \"See more\""
        } else {
            "se corta antes de «Ver más»"
        });
    }
    if h.question {
        good.push(if en {
            "asks a question"
        } else {
            "hace una pregunta"
        });
    }
    if h.number {
        good.push(if en {
            "has a number"
        } else {
            "incluye un número"
        });
    }
    if h.addresses_reader {
        good.push(if en {
            "speaks to the reader"
        } else {
            "habla al lector"
        });
    }
    if h.curiosity {
        good.push(if en {
            "sparks curiosity"
        } else {
            "despierta curiosidad"
        });
    }
    if h.generic_opener {
        bad.push(if en {
            "generic opener"
        } else {
            "saludo genérico"
        });
    }
    if h.all_caps {
        bad.push(if en { "all caps" } else { "en mayúsculas" });
    }
    let chars = h.chars;
    let mut detail = tr!(
        lang,
        "First line ({chars} chars)",
        "Primera línea ({chars} caracteres)"
    );
    if !good.is_empty() {
        detail.push_str(": ");
        detail.push_str(&good.join(", "));
    }
    if !bad.is_empty() {
        detail.push_str(if good.is_empty() { ": " } else { "; " });
        detail.push_str(&bad.join(", "));
    }
    if good.is_empty() && bad.is_empty() {
        detail.push_str(if en {
            ": plain, nothing makes people stop scrolling."
        } else {
            ": plana, nada invita a dejar de hacer scroll."
        });
    } else {
        detail.push('.');
    }
    Signal::new("hook", round3(score(h)), detail)
}

pub fn suggestion(h: &Hook, lang: Language) -> Option<String> {
    if score(h) >= 0.75 {
        return None;
    }
    Some(if h.generic_opener {
        tr!(
            lang,
            "Drop the generic greeting and open with the news or a question, e.g. \"Did you know…?\" or \"3 ways to…\".",
            "Quita el saludo genérico y empieza con la novedad o una pregunta, p. ej. «¿Sabías que…?» o «3 formas de…»."
        )
    } else if h.chars > 125 {
        tr!(
            lang,
            "Make the first line a short hook (under 80 characters): Facebook hides the rest behind \"See more\".",
            "Convierte la primera línea en un gancho breve (menos de 80 caracteres): Facebook oculta el resto tras «Ver más»."
        )
    } else if h.all_caps {
        tr!(
            lang,
            "Rewrite the first line in normal case; an all-caps opener reads as shouting.",
            "Reescribe la primera línea en minúsculas normales; empezar en mayúsculas parece un grito."
        )
    } else {
        tr!(
            lang,
            "Strengthen the first line: speak to the reader and open a loop, e.g. \"Have you ever…?\", \"The secret to…\" or a number.",
            "Refuerza la primera línea: háblale al lector y genera curiosidad, p. ej. «¿Alguna vez has…?», «El secreto para…» o una cifra."
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(text: &str) -> Hook {
        measure(&Doc::new(text))
    }

    #[test]
    fn lists_sorted() {
        assert!(YOU.windows(2).all(|w| w[0] < w[1]));
        assert!(CURIOSITY.windows(2).all(|w| w[0] < w[1]));
        assert!(GENERIC.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn strong_hooks_beat_generic_ones() {
        let strong = hook("Did you know 3 out of 4 bakers skip this step?\nMore text here.");
        assert!(strong.question && strong.number && strong.addresses_reader);
        assert_eq!(
            strong.text,
            "Did you know 3 out of 4 bakers skip this step?"
        );
        let generic = hook("Hello everyone, we have some news about the store today.");
        assert!(generic.generic_opener);
        assert!(score(&strong) > score(&generic) + 0.4);

        let es_strong = hook("¿Sabías que el 80% de los cafés se tuestan mal?");
        assert!(es_strong.question && es_strong.addresses_reader && es_strong.number);
        let es_generic = hook("Buenos días a todos, hoy queríamos contaros algo sobre la tienda.");
        assert!(es_generic.generic_opener);
        assert!(score(&es_strong) > score(&es_generic) + 0.4);
    }

    #[test]
    fn caps_and_long_first_lines_are_penalised() {
        let caps = hook("HUGE SALE THIS WEEKEND ONLY");
        assert!(caps.all_caps);
        assert!(hook("HOLA A TODOS!!!").all_caps);
        assert!(!hook("Hola a todos, hoy en NASA").all_caps);
        assert!(score(&caps) < score(&hook("Huge sale this weekend only")));
        let long = "word ".repeat(60);
        assert!(score(&hook(&long)) < score(&hook("A short first line")));
    }

    #[test]
    fn curiosity_words_with_accents() {
        assert!(hook("Por qué nadie habla de esto").curiosity);
        assert!(hook("Cómo preparar café en casa").curiosity);
        assert!(hook("The secret to better bread").curiosity);
    }
}
