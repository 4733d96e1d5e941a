//! Language detection restricted to Spanish/English, and the per-language
//! stop-word lists (also used by the repetition signal).
//!
//! Method: function words are counted first (cheap, and reliable as soon as
//! a post has a handful of words); only when they do not settle it is
//! `whatlang` asked, restricted to Spanish and English with
//! `Detector::with_allowlist`. Last resorts: Spanish-only characters
//! (`ñ ¿ ¡` and accented vowels), then English.

use crate::Language;
use crate::fold::fold_char;
use crate::text::Doc;
use crate::words::WordSet;

/// Spanish function words (folded, sorted).
pub const STOP_ES: &[&str] = &[
    "a", "al", "algo", "algun", "alguna", "algunos", "ante", "antes", "aqui", "asi", "aun", "bien",
    "cada", "como", "con", "contra", "cual", "cuando", "de", "del", "desde", "donde", "durante",
    "e", "el", "ella", "ellas", "ellos", "en", "entre", "era", "es", "esa", "esas", "ese", "eso",
    "esos", "esta", "estamos", "estan", "estas", "este", "esto", "estos", "estoy", "fue", "fueron",
    "gracias", "ha", "hace", "hacia", "han", "has", "hasta", "hay", "he", "hola", "hoy", "la",
    "las", "le", "les", "lo", "los", "mas", "me", "mi", "mis", "mucho", "muy", "nada", "ni", "no",
    "nos", "nosotros", "nuestra", "nuestras", "nuestro", "nuestros", "o", "os", "otra", "otro",
    "para", "pero", "poco", "por", "porque", "pues", "que", "quien", "se", "sea", "ser", "si",
    "siempre", "sin", "sobre", "somos", "son", "soy", "su", "sus", "tambien", "tan", "te", "tiene",
    "tienen", "todo", "todos", "tu", "tus", "un", "una", "unas", "uno", "unos", "usted", "ustedes",
    "y", "ya", "yo",
];

/// English function words (folded, sorted).
pub const STOP_EN: &[&str] = &[
    "a", "about", "after", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be",
    "because", "been", "before", "but", "by", "can", "could", "did", "do", "does", "don't", "for",
    "from", "get", "had", "has", "have", "he", "her", "here", "his", "how", "i", "i'm", "if", "in",
    "into", "is", "it", "it's", "its", "just", "let's", "me", "more", "most", "my", "no", "not",
    "now", "of", "on", "one", "only", "or", "our", "out", "over", "she", "so", "some", "than",
    "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "to", "too",
    "up", "us", "very", "was", "we", "we're", "were", "what", "when", "where", "which", "while",
    "who", "why", "will", "with", "would", "you", "you're", "your",
];

/// Longest function word, in bytes (a cheap pre-check).
const MAX_STOPWORD_LEN: usize = 9;

/// Is the folded `word` a function word of `lang`?
pub fn is_stopword(lang: Language, word: &str) -> bool {
    if word.len() > MAX_STOPWORD_LEN {
        return false;
    }
    stopwords(lang).contains(word)
}

const STOP_ES_SET: WordSet = crate::word_set!(STOP_ES);
const STOP_EN_SET: WordSet = crate::word_set!(STOP_EN);

/// The function words of `lang` as a set (see [`crate::words`]).
pub fn stopwords(lang: Language) -> WordSet {
    match lang {
        Language::Es => STOP_ES_SET,
        Language::En => STOP_EN_SET,
    }
}

/// Votes from function words found in only one of the two lists, plus
/// Spanish-only characters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Votes {
    pub es: usize,
    pub en: usize,
}

fn vote_word(v: &mut Votes, folded: &str) {
    let es = is_stopword(Language::Es, folded);
    let en = is_stopword(Language::En, folded);
    if es && !en {
        v.es += 1;
    } else if en && !es {
        v.en += 1;
    }
}

fn spanish_chars(text: &str) -> usize {
    text.chars()
        .filter(|c| matches!(c, 'ñ' | 'Ñ' | '¿' | '¡' | 'á' | 'é' | 'í' | 'ó' | 'ú'))
        .take(3)
        .count()
}

/// Function-word votes for a tokenised post.
pub fn votes_doc(doc: &Doc<'_>) -> Votes {
    let mut v = Votes::default();
    for t in doc.words() {
        if t.stop_es && !t.stop_en {
            v.es += 1;
        } else if t.stop_en && !t.stop_es {
            v.en += 1;
        }
    }
    v.es += spanish_chars(doc.text);
    v
}

/// Function-word votes for raw text.
pub fn votes_text(text: &str) -> Votes {
    let mut v = Votes::default();
    let mut word = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_alphanumeric() || c == '\'' || c == '\u{2019}' {
            word.push(fold_char(c));
        } else if !word.is_empty() {
            vote_word(&mut v, word.trim_matches('\''));
            word.clear();
        }
    }
    v.es += spanish_chars(text);
    v
}

fn decisive(v: Votes) -> Option<Language> {
    if v.es + v.en >= 3 {
        if v.es > 2 * v.en {
            return Some(Language::Es);
        }
        if v.en > 2 * v.es {
            return Some(Language::En);
        }
    }
    None
}

/// whatlang on at most the first 2 KB (enough, and bounded cost).
fn whatlang_guess(text: &str) -> Option<(Language, bool)> {
    let mut end = text.len().min(2048);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let detector =
        whatlang::Detector::with_allowlist(vec![whatlang::Lang::Spa, whatlang::Lang::Eng]);
    let info = detector.detect(&text[..end])?;
    let lang = if info.lang() == whatlang::Lang::Spa {
        Language::Es
    } else {
        Language::En
    };
    Some((lang, info.is_reliable()))
}

fn resolve(text: &str, v: Votes) -> Language {
    if let Some(l) = decisive(v) {
        return l;
    }
    let guess = whatlang_guess(text);
    if let Some((l, reliable)) = guess
        && (reliable || v.es == v.en)
    {
        return l;
    }
    match v.es.cmp(&v.en) {
        std::cmp::Ordering::Greater => Language::Es,
        std::cmp::Ordering::Less => Language::En,
        std::cmp::Ordering::Equal => guess.map_or(Language::En, |(l, _)| l),
    }
}

/// Spanish or English? (See the module docs for the method.)
pub fn detect(text: &str) -> Language {
    resolve(text, votes_text(text))
}

/// [`detect`] for an already tokenised post.
pub fn detect_doc(doc: &Doc<'_>) -> Language {
    resolve(doc.text, votes_doc(doc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_sorted() {
        assert!(STOP_ES.windows(2).all(|w| w[0] < w[1]));
        assert!(STOP_EN.windows(2).all(|w| w[0] < w[1]));
        assert!(
            STOP_ES
                .iter()
                .chain(STOP_EN)
                .all(|w| w.len() <= MAX_STOPWORD_LEN && !w.is_empty())
        );
        for w in STOP_ES.iter().chain(STOP_EN) {
            assert!(is_stopword(Language::Es, w) || is_stopword(Language::En, w));
        }
        assert!(!is_stopword(Language::Es, "cafe") && !is_stopword(Language::En, "coffee"));
    }

    #[test]
    fn short_texts() {
        assert_eq!(detect("Hola"), Language::Es);
        assert_eq!(detect("¿Qué opinas?"), Language::Es);
        assert_eq!(detect("Buenos días a todos"), Language::Es);
        assert_eq!(detect("Good morning"), Language::En);
        assert_eq!(detect("What do you think?"), Language::En);
        assert_eq!(detect("Tag a friend who needs this"), Language::En);
        assert_eq!(detect("Nos vemos mañana"), Language::Es);
        assert_eq!(detect("See you there"), Language::En);
    }

    #[test]
    fn long_texts() {
        let es = "Este fin de semana abrimos nuestra nueva cafetería en el centro de la ciudad. \
                  Queremos que vengas a probar el café de especialidad que tostamos cada mañana, \
                  y que nos cuentes qué te parece. Habrá música en vivo y descuentos para todos.";
        let en = "This weekend we are opening our new coffee shop downtown. We want you to come \
                  and try the specialty coffee we roast every morning, and tell us what you think. \
                  There will be live music and discounts for everyone.";
        assert_eq!(detect(es), Language::Es);
        assert_eq!(detect(en), Language::En);
        assert_eq!(detect_doc(&Doc::new(es)), Language::Es);
        assert_eq!(detect_doc(&Doc::new(en)), Language::En);
    }

    #[test]
    fn emoji_or_symbols_only_defaults_sanely() {
        // No words at all: whatever it returns must be one of the two.
        let l = detect("🎉🎉🎉 !!!");
        assert!(l == Language::En || l == Language::Es);
    }
}
