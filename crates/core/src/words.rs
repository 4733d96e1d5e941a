//! Sorted word lists turned, at compile time, into integer keys: the lookups
//! every tokenised word goes through (stop words, boosters, cue words, date
//! and place words) compare one `u128` per probe instead of calling
//! `memcmp`, and nothing is initialised at run time (each request may run in
//! a fresh Wasm instance).
//!
//! A word of at most [`MAX_WORD_BYTES`] bytes packs big-endian into a
//! `u128`, zero-padded: since words contain no NUL byte, the keys sort
//! exactly as the words do, so a byte-sorted list stays a sorted key array
//! and a binary search over the keys finds what one over the words would.
//! A longer query cannot be in a list (lists are checked at compile time to
//! hold only packable words) and is answered "no" without a search.
//!
//! Build a set with [`word_set!`](crate::word_set!) and a map with [`word_map!`](crate::word_map!) from a
//! `const` list; both fail to compile if the list is not sorted or holds a
//! word that does not pack.

/// Longest word a key holds.
pub const MAX_WORD_BYTES: usize = 16;

/// The key of `word`, or `None` if it is longer than [`MAX_WORD_BYTES`].
pub const fn pack(word: &str) -> Option<u128> {
    let bytes = word.as_bytes();
    if bytes.len() > MAX_WORD_BYTES {
        return None;
    }
    let mut key = 0u128;
    let mut i = 0;
    while i < bytes.len() {
        key |= (bytes[i] as u128) << (8 * (MAX_WORD_BYTES - 1 - i));
        i += 1;
    }
    Some(key)
}

/// The keys of `words`, in order. Panics (a compile error when evaluated
/// in a `const`) if a word does not pack, if the list is not sorted (or,
/// with `strict`, holds a word twice), or if `N` is not its length.
pub const fn pack_sorted<const N: usize>(words: &[&str], strict: bool) -> [u128; N] {
    assert!(words.len() == N, "N must be the length of the list");
    let mut keys = [0u128; N];
    let mut i = 0;
    while i < N {
        keys[i] = match pack(words[i]) {
            Some(key) => key,
            None => panic!("a listed word is longer than MAX_WORD_BYTES"),
        };
        if i > 0 {
            assert!(keys[i - 1] <= keys[i], "the list is not byte-sorted");
            assert!(!strict || keys[i - 1] < keys[i], "a word is listed twice");
        }
        i += 1;
    }
    keys
}

/// A set of words (see the module doc); build it with [`word_set!`](crate::word_set!).
#[derive(Debug, Clone, Copy)]
pub struct WordSet {
    keys: &'static [u128],
}

impl WordSet {
    pub const fn from_keys(keys: &'static [u128]) -> Self {
        Self { keys }
    }

    pub fn contains(&self, word: &str) -> bool {
        pack(word).is_some_and(|key| self.contains_key(key))
    }

    /// Membership of an already packed word (pack once, look up in several sets).
    pub fn contains_key(&self, key: u128) -> bool {
        self.keys.binary_search(&key).is_ok()
    }
}

/// Words with a value each, a word possibly listed more than once; build it
/// with [`word_map!`](crate::word_map!).
#[derive(Debug, Clone, Copy)]
pub struct WordMap<V: 'static> {
    keys: &'static [u128],
    values: &'static [(&'static str, V)],
}

impl<V> WordMap<V> {
    pub const fn from_parts(keys: &'static [u128], values: &'static [(&'static str, V)]) -> Self {
        Self { keys, values }
    }

    /// The values listed for `word`, in list order (empty if none).
    pub fn get_all(&self, word: &str) -> impl Iterator<Item = &'static V> + use<V> {
        let range = match pack(word) {
            Some(key) => {
                let lo = self.keys.partition_point(|k| *k < key);
                lo..lo + self.keys[lo..].partition_point(|k| *k == key)
            }
            None => 0..0,
        };
        self.values[range].iter().map(|(_, value)| value)
    }

    /// The first value listed for `word`.
    pub fn get(&self, word: &str) -> Option<&'static V> {
        self.get_all(word).next()
    }
}

/// Just the words of a `(word, value)` list, for [`pack_sorted`].
pub const fn words_of<V, const N: usize>(list: &[(&'static str, V)]) -> [&'static str; N] {
    assert!(list.len() == N, "N must be the length of the list");
    let mut words = [""; N];
    let mut i = 0;
    while i < N {
        words[i] = list[i].0;
        i += 1;
    }
    words
}

/// `word_set!(LIST)`: a [`WordSet`] of the byte-sorted `const LIST: &[&str]`,
/// packed at compile time (no word twice).
#[macro_export]
macro_rules! word_set {
    ($list:expr) => {
        $crate::words::WordSet::from_keys({
            const KEYS: [u128; $list.len()] = $crate::words::pack_sorted($list, true);
            &KEYS
        })
    };
}

/// `word_map!(LIST)`: a [`WordMap`] of the `const LIST: &[(&str, V)]`,
/// byte-sorted by word, packed at compile time.
#[macro_export]
macro_rules! word_map {
    ($list:expr) => {
        $crate::words::WordMap::from_parts(
            {
                const KEYS: [u128; $list.len()] = $crate::words::pack_sorted(
                    &$crate::words::words_of::<_, { $list.len() }>($list),
                    false,
                );
                &KEYS
            },
            $list,
        )
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRUIT: &[&str] = &["apple", "apples", "banana", "kiwi", "ñame"];
    const FRUIT_SET: WordSet = word_set!(FRUIT);
    const TAGGED: &[(&str, u8)] = &[("a", 1), ("b", 2), ("b", 3), ("c", 4)];
    const TAGGED_MAP: WordMap<u8> = word_map!(TAGGED);

    #[test]
    fn keys_sort_as_the_words_do() {
        let words = ["", "a", "a\u{1}", "ab", "abc", "b", "z", "ña", "ñb", "🙂"];
        for pair in words.windows(2) {
            assert!(pack(pair[0]) < pack(pair[1]), "{pair:?}");
        }
    }

    #[test]
    fn a_set_finds_exactly_its_words() {
        for word in FRUIT {
            assert!(FRUIT_SET.contains(word), "{word}");
        }
        for word in ["", "appl", "applesauce", "kiwis", "Apple", "name", "ñ"] {
            assert!(!FRUIT_SET.contains(word), "{word}");
        }
    }

    #[test]
    fn words_longer_than_a_key_are_never_members() {
        assert!(pack("sixteen-bytes-ok").is_some());
        assert_eq!(pack("seventeen-bytes-x"), None);
        assert!(!FRUIT_SET.contains("apples-and-bananas"));
    }

    #[test]
    fn a_map_returns_every_value_of_a_word_in_list_order() {
        assert_eq!(TAGGED_MAP.get_all("b").copied().collect::<Vec<_>>(), [2, 3]);
        assert_eq!(TAGGED_MAP.get("a"), Some(&1));
        assert_eq!(TAGGED_MAP.get("c"), Some(&4));
        assert_eq!(TAGGED_MAP.get("d"), None);
        assert_eq!(TAGGED_MAP.get(""), None);
    }

    #[test]
    #[should_panic(expected = "not byte-sorted")]
    fn an_unsorted_list_is_refused() {
        pack_sorted::<2>(&["b", "a"], true);
    }

    #[test]
    #[should_panic(expected = "listed twice")]
    fn a_set_refuses_a_word_listed_twice() {
        pack_sorted::<2>(&["a", "a"], true);
    }
}
