//! Static sentiment lexicons, generated at build time by `build.rs` from
//! `data/` (see `data/NOTICE.md` for sources and licences):
//!
//! * [`EN`]: VADER's English lexicon (~7,500 words and emoticons),
//! * [`ES`]: a Spanish translation of VADER (valences copied from the VADER
//!   entry each Spanish form translates, plus a few explicit slang values),
//! * [`EMOJI`]: emoji valences, VADER-style (sum of the description words).
//!
//! Keys are folded (see [`crate::fold`]); values are VADER valences
//! (-4.0 ..= 4.0). Lookup is a binary search over sorted static arrays:
//! nothing is built at run time.

/// A sorted, static word → valence table.
#[derive(Debug)]
pub struct Lexicon {
    /// All keys concatenated, in byte order.
    pub keys: &'static str,
    /// `offsets[i]..offsets[i + 1]` is key `i` (length `len() + 1`).
    pub offsets: &'static [u32],
    /// Valence of key `i`, in tenths.
    pub values: &'static [i8],
    /// `buckets[b]..buckets[b + 1]`: the keys starting with byte `b`.
    pub buckets: &'static [u32],
}

impl Lexicon {
    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Key `i` (panics when out of range).
    pub fn key(&self, i: usize) -> &'static str {
        &self.keys[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }

    /// Valence of an already folded word.
    pub fn get(&self, folded: &str) -> Option<f32> {
        let b = usize::from(*folded.as_bytes().first()?);
        let (mut lo, mut hi) = (self.buckets[b] as usize, self.buckets[b + 1] as usize);
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.key(mid).cmp(folded) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(f32::from(self.values[mid]) / 10.0),
            }
        }
        None
    }
}

include!(concat!(env!("OUT_DIR"), "/lexicons.rs"));

/// Valence of one emoji grapheme (skin tones and variation selectors are
/// ignored), or `None` when it carries no sentiment in VADER.
pub fn emoji_valence(grapheme: &str) -> Option<f32> {
    let mut buf = [0u8; 64];
    let mut len = 0;
    for c in grapheme.chars() {
        if matches!(c as u32, 0xFE0E | 0xFE0F | 0x1F3FB..=0x1F3FF) {
            continue;
        }
        let n = c.len_utf8();
        if len + n > buf.len() {
            return None;
        }
        c.encode_utf8(&mut buf[len..len + n]);
        len += n;
    }
    let key = std::str::from_utf8(&buf[..len]).ok()?;
    EMOJI.get(key)
}

/// Lexicon for a language.
pub fn for_language(lang: crate::Language) -> &'static Lexicon {
    match lang {
        crate::Language::En => &EN,
        crate::Language::Es => &ES,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_and_populated() {
        for lex in [&EN, &ES, &EMOJI] {
            assert!(lex.len() > 100);
            assert_eq!(lex.buckets.len(), 257);
            assert_eq!(lex.buckets[256] as usize, lex.len());
            for i in 1..lex.len() {
                assert!(lex.key(i - 1) < lex.key(i), "unsorted at {}", lex.key(i));
            }
        }
        assert!(EN.len() > 7000);
        assert!(ES.len() > 1000, "Spanish lexicon has {} forms", ES.len());
    }

    #[test]
    fn known_valences() {
        assert_eq!(EN.get("good"), Some(1.9));
        assert_eq!(EN.get("hate"), Some(-2.7));
        assert_eq!(EN.get(":)"), Some(2.0));
        assert!(EN.get("zzzz-not-a-word").is_none());
        // Spanish forms take the valence of their VADER translation.
        assert_eq!(ES.get("bueno"), EN.get("good"));
        assert_eq!(ES.get("buenas"), EN.get("good"));
        assert_eq!(ES.get("pesimo"), EN.get("terrible")); // "pésimo", folded
        assert!(ES.get("odio").unwrap() < 0.0);
        assert!(ES.get("encanta").unwrap() > 2.0);
        // Spanish "si" (if) must not pick up the valence of "sí" (yes).
        assert!(ES.get("si").is_none());
    }

    #[test]
    fn emoji_valences() {
        assert!(emoji_valence("😍").unwrap() > 0.0);
        assert!(emoji_valence("😡").unwrap() < 0.0);
        assert!(emoji_valence("👍🏽").unwrap() > 0.0, "skin tone ignored");
        assert!(emoji_valence("❤").is_some() && emoji_valence("❤️").is_some());
    }
}
