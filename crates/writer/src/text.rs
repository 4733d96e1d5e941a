//! Text helpers shared by the composer and the checks: accent stripping
//! that keeps case, whole-word folded matching (for brand words), Spanish
//! preposition contractions, list joining, sentence splitting, the length
//! measure (chars without links) and draft openings.

use fbposts_core::Language;
use fbposts_core::fold::fold_char;
use unicode_segmentation::UnicodeSegmentation;

/// Strips Latin diacritics but keeps case (`Á`→`A`, `ñ`→`n`, `Ü`→`U`).
pub fn strip_accent(c: char) -> char {
    let f = fold_char(c);
    if c.is_uppercase() && f != c {
        f.to_ascii_uppercase()
    } else if f.is_ascii_alphanumeric() {
        f
    } else {
        c
    }
}

/// Lowercase, accents removed (core's folding).
pub fn fold(s: &str) -> String {
    fbposts_core::fold::fold(s)
}

/// The first char in upper case.
pub fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric()
}

/// Byte ranges where `phrase` occurs in `text` as whole words, compared
/// folded (case- and accent-insensitive). With `skip_hashtags`, matches
/// right after a `#` are ignored.
pub fn find_words(text: &str, phrase: &str, skip_hashtags: bool) -> Vec<(usize, usize)> {
    let needle: Vec<char> = phrase.trim().chars().map(fold_char).collect();
    if needle.is_empty() {
        return Vec::new();
    }
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let folded: Vec<char> = chars.iter().map(|(_, c)| fold_char(*c)).collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i + needle.len() <= folded.len() {
        let before_ok = i == 0 || !is_word_char(chars[i - 1].1);
        let hashtag = i > 0 && chars[i - 1].1 == '#';
        let end = i + needle.len();
        let after_ok = end == chars.len() || !is_word_char(chars[end].1);
        if before_ok && after_ok && !(skip_hashtags && hashtag) && folded[i..end] == needle[..] {
            let b_end = if end == chars.len() {
                text.len()
            } else {
                chars[end].0
            };
            out.push((chars[i].0, b_end));
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

/// Does `text` contain `phrase` as whole words (folded)?
pub fn contains_words(text: &str, phrase: &str) -> bool {
    !find_words(text, phrase, false).is_empty()
}

/// `de` + topic, contracting `de el` → `del` (Spanish); `of` otherwise
/// is never needed, so English returns the topic unchanged.
pub fn de(lang: Language, topic: &str) -> String {
    match lang {
        Language::Es => contract("de", "del", topic),
        Language::En => topic.to_string(),
    }
}

/// `a` + topic, contracting `a el` → `al` (Spanish).
pub fn a(lang: Language, topic: &str) -> String {
    match lang {
        Language::Es => contract("a", "al", topic),
        Language::En => topic.to_string(),
    }
}

fn contract(prep: &str, joined: &str, topic: &str) -> String {
    match topic.split_once(' ') {
        Some((first, rest)) if first == "el" || first == "El" => format!("{joined} {rest}"),
        _ => format!("{prep} {topic}"),
    }
}

/// "a, b and c" / "a, b y c" (Spanish `y` becomes `e` before an /i/ sound).
pub fn join_list(lang: Language, items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => {
            let conj = match lang {
                Language::En => "and",
                Language::Es => {
                    let f = fold(last);
                    if (f.starts_with('i') || f.starts_with("hi")) && !f.starts_with("hie") {
                        "e"
                    } else {
                        "y"
                    }
                }
            };
            format!("{} {conj} {last}", init.join(", "))
        }
    }
}

/// Is this whitespace-separated token a link?
pub fn is_link(token: &str) -> bool {
    let t = token
        .trim_start_matches(['(', '<', '"'])
        .to_ascii_lowercase();
    t.starts_with("http://") || t.starts_with("https://") || t.starts_with("www.")
}

/// The post length used for [`crate::Length`]: chars excluding links.
pub fn measure(text: &str) -> usize {
    let total = text.chars().count();
    let links: usize = text
        .split_whitespace()
        .filter(|t| is_link(t))
        .map(|t| t.chars().count())
        .sum();
    total - links
}

/// The first `n` words, folded (what "the same opening" means).
pub fn opening(text: &str, n: usize) -> String {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(n)
        .map(fold)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Splits a line into sentences after `.`, `!`, `?` or `…` followed by a
/// space (links and decimals stay whole). Each sentence keeps its
/// punctuation; leading/trailing spaces are trimmed.
pub fn sentences(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        cur.push(c);
        if matches!(c, '.' | '!' | '?' | '…') && chars.peek().is_some_and(|n| n.is_whitespace()) {
            out.push(cur.trim().to_string());
            cur.clear();
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// Emoji in `text` (grapheme clusters, core's detector).
pub fn emoji_list(text: &str) -> Vec<&str> {
    fbposts_core::emoji::list(text)
}

/// `text` without any emoji (and without the spaces they leave behind).
pub fn strip_emoji(text: &str) -> String {
    let kept: String = text
        .graphemes(true)
        .filter(|g| !fbposts_core::emoji::is_emoji(g) && *g != "\u{FE0F}" && *g != "\u{200D}")
        .collect();
    tidy(&kept)
}

/// Collapses runs of spaces, removes spaces before punctuation and at line
/// ends, and collapses 3+ newlines to one blank line.
pub fn tidy(text: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    for line in text.lines() {
        let mut l = String::with_capacity(line.len());
        for c in line.chars() {
            if c == ' ' && (l.is_empty() || l.ends_with(' ')) {
                continue;
            }
            if matches!(c, ',' | '.' | '!' | '?' | ':' | ';') && l.ends_with(' ') {
                l.pop();
            }
            l.push(c);
        }
        let l = l.trim_end().to_string();
        // A line left with only punctuation is dropped.
        let meaningful = l.chars().any(|c| c.is_alphanumeric() || c == '#')
            || fbposts_core::emoji::count(&l) > 0;
        if !l.is_empty() && !meaningful {
            continue;
        }
        if l.is_empty() && lines.last().is_none_or(|p| p.is_empty()) {
            continue;
        }
        lines.push(l);
    }
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_matched_whole_and_folded() {
        let t = "Café BARATO, no baratos. #Barato";
        assert_eq!(find_words(t, "barato", false).len(), 2);
        assert_eq!(find_words(t, "barato", true).len(), 1);
        assert!(contains_words(t, "cafe"));
        assert!(!contains_words(t, "caf"));
        assert!(contains_words("hecho a mano, siempre", "Hecho a Mano"));
    }

    #[test]
    fn spanish_contractions_and_lists() {
        assert_eq!(
            de(Language::Es, "el pan de masa madre"),
            "del pan de masa madre"
        );
        assert_eq!(a(Language::Es, "la cocina"), "a la cocina");
        assert_eq!(de(Language::Es, "él dijo"), "de él dijo");
        let l = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            join_list(Language::Es, &l(&["pan", "ideas"])),
            "pan e ideas"
        );
        assert_eq!(
            join_list(Language::Es, &l(&["pan", "café", "hielo"])),
            "pan, café y hielo"
        );
        assert_eq!(join_list(Language::En, &l(&["a", "b", "c"])), "a, b and c");
    }

    #[test]
    fn measuring_and_splitting() {
        assert_eq!(measure("Hola https://example.com/x adiós"), 11);
        assert_eq!(
            sentences("Uno. ¿Dos? ¡Tres! 3.5 km"),
            vec!["Uno.", "¿Dos?", "¡Tres!", "3.5 km"]
        );
        assert_eq!(
            opening("¡Hola, qué tal! Buen día a todos", 5),
            "hola que tal buen dia"
        );
        assert_eq!(strip_emoji("Hola 😊 mundo ❤️!"), "Hola mundo!");
        assert_eq!(strip_accent('Á'), 'A');
        assert_eq!(strip_accent('ñ'), 'n');
    }
}
