//! Rule `call_to_action`: when the post asks nothing of the reader, adds one
//! genuine call to action in the post's language (a question plus "tell us
//! in the comments", or just the latter) at the end of the text, before a
//! trailing block of hashtags. Never bait: it asks for an opinion, not for
//! likes, shares or tags.

use super::{Candidate, Ctx};
use fbposts_core::text::{Doc, TokKind};
use fbposts_core::{Language, Tone};

pub const RULE: &str = "call_to_action";

fn phrases(l: Language, tone: Tone) -> [&'static str; 2] {
    match (l, tone) {
        (Language::Es, Tone::Professional) => [
            "¿Qué opina? Cuéntenos en los comentarios.",
            "Cuéntenos su experiencia en los comentarios.",
        ],
        (Language::Es, _) => [
            "¿Qué opinas? Cuéntanos en los comentarios.",
            "Cuéntanos tu experiencia en los comentarios.",
        ],
        (Language::En, _) => [
            "What do you think? Tell us in the comments.",
            "Tell us about your experience in the comments.",
        ],
    }
}

/// Splits off a trailing run of hashtags: (body, separator, tags).
pub fn split_trailing_tags(text: &str) -> (&str, &str, &str) {
    let doc = Doc::new(text);
    let mut start = text.len();
    let toks = &doc.tokens;
    for (i, t) in toks.iter().enumerate().rev() {
        let spaced_tag = t.is_wordlike()
            && i > 0
            && toks[i - 1].raw == "#"
            && text[toks[i - 1].end()..t.start].trim().is_empty();
        if t.kind == TokKind::Hashtag
            || spaced_tag
            || (t.raw == "#" && start == toks.get(i + 1).map_or(usize::MAX, |n| n.start))
        {
            start = t.start;
        } else {
            break;
        }
    }
    let body = text[..start].trim_end();
    (body, &text[body.len()..start], &text[start..])
}

/// Appends `sentence` to the body, closing an unfinished last sentence.
pub fn append_sentence(text: &str, sentence: &str) -> String {
    let (body, sep, tags) = split_trailing_tags(text);
    let last = body.chars().next_back().unwrap_or('.');
    let ends_with_link = body
        .split_whitespace()
        .next_back()
        .is_some_and(|w| w.contains("://") || w.starts_with("www."));
    let dot = if last.is_alphanumeric() && !ends_with_link {
        "."
    } else {
        ""
    };
    let sep = if tags.is_empty() {
        ""
    } else if sep.is_empty() {
        " "
    } else {
        sep
    };
    let join = if body.is_empty() {
        ""
    } else if ends_with_link {
        "\n"
    } else {
        " "
    };
    format!("{body}{dot}{join}{sentence}{sep}{tags}")
}

pub fn candidates(ctx: &Ctx<'_>, text: &str) -> Vec<Candidate> {
    if !ctx.analysis.features.cta_matches.is_empty() {
        return Vec::new();
    }
    phrases(ctx.lang, ctx.tone())
        .iter()
        .map(|p| Candidate::new(RULE, append_sentence(text, p)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_before_trailing_tags() {
        assert_eq!(
            append_sentence("Nuevo menú\n\n#Menu #Madrid", "¿Qué opinas?"),
            "Nuevo menú. ¿Qué opinas?\n\n#Menu #Madrid"
        );
        assert_eq!(
            append_sentence("New menu!", "Thoughts?"),
            "New menu! Thoughts?"
        );
    }
}
