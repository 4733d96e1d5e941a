//! Text plumbing the rules share: sentence spans (byte ranges that never
//! cut a sentence), whitespace/punctuation tidying after an edit, the
//! minimal changed fragment of an edit, and letter-case helpers.

/// A sentence as a byte range of the text: from its first non-blank char to
/// the end of its closing punctuation (plus anything glued to it, such as
/// `?👇` or `!"`), or to the end of its line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    /// 0-based line.
    pub line: usize,
}

fn is_terminal(c: char) -> bool {
    matches!(c, '.' | '!' | '?' | '…')
}

/// Sentences in order. Line breaks always end a sentence.
pub fn sentences(text: &str) -> Vec<Span> {
    let mut out = Vec::new();
    let mut offset = 0;
    for (line_no, line) in text.split('\n').enumerate() {
        let chars: Vec<(usize, char)> = line.char_indices().collect();
        let mut start: Option<usize> = None;
        let mut i = 0;
        while i < chars.len() {
            let (b, c) = chars[i];
            if start.is_none() {
                if !c.is_whitespace() {
                    start = Some(b);
                } else {
                    i += 1;
                    continue;
                }
            }
            if is_terminal(c) {
                // The run of terminal punctuation and whatever is glued to it.
                let mut j = i;
                while j < chars.len() && !chars[j].1.is_whitespace() {
                    j += 1;
                }
                let glued_alnum = chars[i..j].iter().any(|(_, c)| c.is_alphanumeric());
                let at_break = j == chars.len() || chars[j].1.is_whitespace();
                if at_break && !glued_alnum {
                    let end = if j == chars.len() {
                        line.len()
                    } else {
                        chars[j].0
                    };
                    if let Some(s) = start.take() {
                        out.push(Span {
                            start: offset + s,
                            end: offset + end,
                            line: line_no,
                        });
                    }
                    i = j;
                    continue;
                }
                i = j;
                continue;
            }
            i += 1;
        }
        if let Some(s) = start {
            let end = line.trim_end().len();
            if end > s {
                out.push(Span {
                    start: offset + s,
                    end: offset + end,
                    line: line_no,
                });
            }
        }
        offset += line.len() + 1;
    }
    out
}

/// Cleans up after an edit: single spaces inside lines, no space before
/// `,.;:` (nor before `!?` after a letter), no orphan punctuation lines or
/// leading commas, at most one blank line in a row, no outer whitespace.
pub fn tidy(text: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    for line in text.split('\n') {
        let mut out = String::with_capacity(line.len());
        let mut prev_space = false;
        for c in line.chars() {
            if c == ' ' || c == '\t' {
                prev_space = true;
                continue;
            }
            if prev_space && !out.is_empty() {
                let last = out.chars().next_back().unwrap_or(' ');
                let drop_space = matches!(c, ',' | '.' | ';' | ':')
                    || (matches!(c, '!' | '?') && last.is_alphanumeric());
                if !drop_space {
                    out.push(' ');
                }
            }
            prev_space = false;
            out.push(c);
        }
        // Leftovers of a deletion: ", ." → ".", leading ",;:".
        let mut s = out
            .replace(",.", ".")
            .replace(", .", ".")
            .replace(",!", "!");
        while let Some(rest) = s.strip_prefix([',', ';', ':']) {
            s = rest.trim_start().to_string();
        }
        let only_punct = !s.is_empty()
            && s.chars()
                .all(|c| c.is_whitespace() || ".,;:!?¡¿…-–—".contains(c));
        if only_punct {
            s.clear();
        }
        lines.push(s);
    }
    let mut out: Vec<String> = Vec::new();
    for l in lines {
        if l.is_empty() && out.last().is_none_or(|p: &String| p.is_empty()) {
            continue;
        }
        out.push(l);
    }
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    out.join("\n")
}

/// The fragment an edit changed: the differing middle of `before` and
/// `after`, widened to whole words (whitespace boundaries).
pub fn changed_fragment(before: &str, after: &str) -> (String, String) {
    let b: Vec<char> = before.chars().collect();
    let a: Vec<char> = after.chars().collect();
    let mut p = 0;
    while p < b.len() && p < a.len() && b[p] == a[p] {
        p += 1;
    }
    let mut s = 0;
    while s < b.len() - p && s < a.len() - p && b[b.len() - 1 - s] == a[a.len() - 1 - s] {
        s += 1;
    }
    // Widen to whitespace on both sides (the prefix and suffix are shared).
    let word = |v: &[char], i: usize| v.get(i).is_some_and(|c| !c.is_whitespace());
    if p > 0 && word(&b, p - 1) && (word(&b, p) || word(&a, p)) {
        while p > 0 && !b[p - 1].is_whitespace() {
            p -= 1;
        }
    }
    let (bl, al) = (b.len(), a.len());
    if s > 0
        && word(&b, bl - s)
        && (word(&b, (bl - s).wrapping_sub(1)) || word(&a, (al - s).wrapping_sub(1)))
    {
        while s > 0 && !b[bl - s].is_whitespace() {
            s -= 1;
        }
    }
    let frag = |v: &[char]| v.iter().collect::<String>().trim().to_string();
    (frag(&b[p..b.len() - s]), frag(&a[p..a.len() - s]))
}

/// `word` with its first letter uppercased and the rest lowercased.
pub fn title_case(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let mut first = true;
    for c in word.chars() {
        if first && c.is_alphabetic() {
            out.extend(c.to_uppercase());
            first = false;
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// Uppercases the first letter of `s` (after any opening `¿¡"(`).
pub fn capitalize_first(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut done = false;
    for c in s.chars() {
        if !done && c.is_alphabetic() {
            out.extend(c.to_uppercase());
            done = true;
        } else {
            if !done && c.is_alphanumeric() {
                done = true;
            }
            out.push(c);
        }
    }
    out
}

/// Is the byte position `at` the start of a sentence (start of the text
/// or line, or after `.!?…`, `¡¿`, `:` or an emoji)?
pub fn sentence_initial(text: &str, at: usize) -> bool {
    let before = text[..at].trim_end_matches([' ', '\t', '"', '\'', '«', '“', '(']);
    match before.chars().next_back() {
        None => true,
        Some(c) => {
            c == '\n'
                || is_terminal(c)
                || matches!(c, '¡' | '¿' | ':' | '-' | '•' | '*')
                || fbposts_core::emoji::is_emoji(&c.to_string())
                || (c as u32) == 0xFE0F
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_split_at_terminals_and_lines() {
        let t = "¿Sabías esto? 👇 Hola. Visita https://a.com/x.y hoy\nSegunda línea!!! ok";
        let s: Vec<&str> = sentences(t).iter().map(|s| &t[s.start..s.end]).collect();
        assert_eq!(
            s,
            vec![
                "¿Sabías esto?",
                "👇 Hola.",
                "Visita https://a.com/x.y hoy",
                "Segunda línea!!!",
                "ok"
            ]
        );
        assert_eq!(sentences("3.5 kg de café.").len(), 1);
    }

    #[test]
    fn tidy_fixes_spacing_and_orphans() {
        assert_eq!(
            tidy("  Hola  , mundo .\n!!!\n\n\n\nFin  "),
            "Hola, mundo.\n\nFin"
        );
        assert_eq!(tidy(", y más"), "y más");
    }

    #[test]
    fn fragments_are_whole_words() {
        let (b, a) = changed_fragment("Hola MUNDO feliz", "Hola mundo feliz");
        assert_eq!((b.as_str(), a.as_str()), ("MUNDO", "mundo"));
        let (b, a) = changed_fragment("Hola. Like si te gusta.", "Hola.");
        assert_eq!((b.as_str(), a.as_str()), ("Like si te gusta.", ""));
    }

    #[test]
    fn case_helpers() {
        assert_eq!(title_case("MADRID"), "Madrid");
        assert_eq!(capitalize_first("¿qué tal?"), "¿Qué tal?");
        assert!(sentence_initial("Hola. Adiós", 6));
        assert!(!sentence_initial("Hola Adiós", 5));
    }
}
