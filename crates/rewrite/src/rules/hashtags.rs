//! Rule `hashtags`: hashtag form and count. Fixes `# tag` → `#tag`,
//! `#ALLCAPS` → `#Allcaps`, drops repeated tags, and when there are more than
//! two keeps the best (relevant to the post's words, not generic filler,
//! readable CamelCase) — up to 2 or 3, whichever scores better. Tags in a
//! trailing block are removed; a tag inside a sentence keeps its word and
//! only loses the `#`. All-lowercase multiword tags are left as written.

use super::{Candidate, Ctx};
use crate::text::{tidy, title_case};
use fbposts_core::fold::fold;
use fbposts_core::text::{Doc, TokKind};

pub const RULE: &str = "hashtags";

/// Filler tags that say nothing about the post.
const GENERIC: &[&str] = &[
    "amor",
    "comida",
    "fyp",
    "follow",
    "followme",
    "food",
    "foodie",
    "fun",
    "happy",
    "instafood",
    "instagood",
    "like",
    "likes",
    "love",
    "photooftheday",
    "rico",
    "viral",
    "yummy",
    "picoftheday",
    "tbt",
    "felicidad",
    "feliz",
    "instadaily",
];

/// `# tag` → `#tag`.
fn join_space_after_hash(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        out.push(c);
        if c == '#'
            && text[..i]
                .chars()
                .next_back()
                .is_none_or(char::is_whitespace)
        {
            let rest = &text[i + 1..];
            let gap = rest.len() - rest.trim_start_matches([' ', '\t']).len();
            if gap > 0
                && rest[gap..]
                    .chars()
                    .next()
                    .is_some_and(char::is_alphanumeric)
            {
                for _ in 0..rest[..gap].chars().count() {
                    chars.next();
                }
            }
        }
    }
    out
}

struct Tag {
    start: usize,
    end: usize,
    norm: String,
    /// In a trailing run of hashtags (removable) rather than inside prose.
    block: bool,
    rank: i32,
}

fn tags(text: &str) -> Vec<Tag> {
    let doc = Doc::new(text);
    let toks = &doc.tokens;
    let body_words: Vec<String> = doc
        .words()
        .filter(|t| t.raw.chars().count() >= 4)
        .map(|t| t.norm.to_string())
        .collect();
    let mut out = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        if t.kind != TokKind::Hashtag {
            continue;
        }
        // Block: every later token on the same line is a hashtag or emoji.
        let block = toks[i + 1..]
            .iter()
            .take_while(|n| n.line == t.line)
            .all(|n| matches!(n.kind, TokKind::Hashtag | TokKind::Emoji));
        let norm = fold(&t.raw[1..]);
        let mut rank = 0;
        if body_words
            .iter()
            .any(|w| norm.contains(w.as_str()) || (norm.len() >= 4 && w.contains(norm.as_str())))
        {
            rank += 2;
        }
        if GENERIC.contains(&norm.as_str()) {
            rank -= 3;
        }
        if t.raw.chars().skip(2).any(char::is_uppercase) && t.raw.chars().any(char::is_lowercase) {
            rank += 1;
        }
        out.push(Tag {
            start: t.start,
            end: t.end(),
            norm,
            block,
            rank,
        });
    }
    out
}

/// Applies removals: block tags are deleted, inline tags lose their `#`.
fn remove(text: &str, tags: &[Tag], drop: &[bool]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (t, &d) in tags.iter().zip(drop) {
        if !d {
            continue;
        }
        out.push_str(&text[last..t.start]);
        if !t.block {
            out.push_str(&text[t.start + 1..t.end]);
        }
        last = t.end;
    }
    out.push_str(&text[last..]);
    tidy(&out)
}

/// `#OFERTAS` → `#Ofertas` (5+ letters, all capitals).
fn fix_caps(text: &str) -> String {
    let doc = Doc::new(text);
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for t in doc.of_kind(TokKind::Hashtag) {
        let body = &t.raw[1..];
        let letters: Vec<char> = body.chars().filter(|c| c.is_alphabetic()).collect();
        if letters.len() >= 5 && letters.iter().all(|c| c.is_uppercase()) {
            out.push_str(&text[last..t.start]);
            out.push('#');
            out.push_str(&title_case(body));
            last = t.end();
        }
    }
    out.push_str(&text[last..]);
    out
}

pub fn candidates(_ctx: &Ctx<'_>, text: &str) -> Vec<Candidate> {
    let formed = fix_caps(&join_space_after_hash(text));
    let list = tags(&formed);
    // Duplicates (after the first) go.
    let mut drop: Vec<bool> = list
        .iter()
        .enumerate()
        .map(|(i, t)| list[..i].iter().any(|p| p.norm == t.norm))
        .collect();
    let form = remove(&formed, &list, &drop);
    let mut out = Vec::new();
    if form != text {
        out.push(Candidate::new(RULE, form));
    }
    let kept: Vec<usize> = (0..list.len()).filter(|&i| !drop[i]).collect();
    for keep in [2usize, 3] {
        if kept.len() <= keep {
            continue;
        }
        // Best first; ties keep the earlier tag.
        let mut order = kept.clone();
        order.sort_by_key(|&i| (-list[i].rank, i));
        for &i in &order[keep..] {
            drop[i] = true;
        }
        out.push(Candidate::new(RULE, remove(&formed, &list, &drop)));
        for &i in &order[keep..] {
            drop[i] = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use fbposts_core::{AnalyzeRequest, Language, analyze};

    fn run(text: &str) -> Vec<String> {
        let a = analyze(&AnalyzeRequest::new(text));
        let ctx = Ctx {
            lang: Language::Es,
            requested_tone: None,
            analysis: &a,
        };
        candidates(&ctx, text).into_iter().map(|c| c.text).collect()
    }

    #[test]
    fn form_fixes() {
        let c = run("Café de Colombia en #Madrid hoy # cafe #CAFETERIA #cafe #cafesdelmundo");
        assert_eq!(
            c[0],
            "Café de Colombia en #Madrid hoy #cafe #Cafeteria #cafesdelmundo"
        );
    }

    #[test]
    fn keeps_the_best_two_and_unhashes_inline_tags() {
        let c = run(
            "Nuevo #café de Colombia, tostado en casa #love #instafood #Colombia #foodie #CaféDeEspecialidad",
        );
        assert_eq!(
            c[0],
            "Nuevo café de Colombia, tostado en casa #Colombia #CaféDeEspecialidad"
        );
        assert_eq!(
            c[1],
            "Nuevo #café de Colombia, tostado en casa #Colombia #CaféDeEspecialidad"
        );
    }
}
