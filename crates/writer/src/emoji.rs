//! Emoji choice: a few per tone (mostly the ones core's tone detector reads
//! as that tone) and a topic emoji when a topic or keyword word matches the
//! table below (folded prefix match, Spanish and English).

use crate::text::fold;
use fbposts_core::Tone;

/// Emoji per tone.
pub fn for_tone(tone: Tone) -> &'static [&'static str] {
    match tone {
        Tone::Friendly => &["😊", "🤗", "💛", "👋"],
        Tone::Professional => &["📈", "✅", "💼", "📊"],
        Tone::Playful => &["🎉", "😄", "🥳", "😜"],
        Tone::Inspirational => &["✨", "🌟", "💪", "🚀"],
        Tone::Urgent => &["⏰", "🚨", "⏳", "❗"],
        Tone::Informative => &["💡", "📌", "📚", "🔎"],
    }
}

/// (folded word prefix, emoji), sorted by prefix.
const TOPIC_EMOJI: &[(&str, &str)] = &[
    ("app", "📱"),
    ("arte", "🎨"),
    ("art", "🎨"),
    ("baby", "👶"),
    ("bebe", "👶"),
    ("beach", "🏖️"),
    ("beer", "🍺"),
    ("bici", "🚲"),
    ("bike", "🚲"),
    ("book", "📚"),
    ("bread", "🥖"),
    ("cafe", "☕"),
    ("cake", "🎂"),
    ("casa", "🏠"),
    ("cat", "🐱"),
    ("cerveza", "🍺"),
    ("christmas", "🎄"),
    ("coche", "🚗"),
    ("cocina", "🍳"),
    ("coffee", "☕"),
    ("comida", "🍽️"),
    ("cook", "🍳"),
    ("course", "🎓"),
    ("curso", "🎓"),
    ("dinero", "💰"),
    ("dog", "🐶"),
    ("evento", "📅"),
    ("event", "📅"),
    ("fashion", "👗"),
    ("finanz", "💰"),
    ("financ", "💰"),
    ("fitness", "💪"),
    ("flor", "💐"),
    ("flower", "💐"),
    ("food", "🍽️"),
    ("foto", "📷"),
    ("garden", "🌱"),
    ("gato", "🐱"),
    ("gym", "🏋️"),
    ("home", "🏠"),
    ("jardin", "🌱"),
    ("libro", "📚"),
    ("marketing", "📣"),
    ("moda", "👗"),
    ("money", "💰"),
    ("music", "🎵"),
    ("musica", "🎵"),
    ("navidad", "🎄"),
    ("pan", "🥖"),
    ("pastel", "🎂"),
    ("perro", "🐶"),
    ("photo", "📷"),
    ("pizza", "🍕"),
    ("planta", "🌱"),
    ("plant", "🌱"),
    ("playa", "🏖️"),
    ("running", "🏃"),
    ("shop", "🛍️"),
    ("software", "💻"),
    ("sostenib", "♻️"),
    ("summer", "☀️"),
    ("sustainab", "♻️"),
    ("taller", "🎓"),
    ("tech", "💻"),
    ("tecnolog", "💻"),
    ("tienda", "🛍️"),
    ("travel", "✈️"),
    ("verano", "☀️"),
    ("viaje", "✈️"),
    ("vino", "🍷"),
    ("wine", "🍷"),
    ("workshop", "🎓"),
    ("yoga", "🧘"),
];

/// The topic's emoji, if a word of `text` starts with a known prefix
/// (prefixes of 3–4 letters must match the whole word).
pub fn for_topic(text: &str) -> Option<&'static str> {
    let folded = fold(text);
    for word in folded.split(|c: char| !c.is_alphanumeric()) {
        for (prefix, e) in TOPIC_EMOJI {
            let whole = prefix.len() <= 4;
            if (whole && word == *prefix) || (!whole && word.starts_with(prefix)) {
                return Some(e);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_emoji() {
        assert_eq!(for_topic("Café de especialidad"), Some("☕"));
        assert_eq!(for_topic("yoga for beginners"), Some("🧘"));
        assert_eq!(for_topic("Pan de masa madre"), Some("🥖"));
        assert_eq!(for_topic("panorama fiscal"), None);
        assert_eq!(for_topic("nuestra tienda online"), Some("🛍️"));
        for t in Tone::ALL {
            for e in for_tone(t) {
                assert!(fbposts_core::emoji::count(e) == 1, "{e}");
            }
        }
        for (_, e) in TOPIC_EMOJI {
            assert!(fbposts_core::emoji::count(e) == 1, "{e}");
        }
    }
}
