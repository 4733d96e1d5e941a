//! Engagement bait, as Facebook defines it (News Feed update, December
//! 2017): posts that goad people into interacting. Facebook demotes them,
//! and Pages that use them repeatedly lose reach. Five kinds:
//!
//! * react baiting: "Like if you agree", "dale like si…", "❤️ if…"
//! * comment baiting: "Comment YES if…", "comenta SÍ si…", "type AMEN"
//! * share baiting: "Share if…", "share with 10 friends", "comparte si…"
//! * tag baiting: "Tag a friend who…", "etiqueta a un amigo"
//! * vote baiting: "Vote with reactions: 😍 for A, 😂 for B", "vota con…"
//!
//! Matching is on folded text (case and accents ignored: "COMENTA SÍ",
//! "comenta si" and "Comenta sí" are the same), with the phrase matcher in
//! [`crate::pattern`]. A call to action is *not* bait: "Share your
//! thoughts", "comparte tu opinión" or "tell us in the comments" ask for a
//! genuine response and are handled by [`crate::cta`].

use crate::pattern::{self, Match};
use crate::scoring::Signal;
use crate::text::Doc;
use crate::{Language, round3};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BaitKind {
    React,
    Comment,
    Share,
    Tag,
    Vote,
}

impl BaitKind {
    pub fn label(self, lang: Language) -> &'static str {
        match (lang, self) {
            (Language::En, BaitKind::React) => "react baiting",
            (Language::En, BaitKind::Comment) => "comment baiting",
            (Language::En, BaitKind::Share) => "share baiting",
            (Language::En, BaitKind::Tag) => "tag baiting",
            (Language::En, BaitKind::Vote) => "vote baiting",
            (Language::Es, BaitKind::React) => "cebo de reacciones",
            (Language::Es, BaitKind::Comment) => "cebo de comentarios",
            (Language::Es, BaitKind::Share) => "cebo de compartidos",
            (Language::Es, BaitKind::Tag) => "cebo de etiquetas",
            (Language::Es, BaitKind::Vote) => "cebo de votos",
        }
    }
}

/// One bait phrase found in the post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BaitMatch {
    pub kind: BaitKind,
    /// The matched text, as written.
    pub text: String,
    /// Token range in the [`Doc`] (not serialised).
    #[serde(skip)]
    pub tokens: (usize, usize),
}

use BaitKind::{Comment, React, Share, Tag, Vote};

/// Bait phrases, English and Spanish (folded; syntax in [`crate::pattern`]).
pub const PATTERNS: &[(BaitKind, &str)] = &[
    // --- react baiting
    (React, "like if"),
    (React, "like this if"),
    (React, "like this post if"),
    (React, "like this status if"),
    (React, "hit like"),
    (React, "hit the like"),
    (React, "hit that like"),
    (React, "smash like"),
    (React, "smash the like"),
    (React, "smash that like"),
    (React, "press like"),
    (React, "click like"),
    (React, "leave a like"),
    (React, "drop a like"),
    (React, "give this a like"),
    (React, "give it a like"),
    (React, "give us a like if"),
    (React, "double tap if"),
    (React, "react if"),
    (React, "react with"),
    (React, "react <e>"),
    (React, "react to this if"),
    (React, "<e> if you agree|love|like|support|remember"),
    (React, "<n> like ="),
    (React, "one like ="),
    (React, "like = ~"),
    (React, "dale like"),
    (React, "dale un like"),
    (React, "dale me gusta"),
    (React, "dale a me gusta"),
    (React, "dale al me gusta"),
    (React, "dale amor"),
    (React, "dale <e> si"),
    (React, "like si"),
    (React, "me gusta si"),
    (React, "deja tu like"),
    (React, "deja un like"),
    (React, "regalame un like"),
    (React, "regala un like"),
    (React, "un like si"),
    (React, "un like ="),
    (React, "<n> me gusta ="),
    (React, "reacciona con"),
    (React, "reacciona si"),
    (React, "reacciona <e>"),
    (React, "<e> si estas de acuerdo"),
    (React, "<e> si te gusta|gustan|encanta|encantan"),
    (React, "<e> si amas|apoyas|recuerdas|eres"),
    (React, "hit|tap|drop <e> if"),
    // --- comment baiting
    (Comment, "comment ~ if"),
    (Comment, "comment yes|amen|no $"),
    (Comment, "comment with a|an <e>"),
    (Comment, "comment with <e>"),
    (Comment, "comment your name"),
    (Comment, "type ~ if"),
    (Comment, "type yes|amen|done"),
    (Comment, "type ~ to|and"),
    (Comment, "type ~ in|below"),
    (Comment, "comment ~ and|to|for"),
    (Comment, "say yes|amen if"),
    (Comment, "say amen"),
    (Comment, "write ~ if"),
    (Comment, "reply ~ if"),
    (Comment, "reply with <e>"),
    (Comment, "answer yes|no if"),
    (Comment, "drop a|an <e>"),
    (Comment, "drop <e>"),
    (Comment, "leave a|an <e>"),
    (Comment, "comenta ~ si"),
    (Comment, "comenta amen"),
    (Comment, "comenta con un|una <e>"),
    (Comment, "comenta con <e>"),
    (Comment, "comenta tu nombre"),
    (Comment, "escribe ~ si"),
    (Comment, "escribe amen"),
    (Comment, "escribe si $"),
    (Comment, "escribe tu nombre"),
    (Comment, "escribe ~ en"),
    (Comment, "comenta ~ y|para"),
    (Comment, "pon ~ si"),
    (Comment, "pon un|una <e>"),
    (Comment, "deja un|una|tu <e>"),
    (Comment, "responde ~ si"),
    (Comment, "di ~ si"),
    (Comment, "di amen"),
    // --- share baiting
    (Share, "share if"),
    (Share, "share this if"),
    (Share, "share it if"),
    (Share, "share this post if"),
    (Share, "share this with"),
    (Share, "share with ~ friend*|everyone|family|people"),
    (Share, "share with your friend*|family|loved"),
    (Share, "share with everyone|all"),
    (Share, "share to win|enter"),
    (Share, "share for a chance"),
    (Share, "share so"),
    (Share, "share to challenge|tag|help"),
    (Share, "react and share"),
    (Share, "you|who don't|dont|doesn't|doesnt share"),
    (Share, "without sharing"),
    (Share, "like share"),
    (Share, "like and share"),
    (Share, "like comment and share"),
    (Share, "like comment share"),
    (Share, "share and tag"),
    (Share, "please share $"),
    (Share, "pls|plz share"),
    (Share, "share share"),
    (Share, "share this now|everywhere"),
    (Share, "share before"),
    (Share, "make this go viral"),
    (Share, "help this go viral"),
    (Share, "repost if"),
    (Share, "copy and paste"),
    (Share, "<n> share ="),
    (Share, "comparte si"),
    (Share, "compartir si"),
    (Share, "comparte esto si"),
    (Share, "comparte esto $"),
    (Share, "comparte este post|mensaje|video"),
    (Share, "comparte esta publicacion|imagen|foto"),
    (
        Share,
        "compartelo|compartela|compartanlo|compartanla|compartilo",
    ),
    (Share, "comparte con tus|todos|todas"),
    (Share, "comparte con ~ amigos|amigas|personas|contactos"),
    (Share, "comparte para ganar|participar|concursar|retar|que"),
    (Share, "reacciona y comparte"),
    (
        Share,
        "si|que no compartes|comparte|comparten|lo comparten|lo compartes",
    ),
    (Share, "like y comparte"),
    (Share, "comenta y comparte"),
    (Share, "comparte y etiqueta|comenta"),
    (Share, "por favor comparte"),
    (Share, "porfa|porfavor comparte"),
    (Share, "comparte comparte"),
    (Share, "hazlo viral"),
    (Share, "hagamoslo viral"),
    (Share, "copia y pega"),
    // --- tag baiting
    (Tag, "tag a|someone|somebody|whoever|ur"),
    (
        Tag,
        "tag your friend*|bff|bestie|mom|dad|partner|sister|brother|family",
    ),
    (Tag, "tag <n>"),
    (Tag, "tag ~ friend*|person|people"),
    (Tag, "tag that friend|person"),
    (Tag, "tag them"),
    (Tag, "mention a friend"),
    (Tag, "mention someone"),
    (Tag, "etiqueta a|al|alguien"),
    (Tag, "etiqueta tu|tus amig*"),
    (Tag, "etiqueta <n>"),
    (Tag, "etiquetalo|etiquetala|etiquetalos|etiquetalas"),
    (Tag, "menciona a|al|alguien"),
    (Tag, "menciona tu|tus amig*"),
    (Tag, "arroba a"),
    (Tag, "taguea|tagea a"),
    // --- vote baiting (explicit)
    (Vote, "vote with|using"),
    (Vote, "vote by reacting"),
    (Vote, "vote in the reactions"),
    (Vote, "react to vote"),
    (Vote, "vota con|usando|reaccionando"),
    (Vote, "vota en las reacciones"),
    (Vote, "reacciona para votar"),
];

/// One option of a reaction vote ("😍 for A", "❤️ = B", "like para C");
/// two or more in a post make it vote baiting.
pub const VOTE_ITEMS: &[&str] = &[
    "<e> for|= *",
    "<e> para *",
    "like|love|haha|wow|sad|angry|care for|= *",
    "me gusta|encanta|divierte|asombra|entristece|enoja|importa para|= *",
];

/// All engagement-bait phrases in a post.
pub fn find(doc: &Doc<'_>) -> Vec<BaitMatch> {
    let to_bait = |m: Match<BaitKind>| BaitMatch {
        kind: m.tag,
        text: doc.span_text(m.start, m.end).to_string(),
        tokens: (m.start, m.end),
    };
    let mut out: Vec<BaitMatch> = pattern::find_all(doc, &crate::patterns!(PATTERNS))
        .into_iter()
        .map(to_bait)
        .collect();
    let items = pattern::find_all(doc, &crate::patterns!(untagged VOTE_ITEMS));
    if items.len() >= 2 {
        let (s, e) = (items[0].start, items[items.len() - 1].end);
        if !out.iter().any(|b| b.kind == Vote) {
            out.push(BaitMatch {
                kind: Vote,
                text: doc.span_text(s, e).to_string(),
                tokens: (s, e),
            });
        }
    }
    out.sort_by_key(|b| b.tokens.0);
    // "React with ❤️ if you agree" is one request, not two: merge adjacent
    // matches of the same kind.
    let mut merged: Vec<BaitMatch> = Vec::with_capacity(out.len());
    for m in out {
        match merged.last_mut() {
            Some(prev) if prev.kind == m.kind && m.tokens.0 <= prev.tokens.1 + 1 => {
                prev.tokens.1 = prev.tokens.1.max(m.tokens.1);
                prev.text = doc.span_text(prev.tokens.0, prev.tokens.1).to_string();
            }
            _ => merged.push(m),
        }
    }
    merged
}

/// [`find`] on raw text.
pub fn find_in(text: &str) -> Vec<BaitMatch> {
    find(&Doc::new(text))
}

/// 0..=1: no bait 1.0, one phrase 0.2, more 0.
pub fn score(matches: &[BaitMatch]) -> f64 {
    match matches.len() {
        0 => 1.0,
        1 => 0.2,
        _ => 0.0,
    }
}

/// Multiplier applied to the whole score: Facebook demotes the post, not
/// just one aspect of it. One phrase ×0.85, two or more ×0.7.
pub fn penalty_multiplier(matches: &[BaitMatch]) -> f64 {
    match matches.len() {
        0 => 1.0,
        1 => 0.85,
        _ => 0.7,
    }
}

pub fn signal(matches: &[BaitMatch], lang: Language) -> Signal {
    let detail = if matches.is_empty() {
        tr!(lang, "No engagement bait.", "Sin cebos de interacción.")
    } else {
        let list = matches
            .iter()
            .take(3)
            .map(|m| format!("\"{}\" ({})", m.text, m.kind.label(lang)))
            .collect::<Vec<_>>()
            .join(", ");
        tr!(
            lang,
            "Engagement bait: {list}. Facebook demotes posts that goad people into reacting, commenting, sharing, tagging or voting.",
            "Cebo de interacción: {list}. Facebook reduce el alcance de las publicaciones que piden reaccionar, comentar, compartir, etiquetar o votar a cambio de nada."
        )
    };
    Signal::new("engagement_bait", round3(score(matches)), detail)
}

pub fn suggestion(matches: &[BaitMatch], lang: Language) -> Option<String> {
    let m = matches.first()?;
    let text = &m.text;
    if matches.len() > 1 {
        let list = matches
            .iter()
            .take(4)
            .map(|m| m.text.as_str())
            .collect::<Vec<_>>();
        return Some(match lang {
            Language::En => format!(
                "Remove the engagement bait (\"{}\"): Facebook demotes posts that ask for likes, shares, tags or specific comments. Ask one genuine question instead, e.g. \"Which one would you choose, and why?\"",
                list.join("\", \"")
            ),
            Language::Es => format!(
                "Quita el cebo de interacción («{}»): Facebook penaliza las publicaciones que piden me gusta, compartir, etiquetar o comentarios concretos. Haz una sola pregunta genuina, p. ej. «¿Cuál elegirías y por qué?»",
                list.join("», «")
            ),
        });
    }
    Some(match m.kind {
        React | Vote => tr!(
            lang,
            "Remove \"{text}\": asking for reactions or reaction votes is engagement bait and Facebook demotes it. Ask a genuine question instead, e.g. \"Which one would you choose, and why?\"",
            "Quita «{text}»: pedir reacciones o votos con reacciones es cebo de interacción y Facebook lo penaliza. Haz una pregunta genuina, p. ej. «¿Cuál elegirías y por qué?»"
        ),
        Comment => tr!(
            lang,
            "Replace \"{text}\" with an open question: asking for a specific word or emoji in the comments is engagement bait. E.g. \"What's your experience with this?\"",
            "Cambia «{text}» por una pregunta abierta: pedir una palabra o un emoji concreto en los comentarios es cebo de interacción. P. ej. «¿Cuál es tu experiencia con esto?»"
        ),
        Share => tr!(
            lang,
            "Remove \"{text}\": asking people to share is engagement bait. Give them a reason to share instead (a useful tip, a surprising fact).",
            "Quita «{text}»: pedir que compartan es cebo de interacción. Dales un motivo para compartir (un consejo útil, un dato sorprendente)."
        ),
        Tag => tr!(
            lang,
            "Remove \"{text}\": tag baiting is demoted by Facebook. If the post is useful, people will tag friends on their own.",
            "Quita «{text}»: Facebook penaliza pedir etiquetas. Si la publicación es útil, la gente etiquetará a sus amigos por sí sola."
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<BaitKind> {
        find_in(text).into_iter().map(|m| m.kind).collect()
    }

    #[test]
    fn english_bait() {
        assert_eq!(kinds("LIKE if you love summer!"), vec![React]);
        assert_eq!(kinds("React with ❤️ if you agree"), vec![React]);
        assert_eq!(
            kinds("Comment \"YES\" if you want the recipe"),
            vec![Comment]
        );
        assert_eq!(kinds("Type AMEN if you believe"), vec![Comment]);
        assert_eq!(kinds("Share this with 10 friends"), vec![Share]);
        assert_eq!(kinds("share if you care"), vec![Share]);
        assert_eq!(kinds("Tag a friend who needs this"), vec![Tag]);
        assert_eq!(kinds("tag 3 friends to enter"), vec![Tag]);
        assert_eq!(kinds("Vote with reactions: 😍 for A, 😂 for B"), vec![Vote]);
        assert_eq!(kinds("Which one? 😍 for pizza, 😂 for tacos"), vec![Vote]);
        assert_eq!(kinds("1 like = 1 prayer"), vec![React]);
    }

    #[test]
    fn spanish_bait_with_accent_and_case_variants() {
        for text in [
            "Comenta SÍ si estás de acuerdo",
            "comenta si si estas de acuerdo",
            "COMENTA \"Sí\" SI ESTÁS DE ACUERDO",
        ] {
            assert_eq!(kinds(text), vec![Comment], "{text}");
        }
        assert_eq!(kinds("Etiqueta a un amigo que necesita esto"), vec![Tag]);
        assert_eq!(kinds("ETIQUÉTALO ya"), vec![Tag]);
        assert_eq!(kinds("Comparte si te gustó"), vec![Share]);
        assert_eq!(kinds("Compártelo con quien lo necesite"), vec![Share]);
        assert_eq!(kinds("Dale like si eres de Madrid"), vec![React]);
        assert_eq!(kinds("Dale ME GUSTA si amas el café"), vec![React]);
        assert_eq!(
            kinds("Vota con reacciones: ❤️ para café, 😮 para té"),
            vec![Vote]
        );
        assert_eq!(kinds("😍 para la playa, 😂 para la montaña"), vec![Vote]);
    }

    #[test]
    fn benign_text_is_not_bait() {
        for text in [
            "Share your thoughts in the comments",
            "Comparte tu opinión en los comentarios",
            "Tell us what you think below",
            "Cuéntanos qué opinas",
            "We'd like to see you at the event",
            "Comment below if you have any questions",
            "Comenta si tienes dudas sobre el pedido",
            "Share with us your favourite recipe",
            "Tag us in your photos with #MiCafe",
            "Etiquétanos en tus fotos",
            "Like what you see? Book a table today.",
            "Me gusta mucho este lugar",
            "Visit our website to vote for the best design",
            "🎉 Si quieres saber más, visita nuestra web",
            "I would like for you to come",
            "Please share your feedback with our team",
            "Escribe tu opinión y la leeremos",
        ] {
            assert!(
                find_in(text).is_empty(),
                "false positive on {text:?}: {:?}",
                find_in(text)
            );
        }
    }

    #[test]
    fn keeps_original_text_and_penalises() {
        let m = find_in("Pizza night 🍕 ¡Comenta SÍ si quieres la receta!");
        assert_eq!(m[0].text, "Comenta SÍ si");
        assert!(score(&m) < 0.5);
        assert!(penalty_multiplier(&m) < 1.0);
        assert_eq!(score(&[]), 1.0);
    }
}
