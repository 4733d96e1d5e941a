//! Length fit: how well the post's length suits Facebook and its post type.
//!
//! Sources (see SCORING.md): Jeff Bullas' study of retail brand pages found
//! posts of 40–80 characters got 86% more engagement than longer ones, and
//! posts of 80 characters or less 66% more (widely relayed since, e.g. by
//! Hootsuite and Buffer); BuzzSumo's analysis of ~800M Facebook posts (2017)
//! likewise found the shortest posts earned the most engagement. Facebook's
//! feed truncates text behind "See more" after roughly 125 characters on
//! mobile and ~480 on desktop. Captions of photos and videos, and text that
//! introduces a link (whose preview carries the message), can be longer.
//!
//! Length is counted in chars, excluding links (Facebook replaces a link by
//! its preview card once it loads).

use crate::scoring::Signal;
use crate::{Language, PostType, round3};

/// (chars, score) breakpoints, linearly interpolated.
fn curve(post_type: PostType) -> &'static [(f64, f64)] {
    match post_type {
        PostType::Status => &[
            (0.0, 0.2),
            (15.0, 0.55),
            (40.0, 1.0),
            (80.0, 1.0),
            (150.0, 0.85),
            (250.0, 0.7),
            (500.0, 0.5),
            (1000.0, 0.3),
            (2000.0, 0.15),
            (63_206.0, 0.05),
        ],
        PostType::Photo | PostType::Video => &[
            (0.0, 0.45),
            (15.0, 0.7),
            (40.0, 1.0),
            (125.0, 1.0),
            (250.0, 0.85),
            (500.0, 0.65),
            (1000.0, 0.4),
            (2000.0, 0.2),
            (63_206.0, 0.05),
        ],
        PostType::Link => &[
            (0.0, 0.4),
            (15.0, 0.6),
            (40.0, 1.0),
            (150.0, 1.0),
            (300.0, 0.8),
            (600.0, 0.55),
            (1200.0, 0.3),
            (2500.0, 0.15),
            (63_206.0, 0.05),
        ],
    }
}

/// The ideal range in chars for a post type.
pub fn ideal_range(post_type: PostType) -> (usize, usize) {
    match post_type {
        PostType::Status => (40, 80),
        PostType::Photo | PostType::Video => (40, 125),
        PostType::Link => (40, 150),
    }
}

/// 0..=1 for a post of `chars` chars (links excluded).
pub fn score(chars: usize, post_type: PostType) -> f64 {
    let x = chars as f64;
    let pts = curve(post_type);
    for w in pts.windows(2) {
        let ((x0, y0), (x1, y1)) = (w[0], w[1]);
        if x <= x1 {
            return y0 + (y1 - y0) * ((x - x0) / (x1 - x0)).clamp(0.0, 1.0);
        }
    }
    pts[pts.len() - 1].1
}

fn type_name(post_type: PostType, lang: Language) -> &'static str {
    match (lang, post_type) {
        (Language::En, PostType::Status) => "a text post",
        (Language::En, PostType::Photo) => "a photo caption",
        (Language::En, PostType::Video) => "a video caption",
        (Language::En, PostType::Link) => "a link post",
        (Language::Es, PostType::Status) => "una publicación de texto",
        (Language::Es, PostType::Photo) => "el texto de una foto",
        (Language::Es, PostType::Video) => "el texto de un vídeo",
        (Language::Es, PostType::Link) => "una publicación con enlace",
    }
}

pub fn signal(chars: usize, post_type: PostType, lang: Language) -> Signal {
    let (lo, hi) = ideal_range(post_type);
    let kind = type_name(post_type, lang);
    let detail = if chars < lo {
        tr!(
            lang,
            "{chars} characters: short for {kind} (ideal {lo}–{hi}).",
            "{chars} caracteres: corto para {kind} (ideal {lo}–{hi})."
        )
    } else if chars <= hi {
        tr!(
            lang,
            "{chars} characters: ideal for {kind} ({lo}–{hi}).",
            "{chars} caracteres: ideal para {kind} ({lo}–{hi})."
        )
    } else {
        tr!(
            lang,
            "{chars} characters: long for {kind} (ideal {lo}–{hi}); most readers only see the first ~125 before \"See more\".",
            "{chars} caracteres: largo para {kind} (ideal {lo}–{hi}); la mayoría solo ve los primeros ~125 antes de «Ver más»."
        )
    };
    Signal::new("length", round3(score(chars, post_type)), detail)
}

pub fn suggestion(chars: usize, post_type: PostType, lang: Language) -> Option<String> {
    if score(chars, post_type) >= 0.75 {
        return None;
    }
    let (lo, hi) = ideal_range(post_type);
    Some(if chars < lo {
        tr!(
            lang,
            "Say a bit more: add one concrete detail or benefit so the post reaches {lo}–{hi} characters.",
            "Cuenta un poco más: añade un detalle concreto o un beneficio para llegar a {lo}–{hi} caracteres."
        )
    } else {
        tr!(
            lang,
            "Trim it: {chars} characters is long for Facebook. Keep the key message in {lo}–{hi} characters and move details to a comment or a link.",
            "Acórtalo: {chars} caracteres es mucho para Facebook. Deja el mensaje clave en {lo}–{hi} caracteres y lleva los detalles a un comentario o un enlace."
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweet_spot_per_type() {
        assert_eq!(score(60, PostType::Status), 1.0);
        assert!(score(10, PostType::Status) < score(50, PostType::Status));
        assert!(score(400, PostType::Status) < score(80, PostType::Status));
        assert!(score(3000, PostType::Status) < score(400, PostType::Status));
        // Captions and link posts may be longer than a status.
        assert!(score(120, PostType::Photo) > score(120, PostType::Status));
        assert!(score(140, PostType::Link) > score(140, PostType::Status));
        assert!(score(63_206, PostType::Status) > 0.0);
        assert!(score(100_000, PostType::Status) > 0.0);
    }
}
