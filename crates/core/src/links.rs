//! Links: extraction and the link signal.
//!
//! Facebook's News Feed guidance favours link *posts* (one link, shown as a
//! preview card) and has repeatedly demoted low-quality link behaviour:
//! several links in one post read as spam, and cloaked/shortened URLs are a
//! known signal of it. One link is fine (ideal for a link post); each extra
//! link costs more. In a photo or video post a link pulls people away from
//! the media, so it is tolerated less.

use crate::scoring::Signal;
use crate::text::{Doc, TokKind};
use crate::{Language, PostType, round3};

/// URL shorteners (a cloaking signal).
const SHORTENERS: &[&str] = &[
    "bit.ly",
    "buff.ly",
    "cutt.ly",
    "goo.gl",
    "is.gd",
    "ow.ly",
    "rb.gy",
    "t.co",
    "tinyurl.com",
];

/// The links in a post, as written.
pub fn extract<'a>(doc: &Doc<'a>) -> Vec<&'a str> {
    doc.of_kind(TokKind::Link).map(|t| t.raw).collect()
}

/// Is this link a known URL shortener?
pub fn is_shortened(link: &str) -> bool {
    let l = link.to_ascii_lowercase();
    let l = l
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_start_matches("www.");
    let host = l.split(['/', '?', '#']).next().unwrap_or("");
    SHORTENERS.contains(&host)
}

/// 0..=1 for `count` links (of which `shortened` use a shortener).
pub fn score(count: usize, shortened: usize, post_type: PostType) -> f64 {
    let base: f64 = match (post_type, count) {
        (PostType::Link, 0) => 0.85,
        (PostType::Link, 1) => 1.0,
        (PostType::Link, 2) => 0.55,
        (PostType::Status, 0) => 1.0,
        (PostType::Status, 1) => 0.85,
        (PostType::Status, 2) => 0.5,
        (PostType::Photo | PostType::Video, 0) => 1.0,
        (PostType::Photo | PostType::Video, 1) => 0.8,
        (PostType::Photo | PostType::Video, 2) => 0.45,
        (_, n) => (0.25 - 0.05 * (n as f64 - 3.0)).max(0.05),
    };
    (base - if shortened > 0 { 0.1 } else { 0.0 }).max(0.0)
}

pub fn signal(links: &[&str], post_type: PostType, lang: Language) -> Signal {
    let n = links.len();
    let short = links.iter().filter(|l| is_shortened(l)).count();
    let s = score(n, short, post_type);
    let mut detail = match n {
        0 => tr!(lang, "No links in the text.", "Sin enlaces en el texto."),
        1 => tr!(lang, "One link: fine.", "Un enlace: correcto."),
        n => tr!(
            lang,
            "{n} links: Facebook treats several links in one post as low quality; keep one.",
            "{n} enlaces: Facebook considera de baja calidad varios enlaces en una publicación; deja uno."
        ),
    };
    if short > 0 {
        detail.push(' ');
        detail.push_str(&tr!(
            lang,
            "Shortened links hide the destination and can look like spam.",
            "Los enlaces acortados ocultan el destino y pueden parecer spam."
        ));
    }
    Signal::new("links", round3(s), detail)
}

pub fn suggestion(links: &[&str], post_type: PostType, lang: Language) -> Option<String> {
    let n = links.len();
    let short = links.iter().filter(|l| is_shortened(l)).count();
    if score(n, short, post_type) >= 0.75 {
        return None;
    }
    Some(if n >= 2 {
        tr!(
            lang,
            "Keep a single link ({n} now): pick the most important one and let Facebook show its preview.",
            "Deja un solo enlace (ahora hay {n}): elige el más importante y deja que Facebook muestre su vista previa."
        )
    } else if short > 0 {
        tr!(
            lang,
            "Use the full link instead of a shortener so people can see where it goes.",
            "Usa el enlace completo en lugar de un acortador para que se vea a dónde lleva."
        )
    } else {
        tr!(
            lang,
            "In a photo or video post, move the link to the first comment so the media keeps the attention.",
            "En una publicación con foto o vídeo, pasa el enlace al primer comentario para que el contenido visual mantenga la atención."
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn more_links_score_lower() {
        for pt in PostType::ALL {
            assert!(score(1, 0, pt) > score(2, 0, pt));
            assert!(score(2, 0, pt) > score(3, 0, pt));
            assert!(score(3, 0, pt) >= score(6, 0, pt));
        }
        assert!(score(1, 0, PostType::Link) > score(1, 0, PostType::Status));
        assert!(score(0, 0, PostType::Status) > score(1, 0, PostType::Status));
        assert!(score(1, 1, PostType::Link) < score(1, 0, PostType::Link));
    }

    #[test]
    fn extracts_and_detects_shorteners() {
        let d = Doc::new("Read https://bit.ly/abc and www.example.org/x or example.com.");
        let l = extract(&d);
        assert_eq!(
            l,
            vec!["https://bit.ly/abc", "www.example.org/x", "example.com"]
        );
        assert!(is_shortened(l[0]));
        assert!(!is_shortened(l[1]));
    }
}
