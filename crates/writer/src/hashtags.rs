//! Hashtags derived from the brief, and the form every hashtag must have.
//!
//! Rule: `#` + CamelCase ASCII letters and digits. Accents are stripped
//! (`#CaféDeOrigen` → `#CafeDeOrigen`: accented hashtags are split or
//! linked inconsistently across devices), apostrophes and punctuation are
//! dropped, every word is capitalised (inner stop words included, so the tag
//! reads naturally; leading and trailing ones are dropped: `#CafeDeOrigen`, `#YogaForBeginners`), and a word in
//! capitals keeps them only up to 4 letters (`SEO`, but `#Marketing` for
//! "MARKETING"). Phrases of more than 4 words or 25 letters keep their
//! first 3 content words. Candidates, in order: the topic, each keyword,
//! each detail that names something (not a date, price, place or link),
//! then the topic's content words of 4+ letters alone, head noun first
//! (Spanish puts it first, English last). Only the brief's own words: no
//! generic filler tags (`#Ideas`), so a brief with little to tag gets
//! fewer tags than it asked for. No duplicates (case-insensitive), nothing
//! containing a word to avoid.

use crate::Brief;
use crate::text::{fold, strip_accent};
use fbposts_core::Language;
use fbposts_core::lang::is_stopword;

/// Longest tag body (after `#`) we generate.
const MAX_TAG_CHARS: usize = 30;

fn is_stop(word: &str) -> bool {
    let f = fold(word);
    is_stopword(Language::Es, &f) || is_stopword(Language::En, &f)
}

fn words(phrase: &str) -> Vec<String> {
    phrase
        .chars()
        .filter(|c| !matches!(c, '\'' | '’'))
        .map(strip_accent)
        .collect::<String>()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

fn camel(word: &str) -> String {
    let upper = word.chars().all(|c| !c.is_ascii_lowercase());
    let mut out = String::new();
    for (i, c) in word.chars().enumerate() {
        if i == 0 {
            out.push(c.to_ascii_uppercase());
        } else if upper && word.len() > 4 {
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The hashtag body (without `#`) for a phrase, or `None` when nothing
/// usable is left (no letters, or a single 1-letter word).
pub fn tag_body(phrase: &str) -> Option<String> {
    let mut ws = words(phrase);
    // Leading and trailing function words add nothing ("the spring sale").
    while ws.len() > 1 && ws.first().is_some_and(|w| is_stop(w)) {
        ws.remove(0);
    }
    while ws.len() > 1 && ws.last().is_some_and(|w| is_stop(w)) {
        ws.pop();
    }
    let full: usize = ws.iter().map(String::len).sum();
    if ws.len() > 4 || full > 25 {
        ws.retain(|w| !is_stop(w));
        ws.truncate(3);
    }
    let mut body: String = ws.iter().map(|w| camel(w)).collect();
    while body.len() > MAX_TAG_CHARS && ws.len() > 1 {
        ws.pop();
        body = ws.iter().map(|w| camel(w)).collect();
    }
    let ok = body.len() >= 2
        && body.len() <= MAX_TAG_CHARS
        && body.chars().any(|c| c.is_ascii_alphabetic());
    ok.then_some(body)
}

/// Is this a well-formed hashtag (`#` + ASCII letters/digits, with a letter)?
pub fn is_well_formed(tag: &str) -> bool {
    let Some(body) = tag.strip_prefix('#') else {
        return false;
    };
    !body.is_empty()
        && body.chars().all(|c| c.is_ascii_alphanumeric())
        && body.chars().any(|c| c.is_ascii_alphabetic())
}

/// Does the tag contain one of the words to avoid (folded, spaces ignored)?
pub fn contains_avoided(tag: &str, avoid: &[String]) -> bool {
    let t = fold(tag);
    avoid.iter().any(|a| {
        let a: String = fold(a).chars().filter(|c| c.is_alphanumeric()).collect();
        !a.is_empty() && t.contains(&a)
    })
}

/// Adds `body` as a tag unless it duplicates one (case-insensitive) or
/// contains an avoided word.
fn push(tags: &mut Vec<String>, body: &str, avoid: &[String]) {
    let tag = format!("#{body}");
    if is_well_formed(&tag)
        && !contains_avoided(&tag, avoid)
        && !tags.iter().any(|t| t.eq_ignore_ascii_case(&tag))
    {
        tags.push(tag);
    }
}

/// Up to `brief.hashtags` tags: `preferred` first (normalised, e.g. the
/// tags an LLM wrote), then the derived candidates (see the module docs).
pub fn choose(brief: &Brief, preferred: &[String]) -> Vec<String> {
    let want = brief.hashtags as usize;
    let avoid = brief.avoid_words();
    let mut tags: Vec<String> = Vec::new();
    for p in preferred {
        if let Some(b) = tag_body(p.trim_start_matches('#')) {
            push(&mut tags, &b, avoid);
        }
    }
    let mut candidates: Vec<String> = Vec::new();
    candidates.extend(tag_body(&brief.topic));
    candidates.extend(brief.keywords.iter().filter_map(|k| tag_body(k)));
    candidates.extend(
        crate::details::classified(brief)
            .iter()
            .filter(|d| d.kind == crate::details::DetailKind::Other)
            .filter_map(|d| tag_body(&d.text)),
    );
    // Single words of the topic, the head noun first (Spanish puts it
    // first, English last: "huertos urbanos", "specialty coffee").
    let mut singles: Vec<String> = words(&brief.topic)
        .into_iter()
        .filter(|w| w.len() >= 4 && !is_stop(w))
        .map(|w| camel(&w))
        .collect();
    if brief.language == Language::En {
        singles.reverse();
    }
    candidates.extend(singles);
    for c in &candidates {
        if tags.len() >= want {
            break;
        }
        push(&mut tags, c, avoid);
    }
    tags.truncate(want);
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brief(topic: &str, n: u8) -> Brief {
        let mut b = Brief::new(topic);
        b.hashtags = n;
        b
    }

    #[test]
    fn camel_case_without_accents() {
        assert_eq!(tag_body("Café de origen").as_deref(), Some("CafeDeOrigen"));
        assert_eq!(
            tag_body("yoga for beginners").as_deref(),
            Some("YogaForBeginners")
        );
        assert_eq!(
            tag_body("MARKETING digital").as_deref(),
            Some("MarketingDigital")
        );
        assert_eq!(tag_body("SEO tips").as_deref(), Some("SEOTips"));
        assert_eq!(tag_body("women's health").as_deref(), Some("WomensHealth"));
        assert_eq!(
            tag_body("clases de yoga para principiantes en Madrid").as_deref(),
            Some("ClasesYogaPrincipiantes")
        );
        assert_eq!(tag_body("!!!"), None);
        assert_eq!(tag_body("2024"), None);
        assert_eq!(tag_body("the spring sale").as_deref(), Some("SpringSale"));
        assert_eq!(
            tag_body("el pan de masa madre").as_deref(),
            Some("PanDeMasaMadre")
        );
    }

    #[test]
    fn exactly_n_unique_tags_without_avoided_words() {
        let mut b = brief("Pan de masa madre", 5);
        b.keywords = vec!["pan de masa madre".into(), "horno de leña".into()];
        b.details = vec!["pan de espelta".into(), "sábado 14 de junio".into()];
        let tags = choose(&b, &[]);
        // Only the brief's own words: topic, keywords, the naming detail,
        // then single words of the topic; no filler.
        assert_eq!(
            tags,
            vec![
                "#PanDeMasaMadre",
                "#HornoDeLena",
                "#PanDeEspelta",
                "#Masa",
                "#Madre"
            ]
        );
        b.details.clear();
        b.brand_voice = Some(crate::BrandVoice {
            avoid_words: vec!["masa".into()],
            ..Default::default()
        });
        let tags = choose(&b, &["#PanDeMasaMadre".into(), "#MiPan".into()]);
        assert!(
            tags.iter().all(|t| !t.to_lowercase().contains("masa")),
            "{tags:?}"
        );
        assert_eq!(tags, vec!["#MiPan", "#HornoDeLena", "#Madre"]);
        for n in 0..=5 {
            assert_eq!(choose(&brief("x", n), &[]).len(), 0);
            assert_eq!(
                choose(&brief("specialty coffee beans", n), &[]).len(),
                usize::from(n).min(4)
            );
        }
    }
}
