//! Readability: rule-based syllable counters (Spanish and English) and the
//! reading-ease indices built on them.
//!
//! * Spanish: Fernández-Huerta (1959), `206.84 − 0.60·P − 1.02·F`, with
//!   `P` = syllables per 100 words. The formula is usually printed with
//!   `F` = "sentences per 100 words", which makes *shorter* sentences score
//!   as *harder*; as pointed out by Gwillim Law (LINGUIST List 22.2332, 2011)
//!   that is a transcription error of Flesch's adaptation, and `F` must be
//!   the average sentence length in words. We use the corrected form.
//! * English: Flesch reading ease (1948),
//!   `206.835 − 1.015·(words/sentence) − 84.6·(syllables/word)`.
//!
//! Both scales read the same way: 90–100 very easy, 60–70 plain language,
//! below 30 very difficult.

use crate::scoring::Signal;
use crate::text::{Doc, TokKind};
use crate::{Language, round3};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum V {
    Strong,
    Weak,
    /// í / ú: a stressed weak vowel always forms a hiatus.
    WeakStressed,
}

fn es_vowel(c: char) -> Option<V> {
    match c {
        'a' | 'e' | 'o' | 'á' | 'é' | 'ó' | 'à' | 'è' | 'ò' | 'â' | 'ê' | 'ô' => {
            Some(V::Strong)
        }
        'í' | 'ú' | 'ì' | 'ù' => Some(V::WeakStressed),
        'i' | 'u' | 'ü' | 'ï' | 'î' | 'û' => Some(V::Weak),
        _ => None,
    }
}

/// Spanish syllables, by counting vowel nuclei: adjacent vowels share a
/// syllable (diphthong/triphthong) unless both are strong (a, e, o) or one is
/// a stressed í/ú (hiatus). Handles silent `u` in que/qui/gue/gui (but not
/// güe/güi), `h` between vowels (no hiatus: "prohibir"), and `y` as a vowel
/// at the end of a syllable ("hoy", "muy", "y").
pub fn syllables_es(word: &str) -> usize {
    // Words are short: lowercase into a stack buffer (heap only if longer).
    let mut buf = ['\0'; 32];
    let mut n = 0;
    let mut heap: Vec<char> = Vec::new();
    for c in word.chars().flat_map(char::to_lowercase) {
        if n < buf.len() {
            buf[n] = c;
            n += 1;
        } else {
            if heap.is_empty() {
                heap.extend_from_slice(&buf);
            }
            heap.push(c);
        }
    }
    let chars: &[char] = if heap.is_empty() { &buf[..n] } else { &heap };
    let mut count = 0;
    let mut prev: Option<V> = None;
    let mut any_letter = false;
    for (i, &c) in chars.iter().enumerate() {
        let before = i.checked_sub(1).map(|j| chars[j]);
        let after = chars.get(i + 1).copied();
        let next_is_vowel = after.is_some_and(|n| es_vowel(n).is_some());
        let class = match c {
            'u' if before == Some('q') => None,
            'u' if before == Some('g') && matches!(after, Some('e' | 'i' | 'é' | 'í')) => None,
            'y' if !next_is_vowel && (prev.is_some() || chars.len() == 1) => Some(V::Weak),
            'h' => {
                any_letter = true;
                continue; // transparent
            }
            c => es_vowel(c),
        };
        if c.is_alphabetic() {
            any_letter = true;
        }
        match class {
            None => prev = None,
            Some(v) => {
                let hiatus = match prev {
                    None => true,
                    Some(p) => {
                        (p == V::Strong && v == V::Strong)
                            || p == V::WeakStressed
                            || v == V::WeakStressed
                            || (p == V::Weak && v == V::Weak && before == Some(c))
                    }
                };
                if hiatus {
                    count += 1;
                }
                prev = Some(v);
            }
        }
    }
    if count == 0 && any_letter { 1 } else { count }
}

/// English words the heuristic gets wrong and that are common in posts.
const EN_EXCEPTIONS: &[(&str, usize)] = &[
    ("business", 2),
    ("businesses", 3),
    ("every", 2),
    ("everyone", 3),
    ("everything", 3),
    ("facebook", 2),
    ("instagram", 3),
    ("people", 2),
    ("recipe", 3),
    ("recipes", 3),
    ("someone", 2),
    ("something", 2),
    ("sometimes", 2),
    ("whatsapp", 2),
    ("youtube", 2),
];

fn is_en_vowel(c: u8) -> bool {
    matches!(c, b'a' | b'e' | b'i' | b'o' | b'u' | b'y')
}

fn vowel_groups(w: &[u8]) -> usize {
    let mut n = 0;
    let mut prev = false;
    for (i, &c) in w.iter().enumerate() {
        // A leading y is a consonant ("yes", "you").
        let v = is_en_vowel(c) && !(c == b'y' && i == 0);
        if v && !prev {
            n += 1;
        }
        prev = v;
    }
    n
}

/// Vowel pairs usually pronounced as two syllables ("video", "radio").
fn hiatus_bonus(w: &str) -> usize {
    let mut n = 0;
    for pair in ["ia", "io", "iu", "eo", "ua", "uo", "ii"] {
        let mut from = 0;
        while let Some(p) = w[from..].find(pair) {
            let at = from + p;
            let before = &w[..at];
            let rest = &w[at..];
            let skip = (pair == "ia"
                && (before.ends_with('c') || before.ends_with('t'))
                && rest.starts_with("ial"))
                || (pair == "io" && (rest.starts_with("ion") || rest.starts_with("ious")))
                || (pair == "ua" && (before.ends_with('q') || before.ends_with('g')))
                || (pair == "uo" && before.ends_with('q'))
                || (pair == "eo" && before.ends_with('g'));
            if !skip {
                n += 1;
            }
            from = at + pair.len();
        }
    }
    n
}

/// English syllables: vowel groups, minus silent final `e`/`es`/`ed`, plus
/// common hiatus pairs, with suffixes (`-ment`, `-ly`, `-ful`, `-ness`,
/// `-less`) counted on their stem, and a small exception list. About 90%
/// exact on everyday vocabulary, which is what Flesch needs.
pub fn syllables_en(word: &str) -> usize {
    let w: String = word
        .chars()
        .filter(|c| c.is_ascii_alphabetic())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if w.is_empty() {
        return usize::from(word.chars().any(char::is_alphabetic));
    }
    if let Ok(i) = EN_EXCEPTIONS.binary_search_by(|(k, _)| (*k).cmp(w.as_str())) {
        return EN_EXCEPTIONS[i].1;
    }
    if w.len() <= 3 {
        return 1;
    }
    for suffix in ["ment", "ness", "less", "ful", "ly"] {
        if let Some(stem) = w.strip_suffix(suffix)
            && stem.len() >= 3
            && stem.ends_with('e')
        {
            return syllables_en(stem) + 1;
        }
    }
    let b = w.as_bytes();
    let n = b.len();
    let mut count = vowel_groups(b) + hiatus_bonus(&w);
    let consonant = |c: u8| !is_en_vowel(c);
    if count > 1 {
        if b[n - 1] == b'e' && consonant(b[n - 2]) && !(b[n - 2] == b'l' && consonant(b[n - 3])) {
            count -= 1; // silent e: "make", but not "table"
        } else if w.ends_with("es")
            && consonant(b[n - 3])
            && !matches!(b[n - 3], b's' | b'x' | b'z' | b'c' | b'g' | b'h')
        {
            count -= 1; // "makes", but not "boxes", "changes"
        } else if w.ends_with("ed") && consonant(b[n - 3]) && !matches!(b[n - 3], b't' | b'd') {
            count -= 1; // "jumped", but not "wanted"
        }
    }
    count.max(1)
}

/// Syllables of a word in the given language.
pub fn syllables(word: &str, lang: Language) -> usize {
    match lang {
        Language::Es => syllables_es(word),
        Language::En => syllables_en(word),
    }
}

/// Corrected Fernández-Huerta reading ease (see module docs).
pub fn fernandez_huerta(words: usize, sentences: usize, syllables: usize) -> f64 {
    if words == 0 {
        return 100.0;
    }
    let p = 100.0 * syllables as f64 / words as f64;
    let f = words as f64 / sentences.max(1) as f64;
    206.84 - 0.60 * p - 1.02 * f
}

/// Flesch reading ease.
pub fn flesch(words: usize, sentences: usize, syllables: usize) -> f64 {
    if words == 0 {
        return 100.0;
    }
    206.835
        - 1.015 * (words as f64 / sentences.max(1) as f64)
        - 84.6 * (syllables as f64 / words as f64)
}

/// Reading-ease measurements of a post.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Readability {
    pub words: usize,
    pub sentences: usize,
    pub syllables: usize,
    pub index: f64,
    pub formula: &'static str,
}

/// Measures a post: words and numbers count as words (a number as one
/// syllable per digit, up to 4); hashtags, mentions, links and emoji do not.
pub fn measure(doc: &Doc<'_>, lang: Language) -> Readability {
    let mut words = 0;
    let mut syl = 0;
    for t in doc.words() {
        words += 1;
        syl += if t.kind == TokKind::Number {
            t.raw.bytes().filter(u8::is_ascii_digit).count().clamp(1, 4)
        } else {
            syllables(t.raw, lang)
        };
    }
    let sentences = doc.sentences.len().max(1);
    let (index, formula) = match lang {
        Language::Es => (fernandez_huerta(words, sentences, syl), "fernandez-huerta"),
        Language::En => (flesch(words, sentences, syl), "flesch"),
    };
    Readability {
        words,
        sentences,
        syllables: syl,
        index,
        formula,
    }
}

/// Posts shorter than this many words are not judged on readability.
pub const MIN_WORDS: usize = 6;

fn lerp(x: f64, x0: f64, x1: f64, y0: f64, y1: f64) -> f64 {
    y0 + (y1 - y0) * ((x - x0) / (x1 - x0)).clamp(0.0, 1.0)
}

/// 0..=1 from the reading-ease index: ≥ 80 → 1.0, 60 → 0.8, 50 → 0.6,
/// 30 → 0.3, ≤ 0 → 0.1. Very short posts score 0.9 (nothing to judge).
pub fn score(r: &Readability) -> f64 {
    if r.words < MIN_WORDS {
        return 0.9;
    }
    let x = r.index;
    if x >= 80.0 {
        1.0
    } else if x >= 60.0 {
        lerp(x, 60.0, 80.0, 0.8, 1.0)
    } else if x >= 50.0 {
        lerp(x, 50.0, 60.0, 0.6, 0.8)
    } else if x >= 30.0 {
        lerp(x, 30.0, 50.0, 0.3, 0.6)
    } else {
        lerp(x, 0.0, 30.0, 0.1, 0.3)
    }
}

fn band(x: f64, lang: Language) -> &'static str {
    match (lang, x) {
        (Language::En, x) if x >= 80.0 => "easy",
        (Language::En, x) if x >= 60.0 => "plain",
        (Language::En, x) if x >= 50.0 => "fairly difficult",
        (Language::En, x) if x >= 30.0 => "difficult",
        (Language::En, _) => "very difficult",
        (Language::Es, x) if x >= 80.0 => "fácil",
        (Language::Es, x) if x >= 60.0 => "normal",
        (Language::Es, x) if x >= 50.0 => "algo difícil",
        (Language::Es, x) if x >= 30.0 => "difícil",
        (Language::Es, _) => "muy difícil",
    }
}

pub fn signal(r: &Readability, lang: Language) -> Signal {
    let s = score(r);
    let idx = round3(r.index);
    let wps = round3(r.words as f64 / r.sentences.max(1) as f64);
    let b = band(r.index, lang);
    let detail = if r.words < MIN_WORDS {
        tr!(
            lang,
            "Too short to measure readability; short is easy to read.",
            "Demasiado breve para medir la legibilidad; lo breve se lee fácil."
        )
    } else {
        match lang {
            Language::En => {
                format!("Flesch reading ease {idx:.1} ({b}); {wps:.1} words per sentence.")
            }
            Language::Es => {
                format!("Índice Fernández-Huerta {idx:.1} ({b}); {wps:.1} palabras por oración.")
            }
        }
    };
    Signal::new("readability", round3(s), detail)
}

pub fn suggestion(r: &Readability, lang: Language) -> Option<String> {
    if score(r) >= 0.75 {
        return None;
    }
    let wps = r.words as f64 / r.sentences.max(1) as f64;
    Some(if wps > 20.0 {
        let wps = wps.round();
        tr!(
            lang,
            "Split long sentences (about {wps} words each now): aim for 15 words or fewer per sentence so the post reads at a glance.",
            "Divide las oraciones largas (ahora unas {wps} palabras cada una): apunta a 15 palabras o menos para que se lea de un vistazo."
        )
    } else {
        tr!(
            lang,
            "Use shorter, everyday words instead of long or technical ones, e.g. \"use\" rather than \"utilize\".",
            "Usa palabras más cortas y cotidianas en lugar de largas o técnicas, p. ej. «usar» en vez de «utilizar»."
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exceptions_sorted() {
        assert!(EN_EXCEPTIONS.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn spanish_syllables() {
        let cases = [
            ("casa", 2),
            ("que", 1),
            ("quiero", 2),
            ("guerra", 2),
            ("pingüino", 3),
            ("ciudad", 2),
            ("país", 2),
            ("día", 2),
            ("María", 3),
            ("leer", 2),
            ("poeta", 3),
            ("aéreo", 4),
            ("murciélago", 4),
            ("hoy", 1),
            ("muy", 1),
            ("y", 1),
            ("yo", 1),
            ("mayo", 2),
            ("reyes", 2),
            ("Uruguay", 3),
            ("buey", 1),
            ("búho", 2),
            ("ahumado", 3),
            ("también", 2),
            ("acción", 2),
            ("estudiáis", 3),
            ("publicación", 4),
            ("comunicación", 5),
            ("oportunidad", 5),
            ("extraordinario", 6),
            ("FELICIDADES", 5),
        ];
        for (w, n) in cases {
            assert_eq!(syllables_es(w), n, "{w}");
        }
    }

    #[test]
    fn english_syllables() {
        let cases = [
            ("the", 1),
            ("cat", 1),
            ("make", 1),
            ("makes", 1),
            ("table", 2),
            ("hello", 2),
            ("happy", 2),
            ("day", 1),
            ("jumped", 1),
            ("wanted", 2),
            ("boxes", 2),
            ("changes", 2),
            ("beautiful", 3),
            ("syllable", 3),
            ("video", 3),
            ("radio", 3),
            ("social", 2),
            ("nation", 2),
            ("engagement", 3),
            ("lovely", 2),
            ("hopeful", 2),
            ("readability", 5),
            ("community", 4),
            ("people", 2),
            ("Facebook", 2),
            ("yes", 1),
            ("you", 1),
            ("usual", 3),
        ];
        for (w, n) in cases {
            assert_eq!(syllables_en(w), n, "{w}");
        }
    }

    #[test]
    fn known_sentences() {
        // Flesch: 6 one-syllable words, one sentence: 206.835 - 6.09 - 84.6.
        let r = measure(&Doc::new("The cat sat on the mat."), Language::En);
        assert_eq!((r.words, r.sentences, r.syllables), (6, 1, 6));
        assert!((r.index - 116.145).abs() < 1e-9);
        let hard = measure(
            &Doc::new(
                "Notwithstanding considerable organizational complexity, interdisciplinary collaboration \
                 necessitates comprehensive institutional accountability mechanisms.",
            ),
            Language::En,
        );
        assert!(hard.index < 0.0, "{}", hard.index);
        // Fernández-Huerta: "El gato come pescado." 4 words, 8 syllables, 1 sentence.
        let r = measure(&Doc::new("El gato come pescado."), Language::Es);
        assert_eq!((r.words, r.sentences, r.syllables), (4, 1, 8));
        assert!((r.index - (206.84 - 0.60 * 200.0 - 1.02 * 4.0)).abs() < 1e-9);
        let hard = measure(
            &Doc::new(
                "La implementación de metodologías interdisciplinarias requiere consideraciones \
                 epistemológicas extraordinariamente complejas y responsabilidades institucionales.",
            ),
            Language::Es,
        );
        assert!(hard.index < 30.0, "{}", hard.index);
    }

    #[test]
    fn shorter_sentences_read_easier_in_spanish() {
        let long = measure(
            &Doc::new(
                "Hoy abrimos la tienda nueva en el centro y queremos que vengas con tus amigos a verla por la tarde.",
            ),
            Language::Es,
        );
        let short = measure(
            &Doc::new(
                "Hoy abrimos la tienda nueva. Está en el centro. Ven con tus amigos. Te esperamos por la tarde.",
            ),
            Language::Es,
        );
        assert!(short.index > long.index);
        assert!(score(&short) >= score(&long));
    }
}
