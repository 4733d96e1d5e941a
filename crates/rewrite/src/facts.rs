//! Facts a rewrite must never change: numbers (prices, dates, times,
//! quantities — any token with a digit), links, @mentions and names
//! (capitalised words that are not just sentence-initial, and mixed-case
//! words such as `iPhone`). Hashtags are form, not facts: the hashtag rule
//! may drop or merge them.
//!
//! The greedy loop rejects any candidate that loses one of the original
//! post's facts ([`preserved`]).

use crate::text::sentence_initial;
use fbposts_core::text::{Doc, TokKind};

/// The facts of `text`, sorted (a multiset).
pub fn facts(text: &str) -> Vec<String> {
    let doc = Doc::new(text);
    let mut out = Vec::new();
    for t in &doc.tokens {
        match t.kind {
            TokKind::Number | TokKind::Link | TokKind::Mention => out.push(t.raw.to_string()),
            TokKind::Word
                if t.raw.chars().any(|c| c.is_ascii_digit()) || is_name(text, t.raw, t.start) =>
            {
                out.push(t.raw.to_string())
            }
            _ => {}
        }
    }
    out.sort();
    out
}

fn is_name(text: &str, word: &str, at: usize) -> bool {
    let has_lower = word.chars().any(char::is_lowercase);
    if !has_lower {
        return false;
    }
    let mut chars = word.chars();
    let first_upper = chars.next().is_some_and(char::is_uppercase);
    let inner_upper = chars.any(char::is_uppercase);
    inner_upper || (first_upper && !sentence_initial(text, at))
}

/// Does `candidate` keep every fact of `original` (as many times)?
/// Both lists sorted, as [`facts`] returns them.
pub fn preserved(original: &[String], candidate: &[String]) -> bool {
    let mut j = 0;
    for f in original {
        while j < candidate.len() && candidate[j] < *f {
            j += 1;
        }
        if j == candidate.len() || candidate[j] != *f {
            return false;
        }
        j += 1;
    }
    true
}

/// `facts` minus `loss` (multisets, both sorted).
pub fn without(facts: &[String], loss: &[String]) -> Vec<String> {
    let mut out = facts.to_vec();
    for l in loss {
        if let Some(i) = out.iter().position(|f| f == l) {
            out.remove(i);
        }
    }
    out
}

/// Does the fragment hold any fact (judged inside `text`, where it sits at
/// byte `start`)?
pub fn has_facts(text: &str, start: usize, end: usize) -> bool {
    has_facts_in(&Doc::new(text), text, start, end)
}

/// [`has_facts`] with `text` already tokenised as `doc` (`Doc::new(text)`):
/// a rule that asks about every sentence tokenises the post once, not once
/// per sentence (which made a long post quadratic).
pub fn has_facts_in(doc: &Doc<'_>, text: &str, start: usize, end: usize) -> bool {
    doc.tokens.iter().any(|t| {
        t.start >= start
            && t.end() <= end
            && match t.kind {
                TokKind::Number | TokKind::Link | TokKind::Mention => true,
                TokKind::Word => {
                    t.raw.chars().any(|c| c.is_ascii_digit()) || is_name(text, t.raw, t.start)
                }
                _ => false,
            }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extracts_numbers_links_mentions_and_names() {
        let f = facts(
            "Nuevo iPhone 15 por 999 € en Tienda Sol. Visita https://sol.example/x con @ana el 3/5 #Promo2024",
        );
        for want in [
            "iPhone",
            "15",
            "999",
            "Tienda",
            "Sol",
            "https://sol.example/x",
            "@ana",
        ] {
            assert!(f.iter().any(|x| x == want), "{want} in {f:?}");
        }
        assert!(!f.iter().any(|x| x == "Nuevo" || x == "Visita"), "{f:?}");
        assert!(!f.iter().any(|x| x.contains("Promo")), "{f:?}");
    }

    #[test]
    fn has_facts_in_a_tokenised_post_answers_as_has_facts_for_every_span() {
        // Regression: the length rule asked `has_facts` about every sentence,
        // tokenising the whole post each time (quadratic: a 63,206-char post
        // took over a minute to enhance); it now tokenises once.
        let text = "Hola a todos. Nuevo iPhone 15 por 999 €. Visita https://sol.example/x hoy. \
                    Con @ana en Tienda Sol. Nada más que decir. #Promo2024";
        let doc = Doc::new(text);
        let bounds: Vec<usize> = (0..=text.len())
            .filter(|&i| text.is_char_boundary(i))
            .collect();
        for (i, &start) in bounds.iter().enumerate() {
            for &end in &bounds[i..] {
                assert_eq!(
                    has_facts_in(&doc, text, start, end),
                    has_facts(text, start, end),
                    "{:?}",
                    &text[start..end]
                );
            }
        }
    }

    #[test]
    fn preserved_is_multiset_inclusion() {
        let a = facts("Ana y Luis pagan 10 y 10");
        assert!(preserved(&a, &facts("Hola: Ana y Luis pagan 10 y 10 hoy")));
        assert!(!preserved(&a, &facts("Ana y Luis pagan 10")));
    }
}
