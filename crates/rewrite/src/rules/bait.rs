//! Rule `engagement_bait`: removes the first bait phrase core's detector
//! finds ("comenta SÍ si…", "like if…", "share to win", "etiqueta a 3
//! amigos"). The whole sentence goes when it holds no facts and is mostly
//! bait; otherwise only the bait clause, and the sentence is closed again
//! with the right punctuation (`¡…!`, `¿…?` kept in pairs).

use super::{Candidate, Ctx};
use crate::facts::has_facts;
use crate::text::{capitalize_first, sentences, tidy};
use fbposts_core::bait;
use fbposts_core::text::Doc;

pub const RULE: &str = "engagement_bait";

/// Words that only join the bait to what came before ("…, y comparte").
const CONNECTORS: &[&str] = &[
    "y", "e", "o", "u", "pero", "entonces", "asi", "que", "para", "and", "or", "so", "then", "but",
    "to", "please", "porfa", "plz",
];

fn strip_trailing_connectors(s: &str) -> &str {
    let mut s = s.trim_end();
    loop {
        let t = s.trim_end_matches([',', ';', ':', '-', '–', '—', ' ']);
        let last_word_start = t.rfind(char::is_whitespace).map_or(0, |i| i + 1);
        let last = fbposts_core::fold::fold(&t[last_word_start..]);
        if last_word_start > 0 && CONNECTORS.contains(&last.as_str()) {
            s = t[..last_word_start].trim_end();
        } else {
            return t;
        }
    }
}

fn strip_leading_connectors(s: &str) -> &str {
    let mut s = s.trim_start();
    loop {
        let t = s.trim_start_matches([',', ';', ':', '-', '–', '—', ' ', '!', '.']);
        let end = t.find(char::is_whitespace).unwrap_or(t.len());
        let first = fbposts_core::fold::fold(&t[..end]);
        if end < t.len() && CONNECTORS.contains(&first.as_str()) {
            s = t[end..].trim_start();
        } else {
            return t;
        }
    }
}

/// Closes a clause cut short, keeping Spanish pairs: `¡…!`, `¿…?`.
fn close(head: &str) -> String {
    let last = head.chars().next_back().unwrap_or(' ');
    if matches!(last, '.' | '!' | '?' | '…') || !(last.is_alphanumeric() || last == ')') {
        return head.to_string();
    }
    let opens = |o: char, c: char| head.rfind(o).is_some_and(|i| !head[i..].contains(c));
    if opens('¿', '?') {
        format!("{head}?")
    } else if opens('¡', '!') {
        format!("{head}!")
    } else {
        format!("{head}.")
    }
}

pub fn candidates(_ctx: &Ctx<'_>, text: &str) -> Vec<Candidate> {
    let doc = Doc::new(text);
    let matches = bait::find(&doc);
    let Some(m) = matches.first() else {
        return Vec::new();
    };
    let (bs, be) = (
        doc.tokens[m.tokens.0].start,
        doc.tokens[m.tokens.1 - 1].end(),
    );
    let spans = sentences(text);
    let overlapping: Vec<_> = spans
        .iter()
        .filter(|s| s.start < be && bs < s.end)
        .collect();
    let (ss, se) = match (overlapping.first(), overlapping.last()) {
        (Some(a), Some(b)) => (a.start.min(bs), b.end.max(be)),
        _ => (bs, be),
    };
    let head = &text[ss..bs];
    let head_words = head
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count();
    let sentence_words = text[ss..se]
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count();
    let bait_words = m.tokens.1 - m.tokens.0;
    if ss == bs && sentence_words <= 6 && bait_words * 2 >= sentence_words.min(4) {
        // A short sentence that is all bait ("¡Etiqueta a 3 amigos!"): it
        // goes whole, and its numbers were part of the bait.
        let new = tidy(&format!("{}{}", &text[..ss], &text[se..]));
        let mut cand = Candidate::new(RULE, new);
        cand.allowed_loss = crate::facts::facts(&text[ss..se]);
        return vec![cand];
    }
    let new = if head_words >= 3 && !has_facts(text, bs, se) {
        // Keep the clause before the bait, close it again.
        let kept = close(strip_trailing_connectors(head));
        format!("{}{}{}", &text[..ss], kept, &text[se..])
    } else if !has_facts(text, ss, se) {
        format!("{}{}", &text[..ss], &text[se..])
    } else if !has_facts(text, ss, be) {
        // Drop the bait at the start, keep the rest of the sentence.
        let rest = strip_leading_connectors(&text[be..se]);
        let mut rest = capitalize_first(rest);
        if head.contains('¡') && rest.contains('!') && !rest.starts_with('¡') {
            rest = format!("¡{rest}");
        }
        format!("{}{}{}", &text[..ss], rest, &text[se..])
    } else {
        format!("{}{}", &text[..bs], &text[be..])
    };
    vec![Candidate::new(RULE, tidy(&new))]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connectors_and_closing() {
        assert_eq!(strip_trailing_connectors("Nuevo menú, y"), "Nuevo menú");
        assert_eq!(close("¡Gran oferta"), "¡Gran oferta!");
        assert_eq!(close("¿Te gusta"), "¿Te gusta?");
        assert_eq!(close("Our menu is here"), "Our menu is here.");
        assert_eq!(
            strip_leading_connectors("y gana 2 entradas"),
            "gana 2 entradas"
        );
    }
}
