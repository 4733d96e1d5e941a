//! Hashtags: extraction, form checks and the hashtag signal.
//!
//! On Facebook hashtags matter far less than on Instagram: studies of page
//! posts (EdgeRank Checker 2013, Social Bakers 2014, Buffer) found posts with
//! one or two hashtags did best and engagement fell as more were added, with
//! hashtag-stuffed posts doing worse than posts without any. So: 1–2 is
//! optimal, none is acceptable, more than ~3 is penalised. Form matters
//! too: a hashtag stops at the first space or punctuation (`#summer-sale`
//! only links `#summer`), long lowercase run-ons are hard to read (use
//! CamelCase), ALL-CAPS tags read as shouting, numeric-only tags are not
//! linked, and duplicates are spam.

use crate::scoring::Signal;
use crate::text::{Doc, TokKind};
use crate::{Language, round3};
use serde::Serialize;

/// A form problem with one hashtag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HashtagIssue {
    /// The hashtag as written (with `#`).
    pub tag: String,
    /// `duplicate`, `all_caps`, `too_long`, `numeric`, `broken` (cut by
    /// punctuation) or `space_after_hash`.
    pub issue: &'static str,
}

/// Hashtags as written (with `#`), in order.
pub fn extract<'a>(doc: &Doc<'a>) -> Vec<&'a str> {
    doc.of_kind(TokKind::Hashtag).map(|t| t.raw).collect()
}

/// Form problems of the post's hashtags.
pub fn issues(doc: &Doc<'_>) -> Vec<HashtagIssue> {
    let mut out = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for (i, t) in doc.tokens.iter().enumerate() {
        if t.kind == TokKind::Punct && t.raw == "#" {
            let standalone = doc.text[..t.start]
                .chars()
                .next_back()
                .is_none_or(char::is_whitespace);
            let after = &doc.text[t.end()..];
            let gap = after.len() - after.trim_start_matches([' ', '\t']).len();
            if standalone
                && gap > 0
                && doc
                    .tokens
                    .get(i + 1)
                    .is_some_and(|n| n.is_wordlike() && n.start == t.end() + gap)
            {
                out.push(HashtagIssue {
                    tag: format!("# {}", doc.tokens[i + 1].raw),
                    issue: "space_after_hash",
                });
            }
            continue;
        }
        if t.kind != TokKind::Hashtag {
            continue;
        }
        let body = &t.raw[1..];
        let mut push = |issue| {
            out.push(HashtagIssue {
                tag: t.raw.to_string(),
                issue,
            })
        };
        if seen.contains(&t.norm.as_ref()) {
            push("duplicate");
        } else {
            seen.push(t.norm.as_ref());
        }
        let letters = body.chars().filter(|c| c.is_alphabetic()).count();
        if letters == 0 {
            push("numeric");
        } else if letters >= 5
            && body
                .chars()
                .filter(|c| c.is_alphabetic())
                .all(char::is_uppercase)
        {
            push("all_caps");
        }
        let camel = body.chars().skip(1).any(char::is_uppercase);
        if body.chars().count() > 25 && !camel {
            push("too_long");
        }
        let mut rest = doc.text[t.end()..].chars();
        if let (Some(p), Some(n)) = (rest.next(), rest.next())
            && matches!(p, '-' | '.' | '\'' | '\u{2019}' | '&' | '/')
            && n.is_alphanumeric()
        {
            push("broken");
        }
    }
    out
}

/// 0..=1 for the count: none 0.7, 1–2 1.0, 3 0.75, 4 0.55, 5 0.45, then
/// −0.1 per extra tag; minus 0.15 per form issue (at most 0.45).
pub fn score(count: usize, issues: usize) -> f64 {
    let base = match count {
        0 => 0.7,
        1 | 2 => 1.0,
        3 => 0.75,
        4 => 0.55,
        n => (0.45 - 0.1 * (n as f64 - 5.0)).max(0.05),
    };
    (base - (0.15 * issues as f64).min(0.45)).max(0.0)
}

fn issue_text(issue: &str, lang: Language) -> &'static str {
    match (lang, issue) {
        (Language::En, "duplicate") => "repeated",
        (Language::En, "all_caps") => "all caps",
        (Language::En, "too_long") => "long and hard to read (use CamelCase)",
        (Language::En, "numeric") => "numbers only (not linked)",
        (Language::En, "broken") => "cut short by punctuation",
        (Language::En, _) => "space after #",
        (Language::Es, "duplicate") => "repetido",
        (Language::Es, "all_caps") => "en mayúsculas",
        (Language::Es, "too_long") => "largo y difícil de leer (usa CamelCase)",
        (Language::Es, "numeric") => "solo números (no se enlaza)",
        (Language::Es, "broken") => "cortado por un signo de puntuación",
        (Language::Es, _) => "espacio tras #",
    }
}

pub fn signal(tags: &[&str], issues: &[HashtagIssue], lang: Language) -> Signal {
    let n = tags.len();
    let s = score(n, issues.len());
    let plural = if n == 1 { "" } else { "s" };
    let mut detail = match n {
        0 => tr!(
            lang,
            "No hashtags (optional on Facebook; 1–2 relevant ones can help discovery).",
            "Sin hashtags (opcionales en Facebook; 1–2 relevantes ayudan a descubrir la publicación)."
        ),
        1 | 2 => tr!(
            lang,
            "{n} hashtag{plural}: the optimal amount for Facebook.",
            "{n} hashtag{plural}: la cantidad óptima para Facebook."
        ),
        _ => tr!(
            lang,
            "{n} hashtags: more than 2 tends to lower engagement on Facebook.",
            "{n} hashtags: más de 2 suele reducir la interacción en Facebook."
        ),
    };
    for i in issues.iter().take(3) {
        let what = issue_text(i.issue, lang);
        detail.push_str(&format!(" {}: {what}.", i.tag));
    }
    Signal::new("hashtags", round3(s), detail)
}

pub fn suggestion(tags: &[&str], issues: &[HashtagIssue], lang: Language) -> Option<String> {
    let n = tags.len();
    if score(n, issues.len()) >= 0.75 {
        return None;
    }
    if n > 2 {
        let keep = tags.iter().take(2).copied().collect::<Vec<_>>().join(" ");
        return Some(tr!(
            lang,
            "Cut the hashtags from {n} to the 1–2 most relevant (e.g. {keep}); hashtag-heavy posts get less engagement on Facebook.",
            "Reduce los hashtags de {n} a los 1–2 más relevantes (p. ej. {keep}); en Facebook las publicaciones cargadas de hashtags interactúan menos."
        ));
    }
    let first = issues.first()?;
    let tag = &first.tag;
    Some(match first.issue {
        "too_long" | "all_caps" => tr!(
            lang,
            "Write hashtags in CamelCase so they are readable, e.g. #SummerSale instead of {tag}.",
            "Escribe los hashtags en CamelCase para que se lean bien, p. ej. #RebajasDeVerano en lugar de {tag}."
        ),
        "broken" | "space_after_hash" => tr!(
            lang,
            "Remove spaces and punctuation inside hashtags ({tag}): Facebook cuts the tag at the first one.",
            "Quita espacios y signos dentro de los hashtags ({tag}): Facebook corta la etiqueta en el primero."
        ),
        _ => tr!(
            lang,
            "Remove the repeated or number-only hashtag {tag}.",
            "Elimina el hashtag repetido o solo numérico {tag}."
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issue_kinds(text: &str) -> Vec<&'static str> {
        issues(&Doc::new(text))
            .into_iter()
            .map(|i| i.issue)
            .collect()
    }

    #[test]
    fn count_curve() {
        assert!(score(1, 0) > score(0, 0));
        assert_eq!(score(2, 0), 1.0);
        assert!(score(3, 0) < score(2, 0));
        assert!(score(8, 0) < score(4, 0));
        assert!(score(2, 1) < score(2, 0));
    }

    #[test]
    fn form_checks() {
        assert!(
            issue_kinds("#SummerSale #Verano2024").is_empty(),
            "CamelCase is fine"
        );
        assert_eq!(issue_kinds("#BIGSUMMERSALE"), vec!["all_caps"]);
        assert_eq!(issue_kinds("#verano #Verano"), vec!["duplicate"]);
        assert_eq!(
            issue_kinds("#thisisaverylonghashtagwithoutcaps"),
            vec!["too_long"]
        );
        assert_eq!(issue_kinds("#2024"), vec!["numeric"]);
        assert_eq!(issue_kinds("#summer-sale"), vec!["broken"]);
        assert_eq!(issue_kinds("# verano"), vec!["space_after_hash"]);
        assert!(issue_kinds("#USA and C# code").is_empty());
    }

    #[test]
    fn extracts_unicode_tags() {
        let d = Doc::new("Hoy #Madrid y #cafédeespecialidad, no C#.");
        assert_eq!(extract(&d), vec!["#Madrid", "#cafédeespecialidad"]);
    }
}
