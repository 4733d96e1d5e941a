//! The brief's `details` — the facts a post is about (offer, product,
//! date, place, price, link) — and how the template engine builds a post
//! around them: each detail is classified with core's substance detector,
//! the most striking one opens the post ([`DETAIL_HOOKS_ES`] /
//! [`DETAIL_HOOKS_EN`]), the others follow as labelled lines ("Cuándo: …",
//! "Where: …"), and a link among them becomes the call to action's link.
//! Every detail is carried verbatim ([`contains_detail`]); the checks in
//! `conform.rs` enforce it whoever wrote the post.
//!
//! A brief without details can only produce generic posts: [`generic_notice`]
//! says so, in the brief's language, and suggests what to add.

use crate::brief::{Brief, Goal};
use crate::structure::HookStyle;
use crate::text::capitalize;
use fbposts_core::Language;
use fbposts_core::text::Doc;
use serde::Serialize;

/// What a detail is, by the facts core finds in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DetailKind {
    /// A price, discount or free offer ("12 €", "2x1", "30% off").
    Offer,
    /// A date or time ("sábado 14 de junio, 11:00", "Saturday 10am").
    Date,
    /// Anything else: a product, a name, a number ("Etiopía Yirgacheffe").
    Other,
    /// An address or venue ("Calle Luna 5", "Elm Street studio").
    Place,
    /// A URL (becomes the call to action's link).
    Link,
}

/// A classified detail, verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detail {
    pub text: String,
    pub kind: DetailKind,
}

/// Is this detail a bare URL?
fn is_url(text: &str) -> bool {
    !text.contains(' ') && crate::text::is_link(text)
}

/// Classifies one detail (most striking kind first: offer, date, other,
/// place, link).
pub fn classify(text: &str, lang: Language) -> DetailKind {
    if is_url(text) {
        return DetailKind::Link;
    }
    let doc = Doc::new(text);
    let s = fbposts_core::substance::measure(&doc, lang, 0, 0);
    if s.offers > 0 {
        DetailKind::Offer
    } else if s.dates > 0 || s.relative_dates > 0 {
        DetailKind::Date
    } else if s.places > 0 {
        DetailKind::Place
    } else {
        DetailKind::Other
    }
}

/// The brief's details, classified, most striking first (stable within a
/// kind: the client's order).
pub fn classified(brief: &Brief) -> Vec<Detail> {
    let mut out: Vec<Detail> = brief
        .details
        .iter()
        .map(|d| Detail {
            text: d.clone(),
            kind: classify(d, brief.language),
        })
        .collect();
    out.sort_by_key(|d| d.kind);
    out
}

/// The first link among the details (used as the call to action's link
/// when the brief's `cta` is not a URL).
pub fn link(brief: &Brief) -> Option<&str> {
    brief.details.iter().map(String::as_str).find(|d| is_url(d))
}

/// Does `text` carry `detail` verbatim (its first letter may have been
/// capitalised at the start of a line)?
pub fn contains_detail(text: &str, detail: &str) -> bool {
    text.contains(detail) || text.contains(&capitalize(detail))
}

/// Hooks that open with the most striking detail (`{d}` verbatim, `{D}`
/// with its first letter capitalised), by hook style. Openings differ in
/// their first words so drafts of one response never share one.
pub const DETAIL_HOOKS_ES: &[(HookStyle, &str)] = &[
    (HookStyle::Question, "¿Te lo vas a perder? {D}."),
    (HookStyle::Question, "¿Tienes planes? {D}: {topic}."),
    (HookStyle::Question, "¿Ya te has enterado? {D}."),
    (HookStyle::Number, "{D}: {topic}."),
    (HookStyle::Number, "Apunta: {d}."),
    (HookStyle::Statement, "Novedad sobre {topic}: {d}."),
    (HookStyle::Statement, "Lo que esperabas: {d}."),
    (HookStyle::Statement, "Confirmado: {d}."),
    (HookStyle::Reader, "Esto te interesa: {d}."),
    (HookStyle::Reader, "Para ti, que buscas {topic}: {d}."),
    (HookStyle::HowTo, "Así de fácil: {d}."),
    (HookStyle::HowTo, "Todo lo que necesitas saber: {d}."),
];

pub const DETAIL_HOOKS_EN: &[(HookStyle, &str)] = &[
    (HookStyle::Question, "Ready for this? {D}."),
    (HookStyle::Question, "Got plans? {D}: {topic}."),
    (HookStyle::Question, "Have you heard? {D}."),
    (HookStyle::Number, "{D}: {topic}."),
    (HookStyle::Number, "Mark this down: {d}."),
    (HookStyle::Statement, "News on {topic}: {d}."),
    (HookStyle::Statement, "It's here: {d}."),
    (HookStyle::Statement, "Confirmed: {d}."),
    (HookStyle::Reader, "This one's for you: {d}."),
    (HookStyle::Reader, "If you're into {topic}, note this: {d}."),
    (HookStyle::HowTo, "Here's the plan: {d}."),
    (HookStyle::HowTo, "Everything you need to know: {d}."),
];

pub fn hooks(lang: Language) -> &'static [(HookStyle, &'static str)] {
    match lang {
        Language::Es => DETAIL_HOOKS_ES,
        Language::En => DETAIL_HOOKS_EN,
    }
}

/// A sentence ending: a period unless the text already ends with
/// punctuation or a link.
fn end_sentence(text: &str) -> String {
    if text.ends_with(['.', '!', '?', '…', ':'])
        || is_url(text.split(' ').next_back().unwrap_or(""))
    {
        text.to_string()
    } else {
        format!("{text}.")
    }
}

/// Fills a detail hook with the striking detail and the topic.
pub fn fill_hook(tpl: &str, detail: &str, topic: &str) -> String {
    let text = tpl
        .replace("{D}", &capitalize(detail))
        .replace("{d}", detail)
        .replace("{topic}", topic);
    // A detail that ends with its own punctuation or a link keeps it.
    let doubled = ["..", "?.", "!.", "…."];
    let mut text = text;
    for d in doubled {
        text = text.replace(d, &d[..d.len() - 1]);
    }
    text
}

/// Is this offer a deal (discount, free, 2-for-1) rather than a price?
fn is_deal(text: &str) -> bool {
    let f = crate::text::fold(text);
    [
        "%",
        "gratis",
        "free",
        "2x1",
        "3x2",
        " off",
        "descuento",
        "oferta",
        "deal",
        "promo",
    ]
    .iter()
    .any(|w| f.contains(w))
}

/// The labelled line for one detail ("Cuándo: sábado 14 de junio.").
pub fn line(d: &Detail, lang: Language) -> String {
    let deal = d.kind == DetailKind::Offer && is_deal(&d.text);
    let label = match (lang, d.kind) {
        (Language::Es, DetailKind::Offer) if deal => "Oferta",
        (Language::En, DetailKind::Offer) if deal => "Offer",
        (Language::Es, DetailKind::Offer) => "Precio",
        (Language::Es, DetailKind::Date) => "Cuándo",
        (Language::Es, DetailKind::Place) => "Dónde",
        (Language::Es, DetailKind::Link) => "Más información",
        (Language::En, DetailKind::Offer) => "Price",
        (Language::En, DetailKind::Date) => "When",
        (Language::En, DetailKind::Place) => "Where",
        (Language::En, DetailKind::Link) => "More info",
        (_, DetailKind::Other) => return end_sentence(&capitalize(&d.text)),
    };
    end_sentence(&format!("{label}: {}", d.text))
}

/// Said in the response when a brief has no details: the candidates can
/// only be generic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GenericNotice {
    pub message: String,
    /// What to add to `details`, most useful for the goal first.
    pub add: Vec<String>,
}

/// The notice for a brief without details (`None` when it has some).
pub fn generic_notice(brief: &Brief) -> Option<GenericNotice> {
    if !brief.details.is_empty() {
        return None;
    }
    let lang = brief.language;
    let message = match lang {
        Language::Es => "Sin detalles, los candidatos son genéricos: no dicen nada concreto que el lector pueda usar, y su puntuación lo refleja. Añade en `details` los datos de la publicación (qué, cuándo, dónde, cuánto, enlace).",
        Language::En => "Without details, the candidates are generic: they say nothing concrete a reader can act on, and their scores reflect it. Add the post's facts in `details` (what, when, where, how much, link).",
    }
    .to_string();
    let (offer, date, place, product, link, fact) = match lang {
        Language::Es => (
            "el precio o la oferta (p. ej. «12 €», «2x1 hasta el domingo»)",
            "la fecha y la hora (p. ej. «sábado 14 de junio, 11:00»)",
            "el lugar o la dirección (p. ej. «Calle Luna 5, Madrid»)",
            "el producto o servicio con su nombre (p. ej. «café de Etiopía Yirgacheffe»)",
            "el enlace donde reservar, comprar o leer más",
            "un dato o cifra concreta (p. ej. «40 árboles plantados con 25 vecinos»)",
        ),
        Language::En => (
            "the price or offer (e.g. \"$12\", \"2-for-1 until Sunday\")",
            "the date and time (e.g. \"Saturday, June 14, 11am\")",
            "the place or address (e.g. \"5 Moon Street, Portland\")",
            "the product or service by name (e.g. \"Ethiopia Yirgacheffe pour-over\")",
            "the link to book, buy or read more",
            "a concrete fact or figure (e.g. \"40 trees planted with 25 neighbors\")",
        ),
    };
    let order = match brief.goal {
        Goal::Conversion => [offer, product, link, date, place],
        Goal::Traffic => [link, product, fact, date, offer],
        Goal::Awareness => [fact, product, date, place, link],
        Goal::Engagement | Goal::Community => [fact, date, place, product, offer],
    };
    Some(GenericNotice {
        message,
        add: order.iter().map(|s| s.to_string()).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_are_classified_by_their_facts() {
        let es = |t| classify(t, Language::Es);
        let en = |t| classify(t, Language::En);
        assert_eq!(es("12 € por persona"), DetailKind::Offer);
        assert_eq!(es("2x1 en pizzas medianas"), DetailKind::Offer);
        assert_eq!(es("sábado 14 de junio, 11:00"), DetailKind::Date);
        assert_eq!(es("Calle Luna 5, Madrid"), DetailKind::Place);
        assert_eq!(es("café de Etiopía Yirgacheffe"), DetailKind::Other);
        assert_eq!(es("https://cafeaurora.es/cata"), DetailKind::Link);
        assert_eq!(en("$25, coffee included"), DetailKind::Offer);
        assert_eq!(en("Saturday at 10am"), DetailKind::Date);
        assert_eq!(en("our Elm Street studio"), DetailKind::Place);
    }

    #[test]
    fn hooks_and_lines_keep_details_verbatim() {
        let h = fill_hook("Apunta: {d}.", "sábado 14 de junio, 11:00", "cata");
        assert_eq!(h, "Apunta: sábado 14 de junio, 11:00.");
        let h = fill_hook("{D}: {topic}.", "2x1 en pizzas", "pizzería");
        assert_eq!(h, "2x1 en pizzas: pizzería.");
        let d = Detail {
            text: "https://x.example.com/a".into(),
            kind: DetailKind::Link,
        };
        assert_eq!(line(&d, Language::En), "More info: https://x.example.com/a");
        assert!(contains_detail("Sábado 14 de junio.", "sábado 14 de junio"));
    }

    #[test]
    fn detail_hooks_open_differently_and_cover_every_style() {
        for hooks in [DETAIL_HOOKS_ES, DETAIL_HOOKS_EN] {
            for s in HookStyle::ALL {
                assert!(hooks.iter().any(|h| h.0 == s));
            }
            for (i, (_, a)) in hooks.iter().enumerate() {
                for (_, b) in &hooks[i + 1..] {
                    assert_ne!(crate::text::opening(a, 2), crate::text::opening(b, 2));
                }
            }
        }
    }

    #[test]
    fn only_briefs_without_details_get_the_generic_notice() {
        let mut b = Brief::new("café de especialidad");
        let n = generic_notice(&b).unwrap();
        assert!(n.message.contains("genéricos") && n.add.len() == 5);
        b.details = vec!["12 €".into()];
        assert!(generic_notice(&b).is_none());
    }
}
