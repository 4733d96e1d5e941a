//! Tokenisation: turns a post into a [`Doc`], the one-pass representation
//! every signal reads (words, numbers, hashtags, mentions, links, emoji,
//! emoticons and punctuation, each with its sentence and line).
//!
//! Language-independent. Words are folded (lowercase, no accents) for
//! matching, and keep their original slice for output. No regex: a single
//! scan over whitespace-separated chunks and their grapheme clusters.

use std::borrow::Cow;
use tokenizer::Tokenizer;

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

mod tokenizer;

#[cfg(test)]
mod tests;
