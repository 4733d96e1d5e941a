//! Tokenisation: turns a post into a [`Doc`], the one-pass representation
//! every signal reads (words, numbers, hashtags, mentions, links, emoji,
//! emoticons and punctuation, each with its sentence and line).
//!
//! Language-independent. Words are folded (lowercase, no accents) for
//! matching, and keep their original slice for output. No regex: a single
//! scan over whitespace-separated chunks and their grapheme clusters.

use crate::{Language, emoji, fold, lang, lexicon};
use std::borrow::Cow;
use unicode_segmentation::UnicodeSegmentation;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokKind {
    /// Letters (with inner apostrophes/hyphens), possibly mixed with digits.
    Word,
    /// Digits, with inner `.`/`,` separators.
    Number,
    /// `#tag` (raw keeps the `#`; norm does not).
    Hashtag,
    /// `@name` (raw keeps the `@`; norm does not).
    Mention,
    /// `https://…`, `www.…` or a bare `domain.tld/…`.
    Link,
    /// One emoji grapheme cluster.
    Emoji,
    /// A VADER emoticon such as `:)` or `<3`.
    Emoticon,
    /// One punctuation or symbol grapheme.
    Punct,
}

#[derive(Debug, Clone)]
pub struct Token<'a> {
    pub kind: TokKind,
    /// The original text.
    pub raw: &'a str,
    /// Folded form used for matching (borrowed when folding changes nothing).
    pub norm: Cow<'a, str>,
    /// Byte offset of `raw` in [`Doc::text`].
    pub start: usize,
    /// 0-based line (a `\n` starts a new line).
    pub line: u32,
    /// 0-based sentence id.
    pub sentence: u32,
    /// For words: is it a Spanish / English function word
    /// ([`crate::lang::is_stopword`])? Computed once here because language
    /// detection and the repetition signal both need it.
    pub stop_es: bool,
    pub stop_en: bool,
}

impl Token<'_> {
    pub fn end(&self) -> usize {
        self.start + self.raw.len()
    }

    pub fn is_wordlike(&self) -> bool {
        matches!(self.kind, TokKind::Word | TokKind::Number)
    }

    /// Sentence-ending punctuation (`.`, `!`, `?`, `…`).
    pub fn is_terminal(&self) -> bool {
        self.kind == TokKind::Punct && matches!(self.raw, "." | "!" | "?" | "…")
    }

    /// A word written in capitals: at least two letters, all uppercase.
    pub fn is_all_caps(&self) -> bool {
        if self.kind != TokKind::Word {
            return false;
        }
        let mut letters = 0;
        for c in self.raw.chars() {
            if c.is_alphabetic() {
                if !c.is_uppercase() {
                    return false;
                }
                letters += 1;
            }
        }
        letters >= 2
    }
}

/// A sentence: a token range plus what the signals need to know about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sentence {
    /// First token index.
    pub start: usize,
    /// One past the last token index.
    pub end: usize,
    /// Words and numbers in it.
    pub words: usize,
    /// Contains `?` or `¿`.
    pub is_question: bool,
}

/// A tokenised post.
#[derive(Debug, Clone)]
pub struct Doc<'a> {
    pub text: &'a str,
    pub tokens: Vec<Token<'a>>,
    /// Sentences that contain at least one word.
    pub sentences: Vec<Sentence>,
    /// Number of non-blank lines.
    pub lines: usize,
    /// Word/number token indices sorted by `norm` (for phrase lookup).
    index: Vec<u32>,
    /// 1024-bit filters over the folded words and their first 3 bytes: most
    /// lookups are for words the post does not contain, and these answer
    /// "no" without a binary search.
    word_bits: [u64; 16],
    prefix_bits: [u64; 16],
}

/// FNV-1a of `bytes[start..end]`, reduced to a bit index of a 1024-bit
/// filter. A `const fn` so that pattern lists can carry their filters'
/// bits from compile time ([`WordFilter`]).
const fn bit_index(bytes: &[u8], start: usize, end: usize) -> u16 {
    let mut h: u32 = 0x811c_9dc5;
    let mut i = start;
    while i < end {
        h ^= bytes[i] as u32;
        h = h.wrapping_mul(0x0100_0193);
        i += 1;
    }
    ((h ^ (h >> 16)) & 1023) as u16
}

fn bit(bytes: &[u8]) -> (usize, u64) {
    split_bit(bit_index(bytes, 0, bytes.len()))
}

fn split_bit(i: u16) -> (usize, u64) {
    (usize::from(i / 64), 1u64 << (i % 64))
}

fn prefix3(b: &[u8]) -> &[u8] {
    &b[..b.len().min(3)]
}

/// What [`Doc::positions`] checks before it searches: the filter bit of a
/// word, or of a prefix's first 3 bytes. Computed once (at compile time
/// for static pattern lists), tested with [`Doc::may_contain`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WordFilter {
    Word(u16),
    Prefix(u16),
    /// A prefix shorter than 3 bytes: the filter cannot rule it out.
    Unfiltered,
}

impl WordFilter {
    /// The filter of `bytes[start..end]` as a whole word, or as a prefix.
    pub const fn of(bytes: &[u8], start: usize, end: usize, prefix: bool) -> Self {
        if !prefix {
            Self::Word(bit_index(bytes, start, end))
        } else if end - start < 3 {
            Self::Unfiltered
        } else {
            Self::Prefix(bit_index(bytes, start, start + 3))
        }
    }
}

impl<'a> Doc<'a> {
    pub fn new(text: &'a str) -> Self {
        let mut t = Tokenizer {
            text,
            tokens: Vec::with_capacity(text.len() / 4 + 4),
            line: 0,
            sentence: 0,
            pending_break: false,
            sentence_has_tokens: false,
        };
        t.run();
        let tokens = t.tokens;
        let sentences = build_sentences(&tokens);
        let lines = text.lines().filter(|l| !l.trim().is_empty()).count();
        let mut index: Vec<u32> = (0..tokens.len() as u32)
            .filter(|&i| tokens[i as usize].is_wordlike())
            .collect();
        index.sort_unstable_by(|&a, &b| tokens[a as usize].norm.cmp(&tokens[b as usize].norm));
        let (mut word_bits, mut prefix_bits) = ([0u64; 16], [0u64; 16]);
        for &i in &index {
            let b = tokens[i as usize].norm.as_bytes();
            let (w, m) = bit(b);
            word_bits[w] |= m;
            let (w, m) = bit(prefix3(b));
            prefix_bits[w] |= m;
        }
        Doc {
            text,
            tokens,
            sentences,
            lines,
            index,
            word_bits,
            prefix_bits,
        }
    }

    /// Word and number tokens.
    pub fn words(&self) -> impl Iterator<Item = &Token<'a>> {
        self.tokens.iter().filter(|t| t.is_wordlike())
    }

    /// Tokens of one kind.
    pub fn of_kind(&self, kind: TokKind) -> impl Iterator<Item = &Token<'a>> {
        self.tokens.iter().filter(move |t| t.kind == kind)
    }

    pub fn word_count(&self) -> usize {
        self.index.len()
    }

    /// Indices of word tokens whose folded form equals `word`, or starts with
    /// it when `prefix` is set. Unordered.
    pub fn positions(&self, word: &str, prefix: bool) -> impl Iterator<Item = usize> + '_ {
        let filter = WordFilter::of(word.as_bytes(), 0, word.len(), prefix);
        let index = if self.may_contain(filter) {
            &self.index[..]
        } else {
            &self.index[..0]
        };
        let norm = |i: &u32| self.tokens[*i as usize].norm.as_ref();
        let lo = index.partition_point(|i| norm(i) < word);
        let rest = &index[lo..];
        let n = if prefix {
            rest.partition_point(|i| norm(i).starts_with(word))
        } else {
            rest.partition_point(|i| norm(i) == word)
        };
        rest[..n].iter().map(|&i| i as usize)
    }

    /// `false` when no word token can pass `filter` (a "yes" may be wrong;
    /// [`Doc::positions`] settles it).
    pub fn may_contain(&self, filter: WordFilter) -> bool {
        let (bits, index) = match filter {
            WordFilter::Word(i) => (&self.word_bits, i),
            WordFilter::Prefix(i) => (&self.prefix_bits, i),
            WordFilter::Unfiltered => return true,
        };
        let (w, m) = split_bit(index);
        bits[w] & m != 0
    }

    /// Number of word tokens equal to an already folded `word`.
    pub fn count_word(&self, word: &str) -> usize {
        self.positions(word, false).count()
    }

    /// Original text covered by tokens `start..end` (token indices).
    pub fn span_text(&self, start: usize, end: usize) -> &'a str {
        if start >= end || end > self.tokens.len() {
            return "";
        }
        &self.text[self.tokens[start].start..self.tokens[end - 1].end()]
    }
}

fn build_sentences(tokens: &[Token<'_>]) -> Vec<Sentence> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let id = tokens[i].sentence;
        let start = i;
        let (mut words, mut q) = (0, false);
        while i < tokens.len() && tokens[i].sentence == id {
            let t = &tokens[i];
            if t.is_wordlike() {
                words += 1;
            }
            if t.kind == TokKind::Punct && (t.raw == "?" || t.raw == "¿") {
                q = true;
            }
            i += 1;
        }
        if words > 0 {
            out.push(Sentence {
                start,
                end: i,
                words,
                is_question: q,
            });
        }
    }
    out
}

struct Tokenizer<'a> {
    text: &'a str,
    tokens: Vec<Token<'a>>,
    line: u32,
    sentence: u32,
    pending_break: bool,
    sentence_has_tokens: bool,
}

impl<'a> Tokenizer<'a> {
    fn run(&mut self) {
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
    fn graphemes(&mut self, start: usize, end: usize) {
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

const TLDS: &[&str] = &[
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

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(TokKind, String)> {
        Doc::new(text)
            .tokens
            .iter()
            .map(|t| (t.kind, t.raw.to_string()))
            .collect()
    }

    #[test]
    fn tlds_sorted() {
        assert!(TLDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn tokenizes_words_tags_links_emoji() {
        let d = Doc::new(
            "¡Hola! Visita https://ejemplo.com/x, #VeranoFeliz @ana 😍 don't 3.5 e-mail :)",
        );
        let k: Vec<TokKind> = d.tokens.iter().map(|t| t.kind).collect();
        use TokKind::*;
        assert_eq!(
            k,
            vec![
                Punct, Word, Punct, Word, Link, Punct, Hashtag, Mention, Emoji, Word, Number, Word,
                Emoticon
            ]
        );
        assert_eq!(d.tokens[4].raw, "https://ejemplo.com/x");
        assert_eq!(d.tokens[6].norm, "veranofeliz");
        assert_eq!(d.tokens[9].raw, "don't");
        assert_eq!(d.tokens[10].raw, "3.5");
    }

    #[test]
    fn folds_accents_for_matching_only() {
        let d = Doc::new("Comenta SÍ si estás aquí");
        let norms: Vec<&str> = d.tokens.iter().map(|t| t.norm.as_ref()).collect();
        assert_eq!(norms, vec!["comenta", "si", "si", "estas", "aqui"]);
        assert_eq!(d.tokens[1].raw, "SÍ");
        assert!(d.tokens[1].is_all_caps());
    }

    #[test]
    fn sentences_and_lines() {
        let d = Doc::new("First one. Second one! Third?\nFourth line without stop\n\n#tag");
        assert_eq!(d.sentences.len(), 4);
        assert!(d.sentences[2].is_question);
        assert_eq!(d.lines, 3);
        let d = Doc::new("Price is 3.50 today. Ok");
        assert_eq!(d.sentences.len(), 2);
    }

    #[test]
    fn bare_domains_and_not_abbreviations() {
        assert!(
            kinds("see example.com/page.")
                .iter()
                .any(|(k, r)| *k == TokKind::Link && r == "example.com/page")
        );
        assert!(
            kinds("e.g. this etc. U.S.A.")
                .iter()
                .all(|(k, _)| *k != TokKind::Link)
        );
        assert!(
            kinds("mail me at ana@example.com")
                .iter()
                .all(|(k, _)| *k != TokKind::Link)
        );
    }

    #[test]
    fn emoji_glued_to_words_split() {
        let k = kinds("great😍news👨‍👩‍👧");
        assert_eq!(
            k,
            vec![
                (TokKind::Word, "great".into()),
                (TokKind::Emoji, "😍".into()),
                (TokKind::Word, "news".into()),
                (TokKind::Emoji, "👨‍👩‍👧".into())
            ]
        );
    }

    #[test]
    fn positions_lookup() {
        let d = Doc::new("tag a friend, tag your friends, tagline");
        assert_eq!(d.positions("tag", false).count(), 2);
        assert_eq!(d.positions("tag", true).count(), 3);
        assert_eq!(d.positions("friend", true).count(), 2);
        assert_eq!(d.count_word("zzz"), 0);
    }
}
