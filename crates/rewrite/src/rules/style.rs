//! Rules `caps` and `exclamations`: ALL-CAPS words back to normal case
//! (acronyms of up to 4 letters stay: `ONU`, `NASA`, `DIY`; words with
//! digits stay: `4K`), and runs of `!!!` / `¡¡¡` collapsed to one mark.

use super::{Candidate, Ctx};
use crate::text::{sentence_initial, sentences, tidy, title_case};
use fbposts_core::text::{Doc, TokKind};
use fbposts_core::{Language, fold, lang, lexicon};

pub const CAPS: &str = "caps";
pub const EXCLAMATIONS: &str = "exclamations";

/// Short words often shouted that are not acronyms.
const SHOUTED: &[&str] = &[
    "ahora", "amor", "bien", "best", "big", "deal", "free", "gran", "hot", "hoy", "like", "love",
    "mega", "new", "now", "off", "omg", "sale", "solo", "super", "top", "wow", "yes",
];

/// Is an all-caps word an acronym to keep as written?
fn is_acronym(word: &str, folded: &str, l: Language) -> bool {
    if word.chars().any(|c| c.is_ascii_digit()) {
        return true;
    }
    let letters = word.chars().filter(|c| c.is_alphabetic()).count();
    letters <= 4
        && !lang::is_stopword(Language::Es, folded)
        && !lang::is_stopword(Language::En, folded)
        && !SHOUTED.contains(&folded)
        && lexicon::for_language(l).get(folded).is_none()
}

pub fn caps_candidates(ctx: &Ctx<'_>, text: &str) -> Vec<Candidate> {
    let doc = Doc::new(text);
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut changed = false;
    let words: Vec<_> = doc.of_kind(TokKind::Word).collect();
    // Capitalised words around it: the short one is shouting too.
    let shouted = |i: usize| {
        (i.saturating_sub(2)..=i + 2)
            .filter(|&j| j != i)
            .filter(|&j| words.get(j).is_some_and(|w| w.is_all_caps()))
            .count()
            >= 2
    };
    for (i, t) in words.iter().enumerate() {
        let vowels = t.norm.chars().any(|c| "aeiou".contains(c));
        let keep = is_acronym(t.raw, &t.norm, ctx.lang)
            && !(shouted(i) && vowels && t.raw.chars().count() == 4);
        if !t.is_all_caps() || keep {
            continue;
        }
        let lower = t.raw.to_lowercase();
        let title = title_case(t.raw);
        // A name written in capitals here and normally elsewhere keeps its
        // capital: "MADRID" → "Madrid" when the post also says "Madrid".
        let known_name = doc
            .of_kind(TokKind::Word)
            .any(|o| o.raw == title && !sentence_initial(text, o.start));
        let replacement = if sentence_initial(text, t.start) || known_name {
            title
        } else if ctx.lang == Language::En && fold::fold(&lower) == "i" {
            "I".to_string()
        } else {
            lower
        };
        out.push_str(&text[last..t.start]);
        out.push_str(&replacement);
        last = t.end();
        changed = true;
    }
    if !changed {
        return Vec::new();
    }
    out.push_str(&text[last..]);
    vec![Candidate::new(CAPS, out)]
}

/// Spanish exclamations need their opening mark: "Abrimos hoy!" →
/// "¡Abrimos hoy!".
fn open_spanish_exclamations(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut last = 0;
    for s in sentences(text) {
        let sentence = &text[s.start..s.end];
        let starts_with_letter = sentence.chars().next().is_some_and(char::is_alphanumeric);
        if starts_with_letter && sentence.trim_end().ends_with('!') && !sentence.contains('¡') {
            out.push_str(&text[last..s.start]);
            out.push('¡');
            last = s.start;
        }
    }
    out.push_str(&text[last..]);
    out
}

pub fn exclamation_candidates(ctx: &Ctx<'_>, text: &str) -> Vec<Candidate> {
    let mut out = String::with_capacity(text.len());
    let mut prev: Option<char> = None;
    let mut changed = false;
    for c in text.chars() {
        if matches!(c, '!' | '¡') && prev == Some(c) {
            changed = true;
            continue;
        }
        out.push(c);
        prev = Some(c);
    }
    if ctx.lang == Language::Es {
        let opened = open_spanish_exclamations(&out);
        changed |= opened != out;
        out = opened;
    }
    if !changed {
        return Vec::new();
    }
    vec![Candidate::new(EXCLAMATIONS, tidy(&out))]
}

#[cfg(test)]
mod tests {
    use super::*;
    use fbposts_core::{AnalyzeRequest, analyze};

    fn ctx_for(text: &str, l: Language) -> (fbposts_core::Analysis, Language) {
        (analyze(&AnalyzeRequest::new(text)), l)
    }

    #[test]
    fn caps_to_normal_case_keeping_acronyms() {
        let t = "GRAN NOTICIA: la ONU y la NASA visitan MADRID. Todo Madrid espera. OFERTA 4K EN TODA LA TIENDA";
        let (a, l) = ctx_for(t, Language::Es);
        let ctx = Ctx {
            lang: l,
            requested_tone: None,
            analysis: &a,
        };
        let c = caps_candidates(&ctx, t);
        assert_eq!(
            c[0].text,
            "Gran noticia: la ONU y la NASA visitan Madrid. Todo Madrid espera. Oferta 4K en toda la tienda"
        );
    }

    #[test]
    fn exclamation_runs_collapse_and_pairs_stay() {
        let t = "¡¡¡Gran noticia!!! Abrimos el lunes!!";
        let (a, l) = ctx_for(t, Language::Es);
        let ctx = Ctx {
            lang: l,
            requested_tone: None,
            analysis: &a,
        };
        let c = exclamation_candidates(&ctx, t);
        assert_eq!(c[0].text, "¡Gran noticia! ¡Abrimos el lunes!");
    }
}
