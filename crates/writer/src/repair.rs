//! The repairs [`conform`](crate::conform::conform) makes line by line, and
//! what they make of the lines it adds itself.
//!
//! `conform` must be idempotent: a second pass changes nothing. The lines it
//! appends (a missing detail, the CTA, the brand line) come from the brief,
//! not from the text, so they have not been through its repairs; a second
//! pass would repair them (a `#tag` lifted, an opening `¡` added, a word to
//! avoid removed), no longer find the detail and append it again. So the
//! appended lines are repaired when they are added (`repaired`), and a
//! detail counts as present in its repaired form too (`holds_detail`).

use crate::brief::Brief;
use crate::details::contains_detail;
use crate::text::{self, find_words, sentences, tidy};
use fbposts_core::Language;

/// Hashtags out of `text`: tag-only lines removed and tags trailing a line
/// lifted (both returned, in order); tags inside a sentence become plain
/// words.
pub(crate) fn lift_hashtags(text: &str) -> (String, Vec<String>) {
    let mut found: Vec<String> = Vec::new();
    let mut lines: Vec<String> = Vec::new();
    for line in text.lines() {
        let tokens: Vec<&str> = line.split_whitespace().collect();
        if !tokens.is_empty() && tokens.iter().all(|t| is_tag(t)) {
            found.extend(tokens.iter().map(|t| t.to_string()));
            continue;
        }
        // Tags trailing a line are hashtags; tags inside a sentence become
        // plain words.
        let mut words: Vec<&str> = line.split(' ').collect();
        while words
            .last()
            .is_some_and(|t| is_tag(t.trim_end_matches(['.', ','])))
        {
            let t = words.pop().unwrap_or_default();
            found.insert(0, t.trim_end_matches(['.', ',']).to_string());
        }
        let mut out: Vec<String> = Vec::new();
        for t in words {
            if is_tag(t) {
                let (word, tag) = untag(t);
                found.push(tag);
                out.push(word);
            } else {
                out.push(t.to_string());
            }
        }
        lines.push(out.join(" "));
    }
    (lines.join("\n"), found)
}

/// A `#tag` inside a sentence as a plain word, and the hashtag it gives:
/// `#pan,` → (`pan,`, `#pan`).
fn untag(t: &str) -> (String, String) {
    let body: String = t[1..].chars().take_while(|c| c.is_alphanumeric()).collect();
    let rest = &t[1 + body.len()..];
    (format!("{body}{rest}"), format!("#{body}"))
}

/// Is `t` a token `conform` reads as a hashtag?
fn is_tag(t: &str) -> bool {
    t.starts_with('#') && t.len() > 1
}

/// A line `conform` adds, as its own repairs leave it: every `#tag` a plain
/// word (so no pass lifts it into the hashtags), no word to avoid, Spanish
/// opening marks, tidy spacing.
pub(crate) fn repaired(brief: &Brief, line: &str) -> String {
    let words: Vec<String> = line
        .split(' ')
        .map(|t| {
            let mut word = t.to_string();
            while is_tag(&word) {
                word = untag(&word).0;
            }
            word
        })
        .collect();
    let mut out = words.join(" ");
    for w in brief.avoid_words() {
        out = remove_words(&out, w);
    }
    if brief.language == Language::Es {
        out = open_marks(&out);
    }
    tidy(&out)
}

/// Is `detail` in `text`, verbatim or as `conform` repairs it? Emoji and
/// line breaks are not compared: the emoji budget and the sentence layout
/// are the post's, not the detail's.
pub(crate) fn holds_detail(brief: &Brief, text: &str, detail: &str) -> bool {
    if contains_detail(text, detail) {
        return true;
    }
    let flat_text = comparable(text);
    [detail.to_string(), repaired(brief, detail)]
        .iter()
        .map(|d| comparable(d))
        .any(|d| !d.is_empty() && contains_detail(&flat_text, &d))
}

/// `s` without emoji, opening marks, `#` or trailing sentence stops, with
/// every run of whitespace one space.
fn comparable(s: &str) -> String {
    let bare = text::strip_emoji(s).replace(['¿', '¡', '#'], "");
    let words: Vec<&str> = bare.split_whitespace().collect();
    words.join(" ").trim_end_matches(['.', ' ']).to_string()
}

/// `text` without whole-word occurrences of `word` (folded match),
/// together with the conjunction or comma that tied it to a neighbour
/// ("rico y barato" → "rico", "barato, rico" → "rico").
pub(crate) fn remove_words(text: &str, word: &str) -> String {
    const BEFORE: &[&str] = &[" y ", " e ", " o ", " and ", " or ", ", "];
    const AFTER: &[&str] = &[" y ", " e ", " o ", " and ", " or ", ", "];
    let mut out = text.to_string();
    for (s, e) in find_words(text, word, true).into_iter().rev() {
        let (mut s, mut e) = (s, e);
        if let Some(c) = BEFORE.iter().find(|c| out[..s].ends_with(**c)) {
            s -= c.trim_start().len();
        } else if let Some(c) = AFTER.iter().find(|c| out[e..].starts_with(**c)) {
            e += c.len() - 1;
        }
        out.replace_range(s..e, "");
    }
    let out = out
        .replace(" ,", ",")
        .replace(",.", ".")
        .replace(", .", ".");
    tidy(&out)
}

/// Adds the Spanish `¿`/`¡` a sentence is missing (at its start, after any
/// leading emoji or quote).
pub fn open_marks(text: &str) -> String {
    let fix = |s: &str| -> String {
        let mut s = s.to_string();
        for (close, open) in [('?', '¿'), ('!', '¡')] {
            let closes = s.matches(close).count();
            let opens = s.matches(open).count();
            if closes > opens {
                let at = s
                    .char_indices()
                    .find(|(_, c)| c.is_alphanumeric() || *c == '¿' || *c == '¡')
                    .map_or(0, |(i, _)| i);
                // After an opening mark of the other kind, not before it;
                // as many as are missing, so a second pass finds none
                // missing (and `check`, which counts them, agrees).
                for _ in opens..closes {
                    s.insert(at, open);
                }
            }
        }
        s
    };
    text.lines()
        .map(|line| {
            if line.trim().is_empty() {
                return String::new();
            }
            sentences(line)
                .iter()
                .map(|s| fix(s))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}
