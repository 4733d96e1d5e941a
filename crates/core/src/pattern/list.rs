//! Pattern lists compiled at build time: each pattern with its
//! [`FirstPart`], the document-filter bits of the words it can start with,
//! computed by `const fn` so that no list is prepared at run time (a
//! request may run in a fresh Wasm instance).

use crate::text::{Doc, WordFilter};

/// Most alternatives (`a|b|c`) in a first part that get a filter each; a
/// first part with more is not prefiltered.
pub const MAX_FILTERED_ALTERNATIVES: usize = 8;

/// What a pattern's first part lets a document rule out up front.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstPart {
    /// Literal alternatives: the pattern can start only where one of them
    /// passes its filter.
    Words {
        count: u8,
        filters: [WordFilter; MAX_FILTERED_ALTERNATIVES],
    },
    /// A wildcard, an emoji, a number or `=` (or too many alternatives):
    /// no prefilter.
    Any,
}

impl FirstPart {
    /// The first part of `pattern` (after a leading `^`).
    pub const fn of(pattern: &str) -> Self {
        let bytes = pattern.as_bytes();
        let mut start = 0;
        if !bytes.is_empty() && bytes[0] == b'^' && (bytes.len() == 1 || bytes[1] == b' ') {
            start = if bytes.len() == 1 { 1 } else { 2 };
        }
        let mut end = start;
        while end < bytes.len() && bytes[end] != b' ' {
            end += 1;
        }
        if end == start || is_symbol(bytes, start, end) {
            return Self::Any;
        }
        let mut filters = [WordFilter::Unfiltered; MAX_FILTERED_ALTERNATIVES];
        let mut count = 0;
        let mut alt = start;
        while alt <= end {
            let mut alt_end = alt;
            while alt_end < end && bytes[alt_end] != b'|' {
                alt_end += 1;
            }
            if count == MAX_FILTERED_ALTERNATIVES {
                return Self::Any;
            }
            let prefix = alt_end > alt && bytes[alt_end - 1] == b'*';
            let word_end = if prefix { alt_end - 1 } else { alt_end };
            filters[count] = WordFilter::of(bytes, alt, word_end, prefix);
            count += 1;
            alt = alt_end + 1;
        }
        Self::Words {
            count: count as u8,
            filters,
        }
    }

    /// `false` when the pattern cannot start anywhere in `doc`.
    pub(super) fn may_start_in(&self, doc: &Doc<'_>) -> bool {
        match self {
            Self::Words { count, filters } => filters[..usize::from(*count)]
                .iter()
                .any(|filter| doc.may_contain(*filter)),
            Self::Any => true,
        }
    }
}

/// Is `bytes[start..end]` one of the non-word parts (`*`, `~`, `<e>`, `<n>`, `=`)?
const fn is_symbol(bytes: &[u8], start: usize, end: usize) -> bool {
    match end - start {
        1 => matches!(bytes[start], b'*' | b'~' | b'='),
        3 => bytes[start] == b'<' && bytes[start + 2] == b'>',
        _ => false,
    }
}

/// Tagged patterns with their [`FirstPart`]s, built with
/// [`patterns!`](crate::patterns) (tests also build ad hoc ones).
#[derive(Debug, Clone, Copy)]
pub struct PatternList<'a, T> {
    patterns: &'a [(T, &'static str)],
    first: &'a [FirstPart],
}

impl<'a, T> PatternList<'a, T> {
    /// `first[i]` must be `FirstPart::of(patterns[i].1)`.
    pub const fn from_parts(patterns: &'a [(T, &'static str)], first: &'a [FirstPart]) -> Self {
        assert!(patterns.len() == first.len(), "one first part per pattern");
        Self { patterns, first }
    }

    /// A list built at run time (tests): `first` is filled with the first parts.
    #[cfg(test)]
    pub(crate) fn new(patterns: &'a [(T, &'static str)], first: &'a mut Vec<FirstPart>) -> Self {
        first.clear();
        first.extend(patterns.iter().map(|(_, p)| FirstPart::of(p)));
        Self { patterns, first }
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = (&T, &'static str, &FirstPart)> + '_ {
        self.patterns
            .iter()
            .zip(self.first)
            .map(|((tag, pattern), first)| (tag, *pattern, first))
    }
}

/// The first parts of `patterns`, in order (for [`patterns!`](crate::patterns)).
pub const fn first_parts<const N: usize>(patterns: &[&str]) -> [FirstPart; N] {
    assert!(patterns.len() == N, "N must be the length of the list");
    let mut first = [FirstPart::Any; N];
    let mut i = 0;
    while i < N {
        first[i] = FirstPart::of(patterns[i]);
        i += 1;
    }
    first
}

/// The patterns of a tagged list (for [`patterns!`](crate::patterns)).
pub const fn sources<T, const N: usize>(tagged: &[(T, &'static str)]) -> [&'static str; N] {
    assert!(tagged.len() == N, "N must be the length of the list");
    let mut out = [""; N];
    let mut i = 0;
    while i < N {
        out[i] = tagged[i].1;
        i += 1;
    }
    out
}

/// An untagged list, tagged `()` (for [`patterns!`](crate::patterns)).
pub const fn untagged<const N: usize>(patterns: &[&'static str]) -> [((), &'static str); N] {
    assert!(patterns.len() == N, "N must be the length of the list");
    let mut out = [((), ""); N];
    let mut i = 0;
    while i < N {
        out[i] = ((), patterns[i]);
        i += 1;
    }
    out
}

/// `patterns!(LIST)`: the [`PatternList`] of a `const LIST: &[(T, &str)]`;
/// `patterns!(untagged LIST)` for a `const LIST: &[&str]` (tags `()`).
/// First parts are computed at compile time.
#[macro_export]
macro_rules! patterns {
    (untagged $list:expr) => {
        $crate::pattern::PatternList::from_parts(
            {
                const TAGGED: [((), &str); $list.len()] = $crate::pattern::untagged($list);
                &TAGGED
            },
            {
                const FIRST: [$crate::pattern::FirstPart; $list.len()] =
                    $crate::pattern::first_parts($list);
                &FIRST
            },
        )
    };
    ($list:expr) => {
        $crate::pattern::PatternList::from_parts($list, {
            const FIRST: [$crate::pattern::FirstPart; $list.len()] = $crate::pattern::first_parts(
                &$crate::pattern::sources::<_, { $list.len() }>($list),
            );
            &FIRST
        })
    };
}
