//! A tiny phrase matcher over [`Doc`] tokens: the regex-free engine behind
//! the bait, call-to-action, hook and tone phrase lists.
//!
//! A pattern is a `&'static str` of space-separated parts, written folded
//! (lowercase, no accents), matched against consecutive tokens on one line:
//!
//! | part      | matches |
//! |-----------|---------|
//! | `word`    | a word whose folded form is `word` |
//! | `a\|b`    | either alternative |
//! | `friend*` | a word starting with `friend` |
//! | `*`       | any word or number |
//! | `~`       | any word except fillers like "below", "your", "tu" (the *specific answer* slot of comment bait) |
//! | `<e>`     | an emoji or emoticon |
//! | `<n>`     | a number |
//! | `=`       | the `=` sign |
//! | `^` first | the match starts a sentence or clause |
//! | `$` last  | the match ends a sentence or clause |
//!
//! Quotes, commas and similar punctuation between parts are skipped
//! (`comment "YES" if` matches `comment ~ if`); sentence-ending punctuation,
//! hashtags, links and line breaks are not. Patterns are static strings and
//! candidates come from the document's sorted word index, so matching
//! allocates only the result.
//!
//! A list is matched as a [`PatternList`], built at compile time by
//! [`patterns!`](crate::patterns) (`list.rs`): besides the patterns it holds, for each
//! one, the document-filter bits of its first part's words
//! ([`FirstPart`]). Most patterns start with a word the post does not
//! contain, and those are dismissed with one bit test each, without
//! scanning or hashing the pattern on every call.

use crate::text::{Doc, TokKind, Token};

mod list;

pub use list::{FirstPart, MAX_FILTERED_ALTERNATIVES, PatternList, first_parts, sources, untagged};

/// One match of a tagged pattern: token range `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match<T> {
    pub tag: T,
    pub pattern: &'static str,
    pub start: usize,
    pub end: usize,
}

/// Words the `~` slot refuses: they signal an ordinary sentence, not a
/// requested answer ("comment below if…", "escribe tu opinión y…").
const FILLERS: &[&str] = &[
    "a", "abajo", "aca", "ahora", "al", "an", "aqui", "below", "con", "de", "del", "down", "el",
    "en", "eso", "esto", "here", "in", "it", "la", "las", "le", "les", "lo", "los", "me", "my",
    "nos", "now", "our", "que", "su", "sus", "that", "the", "this", "tu", "tus", "un", "una", "us",
    "what", "with", "your",
];

/// Punctuation that patterns step over.
fn is_soft(t: &Token<'_>) -> bool {
    t.kind == TokKind::Punct && !t.is_terminal() && t.raw != "="
}

fn part_matches(part: &str, t: &Token<'_>) -> bool {
    match part {
        "*" => t.is_wordlike(),
        "~" => t.is_wordlike() && FILLERS.binary_search(&t.norm.as_ref()).is_err(),
        "<e>" => matches!(t.kind, TokKind::Emoji | TokKind::Emoticon),
        "<n>" => t.kind == TokKind::Number,
        "=" => t.kind == TokKind::Punct && t.raw == "=",
        _ => {
            t.is_wordlike()
                && part.split('|').any(|alt| match alt.strip_suffix('*') {
                    Some(prefix) => t.norm.starts_with(prefix),
                    None => t.norm == alt,
                })
                || t.raw == "=" && part.split('|').any(|alt| alt == "=")
        }
    }
}

/// Does the clause start at token `i` (nothing but punctuation, an emoji
/// or a line break before it)?
fn at_clause_start(doc: &Doc<'_>, i: usize) -> bool {
    i == 0 || {
        let prev = &doc.tokens[i - 1];
        !prev.is_wordlike() || prev.line != doc.tokens[i].line
    }
}

fn at_clause_end(doc: &Doc<'_>, last: usize) -> bool {
    match doc.tokens.get(last + 1) {
        None => true,
        Some(next) => !next.is_wordlike() || next.line != doc.tokens[last].line,
    }
}

/// Tries `pattern` at token `i`; returns the end (exclusive) of the match.
pub fn match_at(doc: &Doc<'_>, pattern: &str, i: usize) -> Option<usize> {
    let mut parts = pattern.split(' ').peekable();
    let anchored = parts.peek() == Some(&"^");
    if anchored {
        parts.next();
        if !at_clause_start(doc, i) {
            return None;
        }
    }
    let tokens = &doc.tokens;
    let line = tokens.get(i)?.line;
    let mut t = i;
    let mut last = None;
    for part in parts {
        if part == "$" {
            return last.filter(|&l| at_clause_end(doc, l)).map(|l| l + 1);
        }
        if last.is_some() {
            t += 1;
            while t < tokens.len() && is_soft(&tokens[t]) {
                t += 1;
            }
        }
        let tok = tokens.get(t)?;
        if tok.line != line || !part_matches(part, tok) {
            return None;
        }
        last = Some(t);
    }
    last.map(|l| l + 1)
}

/// Candidate start positions for a pattern, from its first real part.
fn candidates(doc: &Doc<'_>, pattern: &str, first: &FirstPart, out: &mut Vec<usize>) {
    out.clear();
    if !first.may_start_in(doc) {
        return;
    }
    match first_part(pattern) {
        "*" | "~" => out.extend(
            doc.tokens
                .iter()
                .enumerate()
                .filter(|(_, t)| t.is_wordlike())
                .map(|(i, _)| i),
        ),
        "<e>" => out.extend(
            doc.tokens
                .iter()
                .enumerate()
                .filter(|(_, t)| matches!(t.kind, TokKind::Emoji | TokKind::Emoticon))
                .map(|(i, _)| i),
        ),
        "<n>" => out.extend(
            doc.tokens
                .iter()
                .enumerate()
                .filter(|(_, t)| t.kind == TokKind::Number)
                .map(|(i, _)| i),
        ),
        "=" => out.extend(
            doc.tokens
                .iter()
                .enumerate()
                .filter(|(_, t)| t.raw == "=")
                .map(|(i, _)| i),
        ),
        lit => {
            let mut rest = lit;
            loop {
                let (alt, more) = split_once_byte(rest, b'|');
                match alt.strip_suffix('*') {
                    Some(prefix) => out.extend(doc.positions(prefix, true)),
                    None => out.extend(doc.positions(alt, false)),
                }
                match more {
                    Some(more) => rest = more,
                    None => break,
                }
            }
        }
    }
}

/// The pattern's first real part (after a leading `^`).
fn first_part(pattern: &str) -> &str {
    let rest = match pattern {
        "^" => "",
        _ => pattern.strip_prefix("^ ").unwrap_or(pattern),
    };
    split_once_byte(rest, b' ').0
}

/// `s` up to the first `byte` (ASCII) and what follows it, if any.
fn split_once_byte(s: &str, byte: u8) -> (&str, Option<&str>) {
    match s.bytes().position(|b| b == byte) {
        Some(n) => (&s[..n], Some(&s[n + 1..])),
        None => (s, None),
    }
}

/// All matches of the tagged patterns, sorted by position; overlapping
/// matches are resolved in favour of the earliest, then the longest.
pub fn find_all<T: Copy>(doc: &Doc<'_>, patterns: &PatternList<'_, T>) -> Vec<Match<T>> {
    let mut found = Vec::new();
    let mut cands = Vec::new();
    for (&tag, pattern, first) in patterns.iter() {
        candidates(doc, pattern, first, &mut cands);
        for &i in &cands {
            if let Some(end) = match_at(doc, pattern, i) {
                found.push(Match {
                    tag,
                    pattern,
                    start: i,
                    end,
                });
            }
        }
    }
    found.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    let mut kept: Vec<Match<T>> = Vec::with_capacity(found.len());
    for m in found {
        if kept.last().is_none_or(|k| m.start >= k.end) {
            kept.push(m);
        }
    }
    kept
}

/// Does any of the patterns match anywhere?
pub fn any<T>(doc: &Doc<'_>, patterns: &PatternList<'_, T>) -> bool {
    any_in(doc, patterns, 0, doc.tokens.len())
}

/// Does any of the patterns match entirely within tokens `start..end`?
pub fn any_in<T>(doc: &Doc<'_>, patterns: &PatternList<'_, T>, start: usize, end: usize) -> bool {
    let mut cands = Vec::new();
    patterns.iter().any(|(_, p, first)| {
        candidates(doc, p, first, &mut cands);
        cands
            .iter()
            .any(|&i| (start..end).contains(&i) && match_at(doc, p, i).is_some_and(|e| e <= end))
    })
}

/// Number of (possibly overlapping) matches of the patterns.
pub fn count<T>(doc: &Doc<'_>, patterns: &PatternList<'_, T>) -> usize {
    let mut cands = Vec::new();
    patterns
        .iter()
        .map(|(_, p, first)| {
            candidates(doc, p, first, &mut cands);
            cands
                .iter()
                .filter(|&&i| match_at(doc, p, i).is_some())
                .count()
        })
        .sum()
}

#[cfg(test)]
mod tests;
