//! Emoji: grapheme-aware detection and counting (a family `👨‍👩‍👧`, a flag
//! `🇪🇸`, a keycap `1️⃣` or a skin-toned `👍🏽` is *one* emoji), and the emoji
//! signal (sweet spot 1–3 per short post).
//!
//! Detection uses `unicode-segmentation` for grapheme clusters and the
//! Unicode `Emoji` property of the cluster's first code point, from
//! `unicode-properties` (a table of code-point ranges, about 4 KB in a
//! component), with a code-point fallback for pictographs. Until December
//! 2026 it looked every cluster up in the `emojis` crate's table of named
//! emoji sequences (about 130 KB in every component that scores text); the
//! test `the_property_rule_answers_as_the_emoji_table_did` checks the rule
//! against that table over every code point and every emoji sequence it
//! lists, so the scores did not move.

use crate::scoring::Signal;
use crate::{Language, round3};
use unicode_properties::UnicodeEmoji;
use unicode_segmentation::UnicodeSegmentation;

/// Is this grapheme cluster an emoji?
///
/// Symbols that default to *text* presentation (`©`, `®`, `™`, `‼`, arrows…)
/// only count when followed by the emoji variation selector U+FE0F; digits,
/// `#` and `*` only as keycaps. A cluster that asks for text presentation
/// (U+FE0E) is not an emoji unless it holds a pictograph.
pub fn is_emoji(grapheme: &str) -> bool {
    let mut chars = grapheme.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let single = chars.next().is_none();
    if single && (first as u32) < 0x2300 {
        // ASCII, Latin, punctuation, letterlike symbols and arrows.
        return false;
    }
    if first.is_ascii() {
        // "#", "*", digits are emoji only as keycaps.
        return matches!(first, '0'..='9' | '#' | '*') && grapheme.contains('\u{20E3}');
    }
    if first.is_emoji_char() && !grapheme.chars().any(outside_emoji_presentation) {
        return true;
    }
    // Pictographic code points (also emoji newer than the property table).
    if single {
        return matches!(first as u32, 0x1F000..=0x1FAFF);
    }
    grapheme
        .chars()
        .any(|c| matches!(c as u32, 0x1F000..=0x1FAFF | 0x2600..=0x27BF))
}

/// A code point that makes a cluster other than an emoji presentation of
/// its first code point: the text selector, a keycap mark on a non-keycap,
/// or tag characters (which only make sense after a flag).
fn outside_emoji_presentation(c: char) -> bool {
    matches!(c, '\u{FE0E}' | '\u{20E3}' | '\u{E0020}'..='\u{E007F}')
}

/// Number of emoji in `text`.
pub fn count(text: &str) -> usize {
    text.graphemes(true).filter(|g| is_emoji(g)).count()
}

/// The emoji in `text`, in order (each a whole grapheme cluster).
pub fn list(text: &str) -> Vec<&str> {
    text.graphemes(true).filter(|g| is_emoji(g)).collect()
}

/// How many emoji fit a post of `chars` characters before it looks
/// cluttered: 3 for a short post, one more per 200 chars after that.
pub fn sweet_spot_max(chars: usize) -> usize {
    3 + chars / 200
}

/// 0..=1: none 0.6, 1..=sweet spot 1.0, then decreasing.
pub fn score(count: usize, chars: usize) -> f64 {
    let max = sweet_spot_max(chars);
    if count == 0 {
        0.6
    } else if count <= max {
        1.0
    } else {
        let over = (count - max) as f64;
        (1.0 - 0.12 * over).max(0.1)
    }
}

pub fn signal(count: usize, chars: usize, lang: Language) -> Signal {
    let s = score(count, chars);
    let max = sweet_spot_max(chars);
    let detail = if count == 0 {
        tr!(
            lang,
            "No emoji. One to three relevant emoji make a post more expressive and easier to scan.",
            "Sin emojis. De uno a tres emojis relevantes hacen la publicación más expresiva y fácil de leer."
        )
    } else if count <= max {
        let plural = if count == 1 { "" } else { "s" };
        tr!(
            lang,
            "{count} emoji: within the sweet spot (1–{max}).",
            "{count} emoji{plural}: dentro del punto óptimo (1–{max})."
        )
    } else {
        tr!(
            lang,
            "{count} emoji: more than the {max} that fit this length; it reads as cluttered.",
            "{count} emojis: más de los {max} que admite esta longitud; se ve recargado."
        )
    };
    Signal::new("emoji", round3(s), detail)
}

pub fn suggestion(count: usize, chars: usize, lang: Language) -> Option<String> {
    let max = sweet_spot_max(chars);
    if count == 0 {
        Some(tr!(
            lang,
            "Add one or two emoji that fit the message (e.g. 🎉 for news, 👇 before a question) to catch the eye in the feed.",
            "Añade uno o dos emojis que encajen con el mensaje (p. ej. 🎉 para una novedad, 👇 antes de una pregunta) para llamar la atención en el feed."
        ))
    } else if count > max {
        Some(tr!(
            lang,
            "Cut the emoji down to {max} or fewer ({count} now) and keep only those that add meaning.",
            "Reduce los emojis a {max} o menos (ahora hay {count}) y deja solo los que aportan significado."
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zwj_sequences_skin_tones_flags_and_keycaps_are_one_emoji() {
        assert_eq!(count("👨‍👩‍👧"), 1);
        assert_eq!(count("👍🏽"), 1);
        assert_eq!(count("🧑🏽‍💻"), 1);
        assert_eq!(count("🇪🇸🇺🇸"), 2);
        assert_eq!(count("1️⃣ first"), 1);
        assert_eq!(count("❤️ and ❤"), 2);
        assert_eq!(count("Family time 👨‍👩‍👧 with 👍🏽!"), 2);
        assert_eq!(list("a😀b🎉"), vec!["😀", "🎉"]);
    }

    #[test]
    fn text_symbols_are_not_emoji() {
        assert_eq!(count("© 2024 ACME™ #1 * 100% → ok"), 0);
        assert_eq!(count("plain text, ¿sí? ¡no!"), 0);
        assert_eq!(count("ñandú café"), 0);
    }

    /// The rule before December 2026: the `emojis` crate's table.
    fn by_the_table(grapheme: &str) -> bool {
        let mut chars = grapheme.chars();
        let Some(first) = chars.next() else {
            return false;
        };
        let single = chars.next().is_none();
        if single && (first as u32) < 0x2300 {
            return false;
        }
        if first.is_ascii() && !grapheme.contains('\u{20E3}') {
            return false;
        }
        if emojis::get(grapheme).is_some() {
            return true;
        }
        if single {
            return matches!(first as u32, 0x1F000..=0x1FAFF);
        }
        grapheme
            .chars()
            .any(|c| matches!(c as u32, 0x1F000..=0x1FAFF | 0x2600..=0x27BF))
    }

    #[test]
    fn the_property_rule_answers_as_the_emoji_table_did() {
        let mut differ = Vec::new();
        let mut check = |cluster: &str| {
            if is_emoji(cluster) != by_the_table(cluster) && differ.len() < 20 {
                differ.push(cluster.to_string());
            }
        };
        // Every code point alone, with each presentation selector and with
        // the marks an emoji sequence continues with.
        const TAILS: [&str; 9] = [
            "",
            "\u{FE0F}",
            "\u{FE0E}",
            "\u{1F3FB}",
            "\u{200D}\u{2640}\u{FE0F}",
            "\u{20E3}",
            "\u{FE0F}\u{20E3}",
            "\u{200D}\u{1F525}",
            "\u{E0067}\u{E007F}",
        ];
        for c in (0..0x11_0000).filter_map(char::from_u32) {
            for tail in TAILS {
                check(&format!("{c}{tail}"));
            }
        }
        // Every sequence the table lists, as written, without its selectors,
        // and in every skin tone.
        let mut sequences = 0;
        for emoji in emojis::iter() {
            let bare: String = emoji
                .as_str()
                .chars()
                .filter(|&c| c != '\u{FE0F}')
                .collect();
            check(emoji.as_str());
            check(&bare);
            for toned in emoji.skin_tones().into_iter().flatten() {
                check(toned.as_str());
            }
            sequences += 1;
        }
        assert!(sequences > 1800, "{sequences}");
        assert!(differ.is_empty(), "{differ:?}");
    }

    #[test]
    fn score_has_a_sweet_spot() {
        assert!(score(0, 100) < score(2, 100));
        assert_eq!(score(3, 100), 1.0);
        assert!(score(8, 100) < score(3, 100));
        assert!(score(20, 100) <= 0.1 + 1e-9);
        // Longer posts tolerate a few more.
        assert_eq!(score(5, 500), 1.0);
    }
}
