//! The tokenizer behind [`Doc::new`](super::Doc::new): whitespace-separated
//! chunks, then emoticons, links, and grapheme by grapheme words, numbers,
//! hashtags, mentions, emoji and punctuation, with the line and sentence of
//! each token. Pieces that are plain words between ASCII punctuation (most
//! of them) take a shorter path with the same result ([`SimplePiece`]).

use super::{TokKind, Token};
use crate::{Language, emoji, fold, lang, lexicon};
use std::borrow::Cow;
use unicode_segmentation::UnicodeSegmentation;

pub(super) struct Tokenizer<'a> {
    pub(super) text: &'a str,
    pub(super) tokens: Vec<Token<'a>>,
    pub(super) line: u32,
    pub(super) sentence: u32,
    pub(super) pending_break: bool,
    pub(super) sentence_has_tokens: bool,
}

impl<'a> Tokenizer<'a> {
    pub(super) fn run(&mut self) {
        let text = self.text;
        let mut chunk_start: Option<usize> = None;
        for (i, c) in text.char_indices() {
            if c.is_whitespace() {
                if let Some(s) = chunk_start.take() {
                    self.chunk(s, i);
                }
                if c == '\n' {
                    self.line += 1;
                    self.pending_break = true;
                }
            } else if chunk_start.is_none() {
                chunk_start = Some(i);
            }
        }
        if let Some(s) = chunk_start {
            self.chunk(s, text.len());
        }
    }

    fn push(&mut self, kind: TokKind, start: usize, end: usize, norm: Cow<'a, str>) {
        let raw = &self.text[start..end];
        let starts_sentence = matches!(
            kind,
            TokKind::Word | TokKind::Number | TokKind::Hashtag | TokKind::Mention | TokKind::Link
        ) || (kind == TokKind::Punct && matches!(raw, "¿" | "¡"));
        if starts_sentence && self.pending_break && self.sentence_has_tokens {
            self.sentence += 1;
        }
        if starts_sentence {
            self.pending_break = false;
        }
        self.sentence_has_tokens = true;
        let (stop_es, stop_en) = match crate::words::pack(&norm) {
            Some(key) if kind == TokKind::Word => (
                lang::stopwords(Language::Es).contains_key(key),
                lang::stopwords(Language::En).contains_key(key),
            ),
            _ => (false, false),
        };
        self.tokens.push(Token {
            kind,
            raw,
            norm,
            start,
            line: self.line,
            sentence: self.sentence,
            stop_es,
            stop_en,
        });
        if kind == TokKind::Punct && matches!(raw, "." | "!" | "?" | "…") {
            self.pending_break = true;
        }
    }

    fn push_punct(&mut self, start: usize, end: usize) {
        let raw = &self.text[start..end];
        self.push(TokKind::Punct, start, end, Cow::Borrowed(raw));
    }

    /// One whitespace-free chunk `text[start..end]`.
    fn chunk(&mut self, start: usize, end: usize) {
        let chunk = &self.text[start..end];
        // Emoticons first (":)", ":-D", "<3"): VADER scores them.
        if is_emoticon(chunk) {
            self.push(TokKind::Emoticon, start, end, Cow::Owned(fold::fold(chunk)));
            return;
        }
        if let Some((ls, le)) = find_link(chunk) {
            if ls > 0 {
                self.graphemes(start, start + ls);
            }
            self.push(
                TokKind::Link,
                start + ls,
                start + le,
                Cow::Borrowed(&chunk[ls..le]),
            );
            if le < chunk.len() {
                self.graphemes(start + le, end);
            }
            return;
        }
        self.graphemes(start, end);
    }

    /// Splits `text[start..end]` (no whitespace, no link) into tokens.
    pub(super) fn graphemes(&mut self, start: usize, end: usize) {
        match simple_piece(&self.text[start..end]) {
            Some(simple) => self.simple_piece(start, simple),
            None => self.any_piece(start, end),
        }
    }

    /// The tokens [`Tokenizer::any_piece`] makes of a [`SimplePiece`]:
    /// each punctuation byte alone, the word in one piece.
    fn simple_piece(&mut self, start: usize, piece: SimplePiece) {
        for i in 0..piece.word_start {
            self.push_punct(start + i, start + i + 1);
        }
        if piece.word_end > piece.word_start {
            let word = (piece.word_start, TokKind::Word, piece.digits);
            self.flush_word(start, word, piece.word_end);
        }
        for i in piece.word_end..piece.len {
            self.push_punct(start + i, start + i + 1);
        }
    }

    /// The general case: grapheme by grapheme.
    pub(super) fn any_piece(&mut self, start: usize, end: usize) {
        let piece = &self.text[start..end];
        // Current word: (start offset in piece, kind, all digits so far).
        let mut word: Option<(usize, TokKind, bool)> = None;
        let mut off = 0;
        let mut cur = next_grapheme(piece, 0);
        while let Some(g) = cur {
            let next = next_grapheme(piece, off + g.len());
            let first = g.chars().next().unwrap_or(' ');
            let next_first = next.map(|n| n.chars().next().unwrap_or(' '));
            let next_alnum = next_first.is_some_and(|c| c.is_alphanumeric())
                && next.is_some_and(|n| !emoji::is_emoji(n));
            let is_emoji =
                (g.len() > first.len_utf8() || !first.is_alphanumeric()) && emoji::is_emoji(g);
            let here = off;
            off += g.len();
            cur = next;
            if !is_emoji
                && (first.is_alphanumeric()
                    || (first == '_' && word.is_some_and(|w| w.1 != TokKind::Word)))
            {
                match &mut word {
                    Some(w) => w.2 &= first.is_numeric(),
                    None => word = Some((here, TokKind::Word, first.is_numeric())),
                }
                continue;
            }
            if let Some((_, kind, digits)) = word {
                let joins = match first {
                    '\'' | '\u{2019}' => kind == TokKind::Word && !digits && next_alnum,
                    '.' | ',' => {
                        kind == TokKind::Word
                            && digits
                            && next_first.is_some_and(|c| c.is_ascii_digit())
                    }
                    '-' | '_' => kind == TokKind::Word && !digits && next_alnum,
                    _ => false,
                };
                if joins {
                    continue;
                }
            }
            if let Some(w) = word.take() {
                self.flush_word(start, w, here);
            }
            if (first == '#' || first == '@') && g.len() == 1 && next_alnum {
                let kind = if first == '#' {
                    TokKind::Hashtag
                } else {
                    TokKind::Mention
                };
                word = Some((here, kind, false));
                continue;
            }
            if is_emoji {
                self.push(TokKind::Emoji, start + here, start + off, Cow::Borrowed(g));
            } else {
                self.push_punct(start + here, start + off);
            }
        }
        if let Some(w) = word {
            self.flush_word(start, w, piece.len());
        }
    }

    fn flush_word(&mut self, base: usize, (off, kind, digits): (usize, TokKind, bool), end: usize) {
        let (s, e) = (base + off, base + end);
        let raw = &self.text[s..e];
        match kind {
            TokKind::Hashtag | TokKind::Mention => {
                let body = &raw[1..];
                let norm = if fold::is_folded(body) {
                    Cow::Borrowed(body)
                } else {
                    Cow::Owned(fold::fold(body))
                };
                self.push(kind, s, e, norm);
            }
            _ => {
                let kind = if digits {
                    TokKind::Number
                } else {
                    TokKind::Word
                };
                let norm = if fold::is_folded(raw) {
                    Cow::Borrowed(raw)
                } else {
                    Cow::Owned(fold::fold(raw))
                };
                self.push(kind, s, e, norm);
            }
        }
    }
}

/// A piece made of ASCII punctuation, then letters and digits, then ASCII
/// punctuation ("hoy,", "(café)", "2026!"): most pieces of most posts.
/// Every character is below U+0300, so each is a grapheme of its own, no
/// emoji, and the word needs no joining rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct SimplePiece {
    word_start: usize,
    word_end: usize,
    len: usize,
    /// The word is all digits (a number).
    digits: bool,
}

/// A letter or digit of a [`SimplePiece`]'s word: ASCII, or a Latin-1
/// letter (À–ÿ but × and ÷), as `char::is_alphanumeric` says of them.
fn is_simple_letter(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '\u{C0}'..='\u{FF}') && c != '×' && c != '÷'
}

/// `piece` as a [`SimplePiece`], if it is one. Leading `#` and `@` are not
/// allowed (they start hashtags and mentions), nor `_` inside the word.
pub(super) fn simple_piece(piece: &str) -> Option<SimplePiece> {
    let bytes = piece.as_bytes();
    let word_start = bytes
        .iter()
        .position(|&b| !(b.is_ascii_punctuation() && b != b'#' && b != b'@'))
        .unwrap_or(bytes.len());
    let mut word_end = word_start;
    let mut digits = true;
    for (i, c) in piece[word_start..].char_indices() {
        if !is_simple_letter(c) {
            break;
        }
        digits &= c.is_ascii_digit();
        word_end = word_start + i + c.len_utf8();
    }
    let trailing = &bytes[word_end..];
    if !trailing.iter().all(u8::is_ascii_punctuation) {
        return None;
    }
    Some(SimplePiece {
        word_start,
        word_end,
        len: bytes.len(),
        digits: digits && word_end > word_start,
    })
}

/// The grapheme cluster starting at byte `off` of `s` (no whitespace in
/// `s`). Fast path: a char below U+0300 followed by another one is a
/// cluster on its own (nothing below U+0300 extends a cluster except CR LF);
/// anything else goes through full UAX #29 segmentation.
fn next_grapheme(s: &str, off: usize) -> Option<&str> {
    let rest = s.get(off..).filter(|r| !r.is_empty())?;
    let mut chars = rest.chars();
    let c = chars.next()?;
    if (c as u32) < 0x300 && chars.next().is_none_or(|n| (n as u32) < 0x300) {
        Some(&rest[..c.len_utf8()])
    } else {
        rest.graphemes(true).next()
    }
}

/// A chunk that is a VADER emoticon: short, mostly symbols, in the lexicon.
fn is_emoticon(chunk: &str) -> bool {
    if chunk.len() > 8 || !chunk.is_ascii() {
        return false;
    }
    let letters = chunk.bytes().filter(|b| b.is_ascii_alphanumeric()).count();
    let symbols = chunk.len() - letters;
    if symbols == 0
        || letters > 2
        || chunk
            .bytes()
            .all(|b| matches!(b, b'.' | b'!' | b'?' | b','))
    {
        return false;
    }
    lexicon::EN.get(&chunk.to_ascii_lowercase()).is_some()
}

pub(super) const TLDS: &[&str] = &[
    "app", "ar", "bo", "br", "ca", "cl", "co", "com", "cr", "cu", "de", "dev", "do", "ec", "edu",
    "es", "eu", "fm", "fr", "gl", "gov", "gt", "hn", "info", "io", "it", "link", "ly", "me", "mx",
    "net", "ni", "org", "pa", "pe", "py", "shop", "store", "sv", "to", "tv", "uk", "us", "uy",
    "ve",
];

/// Byte range of a link inside a chunk, trailing punctuation excluded.
fn find_link(chunk: &str) -> Option<(usize, usize)> {
    let lower_starts = |s: &str, p: &str| {
        s.len() >= p.len() && s.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes())
    };
    let trim_end = |s: &str| {
        s.trim_end_matches(|c: char| ".,;:!?)]}\"'»”’".contains(c))
            .len()
    };
    // Explicit scheme or www. anywhere after leading punctuation.
    let lead = chunk.len()
        - chunk
            .trim_start_matches(|c: char| "([{\"'«“¿¡".contains(c))
            .len();
    let body = &chunk[lead..];
    if lower_starts(body, "http://") || lower_starts(body, "https://") || lower_starts(body, "www.")
    {
        let end = lead + trim_end(body);
        return (end > lead + 4).then_some((lead, end));
    }
    // Bare domain: host.tld or host.tld/path, host made of [a-z0-9-] labels.
    let end = lead + trim_end(body);
    let candidate = &chunk[lead..end];
    let host = candidate.split(['/', '?', '#']).next().unwrap_or("");
    if host.contains('@') || !host.contains('.') {
        return None;
    }
    let labels: Vec<&str> = host.split('.').collect();
    if labels.len() < 2
        || labels
            .iter()
            .any(|l| l.is_empty() || !l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    {
        return None;
    }
    let tld = labels[labels.len() - 1].to_ascii_lowercase();
    if TLDS.binary_search(&tld.as_str()).is_ok()
        && labels[0].bytes().any(|b| b.is_ascii_alphabetic())
    {
        Some((lead, end))
    } else {
        None
    }
}
