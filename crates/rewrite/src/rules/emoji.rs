//! Rule `emoji`: emoji density. Too many → repeated runs (`🔥🔥🔥`) become
//! one, then the extras beyond the sweet spot are dropped from the end
//! (keycaps such as `1️⃣` are numbering, never dropped). None → one emoji
//! that fits the post's words (☕ for coffee, 🍕 for pizza…) or its tone,
//! at the end of the first sentence — unless the tone is professional.

use super::{Candidate, Ctx};
use crate::text::{sentences, tidy};
use fbposts_core::Tone;
use fbposts_core::emoji::sweet_spot_max;
use fbposts_core::text::{Doc, TokKind};

pub const RULE: &str = "emoji";

/// (folded word prefix, emoji).
const TOPICS: &[(&str, &str)] = &[
    ("cafe", "☕"),
    ("coffee", "☕"),
    ("pizza", "🍕"),
    ("pan", "🍞"),
    ("bread", "🍞"),
    ("bak", "🥐"),
    ("libro", "📚"),
    ("book", "📚"),
    ("lectur", "📚"),
    ("read", "📚"),
    ("viaj", "✈️"),
    ("travel", "✈️"),
    ("playa", "🏖️"),
    ("beach", "🏖️"),
    ("music", "🎵"),
    ("concierto", "🎵"),
    ("concert", "🎵"),
    ("perro", "🐶"),
    ("dog", "🐶"),
    ("gato", "🐱"),
    ("cat", "🐱"),
    ("flor", "🌸"),
    ("flower", "🌸"),
    ("fiesta", "🎉"),
    ("festival", "🎉"),
    ("party", "🎉"),
    ("cumple", "🎂"),
    ("birthday", "🎂"),
    ("oferta", "🏷️"),
    ("descuento", "🏷️"),
    ("discount", "🏷️"),
    ("sale", "🏷️"),
    ("receta", "🍳"),
    ("recipe", "🍳"),
    ("cocina", "🍳"),
    ("gym", "💪"),
    ("entren", "💪"),
    ("train", "💪"),
    ("planta", "🌱"),
    ("plant", "🌱"),
    ("jardin", "🌱"),
    ("garden", "🌱"),
    ("vino", "🍷"),
    ("wine", "🍷"),
    ("helado", "🍦"),
    ("chocolate", "🍫"),
    ("navidad", "🎄"),
    ("christmas", "🎄"),
    ("taller", "🛠️"),
    ("workshop", "🛠️"),
    ("curso", "🎓"),
    ("course", "🎓"),
    ("escuela", "🏫"),
    ("school", "🏫"),
];

fn tone_emoji(t: Tone) -> Option<&'static str> {
    match t {
        Tone::Friendly => Some("😊"),
        Tone::Playful => Some("😄"),
        Tone::Inspirational => Some("✨"),
        Tone::Urgent => Some("⏰"),
        Tone::Informative => Some("💡"),
        Tone::Professional => None,
    }
}

fn fitting(ctx: &Ctx<'_>, doc: &Doc<'_>) -> Option<&'static str> {
    let tone = ctx.tone();
    if tone == Tone::Professional {
        return None;
    }
    doc.words()
        .find_map(|w| {
            TOPICS
                .iter()
                .find(|(p, _)| {
                    w.norm.len() >= p.len() && w.norm.starts_with(p) && w.norm.len() <= p.len() + 6
                })
                .map(|(_, e)| *e)
        })
        .or_else(|| tone_emoji(tone))
}

fn add_one(ctx: &Ctx<'_>, text: &str) -> Option<String> {
    let doc = Doc::new(text);
    let emoji = fitting(ctx, &doc)?;
    let first = sentences(text).into_iter().next()?;
    let sentence = &text[first.start..first.end];
    let last_tok = doc.tokens.iter().rev().find(|t| t.end() <= first.end)?;
    if matches!(
        last_tok.kind,
        TokKind::Link | TokKind::Hashtag | TokKind::Mention
    ) || sentence.chars().count() < 3
    {
        return None;
    }
    Some(format!(
        "{} {emoji}{}",
        &text[..first.end],
        &text[first.end..]
    ))
}

fn trim(text: &str, max: usize) -> Option<String> {
    let doc = Doc::new(text);
    let emoji: Vec<_> = doc
        .of_kind(TokKind::Emoji)
        .filter(|t| !t.raw.contains('\u{20E3}'))
        .collect();
    let mut drop = vec![false; emoji.len()];
    // Repeats glued to the same emoji.
    for i in 1..emoji.len() {
        if emoji[i].raw == emoji[i - 1].raw && emoji[i].start == emoji[i - 1].end() {
            drop[i] = true;
        }
    }
    let mut left = drop.iter().filter(|d| !**d).count();
    for i in (0..emoji.len()).rev() {
        if left <= max {
            break;
        }
        if !drop[i] {
            drop[i] = true;
            left -= 1;
        }
    }
    if !drop.iter().any(|d| *d) {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (t, d) in emoji.iter().zip(&drop) {
        if *d {
            out.push_str(&text[last..t.start]);
            last = t.end();
        }
    }
    out.push_str(&text[last..]);
    Some(tidy(&out))
}

pub fn candidates(ctx: &Ctx<'_>, text: &str) -> Vec<Candidate> {
    let f = &ctx.analysis.features;
    let max = sweet_spot_max(f.text_chars);
    let new = if f.emoji_count == 0 {
        add_one(ctx, text)
    } else if f.emoji_count > max {
        trim(text, max)
    } else {
        None
    };
    new.map(|t| Candidate::new(RULE, t)).into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_repeats_then_extras() {
        assert_eq!(
            trim("Hoy 🔥🔥🔥 café ☕ y pan 🍞 y 🎉 y 😍 fin", 3).as_deref(),
            Some("Hoy 🔥 café ☕ y pan 🍞 y y fin")
        );
    }
}
