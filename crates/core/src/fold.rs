//! Case and accent folding shared by the runtime and `build.rs` (which
//! `#[path]`-includes this file to fold lexicon keys the same way), so this
//! file must stay dependency-free.
//!
//! Folding lowercases and strips Latin diacritics (`é`→`e`, `ñ`→`n`,
//! `ü`→`u`) and maps typographic apostrophes to `'`. It is used for *matching
//! only*; output always quotes the original text.

/// Folds one char: lowercase, no diacritics, ASCII apostrophe.
pub fn fold_char(c: char) -> char {
    match c {
        'a'..='z' | '0'..='9' => c,
        'A'..='Z' => c.to_ascii_lowercase(),
        'á' | 'à' | 'ä' | 'â' | 'ã' | 'å' | 'Á' | 'À' | 'Ä' | 'Â' | 'Ã' | 'Å' => 'a',
        'é' | 'è' | 'ë' | 'ê' | 'É' | 'È' | 'Ë' | 'Ê' => 'e',
        'í' | 'ì' | 'ï' | 'î' | 'Í' | 'Ì' | 'Ï' | 'Î' => 'i',
        'ó' | 'ò' | 'ö' | 'ô' | 'õ' | 'Ó' | 'Ò' | 'Ö' | 'Ô' | 'Õ' => 'o',
        'ú' | 'ù' | 'ü' | 'û' | 'Ú' | 'Ù' | 'Ü' | 'Û' => 'u',
        'ñ' | 'Ñ' => 'n',
        'ç' | 'Ç' => 'c',
        'ý' | 'ÿ' | 'Ý' => 'y',
        '\u{2019}' | '\u{2018}' | '\u{02BC}' | '`' | '\u{00B4}' => '\'',
        c if c.is_ascii() => c,
        c => {
            let mut lower = c.to_lowercase();
            match (lower.next(), lower.next()) {
                (Some(l), None) => l,
                _ => c,
            }
        }
    }
}

/// True when `fold(s) == s`, i.e. folding would not change anything.
pub fn is_folded(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii() && !b.is_ascii_uppercase() && b != b'`')
}

/// Folds a whole string (see the module docs).
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    out.extend(s.chars().map(fold_char));
    out
}
