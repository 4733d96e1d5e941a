//! The rules every generated post must satisfy, whoever wrote it (the
//! template engine or an LLM): [`conform`] repairs what can be repaired and
//! [`check`] lists what is still wrong (empty = publishable).
//!
//! Rules: `brief.hashtags` well-formed hashtags (fewer only when the
//! topic, keywords and details do not give that many; see `hashtags.rs`),
//! together on the last line; every detail verbatim (or as the other rules
//! repair it: see `repair.rs`); no emoji when `emoji` is
//! false, 1 to core's sweet spot (3 + 1 per 200 chars) when true; no word
//! to avoid (whole words, case- and accent-insensitive, also not inside a
//! hashtag); every word to use at least once; the client's CTA (text or
//! URL) present; length within the brief's range (chars without links);
//! no engagement bait (core's detector); no stacked `!!`; the brief's
//! language (core's detector); in Spanish, every `?`/`!` opened with `¿`/`¡`.

use crate::bank::bank;
use crate::brief::{Brief, Cta};
use crate::details;
use crate::emoji;
use crate::hashtags;
pub use crate::repair::open_marks;
use crate::repair::{holds_detail, lift_hashtags, remove_words, repaired};
use crate::text::{self, contains_words, find_words, measure, sentences, tidy};
use fbposts_core::Language;
use unicode_segmentation::UnicodeSegmentation;

/// Post-processes `text` to satisfy the brief's constraints where that is
/// possible without rewriting it: hashtags (kept if well-formed after
/// normalisation, completed or cut to the count, moved to a last line),
/// emoji (stripped, added or thinned), words to avoid (removed), words to
/// use and the CTA (appended when missing), Spanish opening marks, and the
/// length (whole sentences dropped from the end of the body, never the
/// hook, the link, a call to action or brand words; a cut at a word only as a last
/// resort). A text that is too short is left short: [`check`] reports it.
pub fn conform(brief: &Brief, text: &str) -> String {
    let lang = brief.language;
    let normalized = text.replace("\r\n", "\n").replace('\r', "\n");

    // 1. Hashtags out of the text: tag-only lines removed, inline tags
    //    become plain words.
    let (mut body, found) = lift_hashtags(&normalized);

    // 2. Words to avoid.
    for w in brief.avoid_words() {
        body = remove_words(&body, w);
    }

    // 3. Emoji.
    body = if brief.emoji {
        thin_emoji(&body, brief)
    } else {
        text::strip_emoji(&body)
    };

    // 4. Spanish opening marks.
    if lang == Language::Es {
        body = open_marks(&body);
    }
    body = tidy(&body);

    // 5. The client's CTA, the details and the brand's words, each on a
    //    line of its own, repaired as a second pass would repair them.
    let text_end = body.len();
    let add_line = |body: &mut String, line: &str| {
        body.push('\n');
        body.push_str(&repaired(brief, line));
    };
    match &brief.cta {
        Some(Cta::Url(u)) if !body.contains(u.as_str()) => {
            let b = bank(lang);
            let tpl = b
                .link_ctas
                .iter()
                .find(|(g, _)| *g == brief.goal)
                .map_or(b.link_line, |(_, t)| t);
            add_line(&mut body, &tpl.replace("{url}", u));
        }
        Some(Cta::Text(t)) if !contains_words(&body, t) => {
            add_line(&mut body, &cta_sentence(t, lang));
        }
        _ => {}
    }
    // Details the text lost or never had: a labelled line each.
    for d in details::classified(brief) {
        if !holds_detail(brief, &body, &d.text) {
            add_line(&mut body, &details::line(&d, lang));
        }
    }
    let missing: Vec<String> = brief
        .use_words()
        .iter()
        .filter(|w| find_words(&body, w, true).is_empty())
        .cloned()
        .collect();
    if !missing.is_empty() {
        add_line(&mut body, &brand_line(brief, &missing));
    }

    let added = body[text_end..].to_string();

    // 6. Hashtags back, then the length.
    let tags = hashtags::choose(brief, &found);
    let assemble = |body: &str| -> String {
        if tags.is_empty() {
            tidy(body)
        } else {
            tidy(&format!("{}\n\n{}", body.trim_end(), tags.join(" ")))
        }
    };
    // The emoji budget depends on the length, so a cut text is thinned
    // again (as a second pass would), until neither changes the body.
    for _ in 0..MAX_SETTLING_ROUNDS {
        let cut = within_length(&body, &added, brief, &assemble);
        let settled = if brief.emoji {
            thin_emoji(&cut, brief)
        } else {
            cut.clone()
        };
        let done = settled == cut;
        body = settled;
        if done {
            break;
        }
    }
    assemble(&within_length(&body, &added, brief, &assemble))
}

/// Rounds of cutting to length and thinning emoji before `conform` stops
/// settling: a round only removes emoji, or adds the one a cut took, so
/// the rounds end after one or two.
const MAX_SETTLING_ROUNDS: usize = 4;

/// `body` shortened until `assemble(body)` fits the brief's length: whole
/// sentences dropped first, then a cut at a word, of the text before the
/// lines `conform` `added` when they are still its end (a cut that took
/// them would make a second pass add them again).
fn within_length(
    body: &str,
    added: &str,
    brief: &Brief,
    assemble: &dyn Fn(&str) -> String,
) -> String {
    let (_, max) = brief.length_range();
    let mut body = body.to_string();
    while measure(&assemble(&body)) > max {
        match drop_one_sentence(&body, brief) {
            Some(shorter) => body = shorter,
            None => break,
        }
    }
    if measure(&assemble(&body)) > max {
        let tags_len = measure(&assemble("")) + 2;
        body = match body.strip_suffix(added).filter(|_| !added.is_empty()) {
            Some(text) => {
                let room = max.saturating_sub(tags_len + measure(added));
                format!("{}{added}", cut_at_word(text, room))
            }
            None => cut_at_word(&body, max.saturating_sub(tags_len)),
        };
    }
    body
}

/// A CTA sentence from the client's text, with closing punctuation.
pub fn cta_sentence(t: &str, lang: Language) -> String {
    let t = t.trim();
    let s = if t.ends_with(['.', '!', '?', '…', ':']) {
        t.to_string()
    } else {
        format!("{t}.")
    };
    let s = text::capitalize(&s);
    if lang == Language::Es {
        open_marks(&s)
    } else {
        s
    }
}

/// The brand line naming `words`.
pub fn brand_line(brief: &Brief, words: &[String]) -> String {
    let b = bank(brief.language);
    let joined = text::join_list(brief.language, words);
    let name = brief.brand_voice.as_ref().and_then(|v| v.name.as_deref());
    match name {
        Some(n) => b
            .brand_lines
            .0
            .replace("{name}", n)
            .replace("{words}", &joined),
        None => b.brand_lines.1.replace("{words}", &joined),
    }
}

/// Keeps emoji within 1..=sweet spot: adds the tone's first emoji at the
/// end of the first line when there is none, drops the extras from the end.
fn thin_emoji(text: &str, brief: &Brief) -> String {
    let count = text::emoji_list(text).len();
    let max = fbposts_core::emoji::sweet_spot_max(measure(text));
    if count == 0 {
        let e = emoji::for_topic(&brief.topic).unwrap_or(emoji::for_tone(brief.tone)[0]);
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        if let Some(first) = lines.iter_mut().find(|l| !l.trim().is_empty()) {
            first.push(' ');
            first.push_str(e);
        }
        return lines.join("\n");
    }
    if count <= max {
        return text.to_string();
    }
    let mut seen = 0;
    let kept: String = text
        .graphemes(true)
        .filter(|g| {
            if fbposts_core::emoji::is_emoji(g) {
                seen += 1;
                seen <= max
            } else {
                true
            }
        })
        .collect();
    tidy(&kept)
}

/// Is this sentence protected from trimming?
fn protected(s: &str, brief: &Brief, first: bool) -> bool {
    first
        || s.split_whitespace().any(text::is_link)
        || brief.use_words().iter().any(|w| contains_words(s, w))
        || brief.details.iter().any(|d| holds_detail(brief, s, d))
        || matches!(&brief.cta, Some(Cta::Text(t)) if contains_words(s, t))
        || is_cta(s)
        || s.ends_with('?')
}

/// Does core's call-to-action detector find one in `s`?
fn is_cta(s: &str) -> bool {
    let doc = fbposts_core::text::Doc::new(s);
    !fbposts_core::cta::find(&doc, &[]).is_empty()
}

/// The body with its last unprotected sentence removed. Protected: the
/// hook, links, brand words, the client's CTA, anything core reads as a
/// call to action, and questions.
fn drop_one_sentence(body: &str, brief: &Brief) -> Option<String> {
    let lines: Vec<Vec<String>> = body.lines().map(sentences).collect();
    let last_line = lines.iter().rposition(|l| !l.is_empty());
    let mut candidates: Vec<(usize, usize, u8)> = Vec::new();
    let mut first = true;
    for (li, line) in lines.iter().enumerate() {
        for (si, s) in line.iter().enumerate() {
            let is_first = first;
            first = false;
            if protected(s, brief, is_first)
                || fbposts_core::emoji::count(s)
                    == s.graphemes(true).filter(|g| !g.trim().is_empty()).count()
            {
                continue;
            }
            // Lower rank goes first: body sentences, then the closing line.
            let rank = if Some(li) == last_line { 1 } else { 0 };
            candidates.push((li, si, rank));
        }
    }
    let &(li, si, _) = candidates
        .iter()
        .rfind(|c| c.2 == 0)
        .or_else(|| candidates.last())?;
    let mut lines = lines;
    lines[li].remove(si);
    Some(tidy(
        &lines
            .iter()
            .map(|l| l.join(" "))
            .collect::<Vec<_>>()
            .join("\n"),
    ))
}

/// Cuts at the last word boundary before `max` chars and adds "…".
fn cut_at_word(body: &str, max: usize) -> String {
    let mut out = String::new();
    for w in body.split(' ') {
        if measure(&out) + w.chars().count() + 2 > max {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    format!("{}…", out.trim_end_matches([',', ';', ':', ' ']))
}

/// The constraint violations of `text` for `brief` (empty = ok). Messages
/// are in English, for logs and tests.
pub fn check(brief: &Brief, text: &str) -> Vec<String> {
    let mut v = Vec::new();
    if text.trim().is_empty() {
        v.push("the post is empty".to_string());
        return v;
    }
    // Hashtags.
    let tags: Vec<&str> = text
        .split_whitespace()
        .filter(|t| t.starts_with('#'))
        .collect();
    let least = hashtags::choose(brief, &[]).len();
    if tags.len() > brief.hashtags as usize || tags.len() < least {
        v.push(format!(
            "expected {} hashtags, found {}",
            brief.hashtags,
            tags.len()
        ));
    }
    for t in &tags {
        if !hashtags::is_well_formed(t) {
            v.push(format!(
                "malformed hashtag {t} (ASCII letters and digits only)"
            ));
        }
        if hashtags::contains_avoided(t, brief.avoid_words()) {
            v.push(format!("hashtag {t} contains a word to avoid"));
        }
    }
    for (i, t) in tags.iter().enumerate() {
        if tags[..i].iter().any(|o| o.eq_ignore_ascii_case(t)) {
            v.push(format!("duplicate hashtag {t}"));
        }
    }
    if !tags.is_empty() {
        let last = text.trim_end().lines().last().unwrap_or("");
        if !last.split_whitespace().all(|t| t.starts_with('#'))
            || last.split_whitespace().count() != tags.len()
        {
            v.push("hashtags must be together on the last line".to_string());
        }
    }
    // Emoji.
    let emoji = text::emoji_list(text).len();
    let max = fbposts_core::emoji::sweet_spot_max(measure(text));
    if !brief.emoji && emoji > 0 {
        v.push(format!("{emoji} emoji, but emoji are off"));
    }
    if brief.emoji && emoji == 0 {
        v.push("no emoji, but emoji are on".to_string());
    }
    if brief.emoji && emoji > max {
        v.push(format!("{emoji} emoji (at most {max})"));
    }
    // Brand voice.
    for w in brief.avoid_words() {
        if !find_words(text, w, true).is_empty() {
            v.push(format!("uses the word to avoid \"{w}\""));
        }
    }
    for w in brief.use_words() {
        if find_words(text, w, true).is_empty() {
            v.push(format!("missing the brand word \"{w}\""));
        }
    }
    // Details, verbatim or as conform repairs them.
    for d in &brief.details {
        if !holds_detail(brief, text, d) {
            v.push(format!("missing the detail \"{d}\""));
        }
    }
    // CTA.
    match &brief.cta {
        Some(Cta::Url(u)) if !text.contains(u.as_str()) => v.push(format!("missing the link {u}")),
        Some(Cta::Text(t)) if !contains_words(text, t) => {
            v.push(format!("missing the call to action \"{t}\""))
        }
        _ => {}
    }
    // Length.
    let (lo, hi) = brief.length_range();
    let n = measure(text);
    if n < lo || n > hi {
        v.push(format!(
            "{n} characters, outside the {} range {lo}–{hi}",
            brief.length.code()
        ));
    }
    // Bait, shouting.
    for m in fbposts_core::bait::find_in(text) {
        v.push(format!("engagement bait: \"{}\"", m.text));
    }
    if text.contains("!!") {
        v.push("stacked exclamation marks".to_string());
    }
    // Language.
    let detected = fbposts_core::detect_language(text);
    if detected != brief.language {
        v.push(format!(
            "written in {}, expected {}",
            detected.code(),
            brief.language.code()
        ));
    }
    if brief.language == Language::Es {
        for line in text.lines() {
            for s in sentences(line) {
                if s.matches('?').count() > s.matches('¿').count() {
                    v.push(format!("question without ¿: \"{s}\""));
                }
                if s.matches('!').count() > s.matches('¡').count() {
                    v.push(format!("exclamation without ¡: \"{s}\""));
                }
            }
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BrandVoice;
    use crate::brief::Length;

    fn brief(topic: &str, lang: Language) -> Brief {
        let mut b = Brief::new(topic);
        b.language = lang;
        b
    }

    #[test]
    fn hashtags_are_normalised_completed_and_moved_to_the_end() {
        let mut b = brief("specialty coffee", Language::En);
        b.length = Length::Short;
        b.hashtags = 3;
        let out = conform(
            &b,
            "Love our #CaféDeOrigen mornings ☕ What is your favourite brew this week? Tell us below.\n#coffee #Coffee",
        );
        assert!(check(&b, &out).is_empty(), "{out}\n{:?}", check(&b, &out));
        let last = out.lines().last().unwrap();
        assert_eq!(last, "#CafeDeOrigen #Coffee #SpecialtyCoffee", "{out}");
        assert!(out.contains("Love our CaféDeOrigen mornings"));
        b.hashtags = 0;
        let out = conform(
            &b,
            "Our coffee is great and you can taste it in every cup you order. #coffee",
        );
        assert!(!out.contains('#'), "{out}");
    }

    #[test]
    fn emoji_and_avoided_words() {
        let mut b = brief("pan artesano", Language::Es);
        b.length = Length::Short;
        b.emoji = false;
        b.brand_voice = Some(BrandVoice {
            name: None,
            use_words: vec!["hecho a mano".into()],
            avoid_words: vec!["barato".into()],
        });
        let out = conform(
            &b,
            "Nuestro pan 🥖 es rico y barato. Qué te parece? Ven a probarlo 😊 #PanBarato #Rico",
        );
        let problems = check(&b, &out);
        assert!(problems.is_empty(), "{out}\n{problems:?}");
        assert!(!text::fold(&out).contains("barato"), "{out}");
        assert!(out.contains("¿Qué te parece?"), "{out}");
        assert!(out.contains("hecho a mano"), "{out}");
        assert!(
            out.starts_with("Nuestro pan es rico. ¿Qué te parece? Ven a probarlo"),
            "{out}"
        );
        assert!(out.ends_with("#Rico #PanArtesano"), "{out}");
        b.emoji = true;
        let out = conform(
            &b,
            "Nuestro pan es rico y lo hacemos cada día con harina de aquí. ¿Qué te parece?",
        );
        assert_eq!(text::emoji_list(&out).len(), 1, "{out}");
        let out = conform(
            &b,
            "Pan 🥖🥖🥖🥖🥖🥖 rico, hecho a mano cada mañana en nuestro horno. ¿Lo pruebas?",
        );
        assert!(text::emoji_list(&out).len() <= 3, "{out}");
    }

    #[test]
    fn too_long_posts_lose_body_sentences_not_the_essentials() {
        let mut b = brief("remote work", Language::En);
        b.length = Length::Short;
        b.cta = Some(Cta::Url("https://example.com/guide".into()));
        let long = "Remote work is changing how teams collaborate every single day. \
            Here is one more sentence about it. And another long sentence that adds detail nobody needs. \
            Yet another filler sentence to push the length well beyond the limit for short posts.\n\
            What do you think about remote work?";
        let out = conform(&b, long);
        assert!(check(&b, &out).is_empty(), "{out}\n{:?}", check(&b, &out));
        assert!(out.starts_with("Remote work is changing"));
        assert!(out.contains("https://example.com/guide"));
    }

    #[test]
    fn check_reports_each_problem() {
        let mut b = brief("coffee", Language::Es);
        b.hashtags = 1;
        b.emoji = false;
        b.brand_voice = Some(BrandVoice {
            name: None,
            use_words: vec!["origen".into()],
            avoid_words: vec!["barato".into()],
        });
        let p = check(&b, "Like if you love cheap coffee!! 😊 Barato? #a-b #x");
        let all = p.join("\n");
        for needle in [
            "expected 1 hashtags",
            "malformed hashtag",
            "emoji are off",
            "avoid \"barato\"",
            "brand word \"origen\"",
            "characters, outside",
            "engagement bait",
            "stacked",
            "written in en",
            "question without ¿",
        ] {
            assert!(all.contains(needle), "{needle}: {all}");
        }
        assert!(check(&b, "  ").len() == 1);
    }
}
