//! Calls to action: a clear next step ("learn more", "book now", "tell us
//! in the comments", "descubre", "reserva", "cuéntanos"…).
//!
//! Facebook's own ads and Page guidance recommend one clear call to action
//! per post; posts that tell people what to do next get more clicks and
//! comments (AdEspresso and HubSpot analyses). A CTA asks for a genuine
//! action; engagement bait ([`crate::bait`]) asks for a reaction, comment,
//! share or tag *for its own sake*. Phrases that are part of a bait match
//! never count as a CTA, so "Comenta SÍ si…" is bait, not a CTA.

use crate::bait::BaitMatch;
use crate::pattern;
use crate::scoring::Signal;
use crate::text::Doc;
use crate::{Language, round3};

/// Call-to-action phrases, English then Spanish (folded; `^` marks words
/// that are also common nouns, so they only count at the start of a
/// sentence or clause: "Reserva tu mesa" yes, "la reserva" no).
pub const PATTERNS: &[&str] = &[
    // English
    "comment below",
    "in the comments",
    "let us know",
    "let me know",
    "tell us",
    "tell me",
    "share your",
    "learn more",
    "read more",
    "find out",
    "^ discover",
    "sign up",
    "^ register",
    "book now|today|yours|your|a",
    "reserve your|a|now",
    "order now|today|yours|your",
    "shop now|the|our",
    "buy now|today",
    "get yours",
    "get your",
    "get started",
    "^ download",
    "join us",
    "join our|the",
    "^ visit",
    "check out",
    "^ click",
    "tap the link",
    "link in bio",
    "follow us",
    "follow our page|account",
    "^ subscribe",
    "save this|your",
    "save the date",
    "call us|now|today",
    "dm us",
    "message us",
    "send us",
    "apply now|today",
    "grab your",
    "claim your",
    "^ watch",
    "rsvp",
    "^ donate",
    "^ try",
    "start your",
    "contact us",
    "see more",
    "don't|dont miss",
    "^ enroll",
    "sign the",
    // Spanish
    "^ comenta|comentanos|comentame|comenten",
    "en los comentarios",
    "dejanos|dejame|dejenos",
    "deja tu",
    "cuentanos|cuentame|cuentenos",
    "^ dinos|dime",
    "comparte tu|tus",
    "descubre|descubri|descubra|descubran",
    "conoce mas",
    "^ conoce|conozca",
    "mas informacion|info",
    "lee|leer mas",
    "ver mas",
    "^ mira|mire|miren",
    "^ reserva|reserve|reserven",
    "inscribete|inscribite|inscribase",
    "registrate|registrese",
    "suscribete|suscribite",
    "siguenos|seguinos",
    "^ visita|visitanos|visitenos",
    "^ compra|compralo|comprala|compre",
    "^ consigue|consegui",
    "^ pide|pedi|pidan",
    "haz tu pedido",
    "^ ordena",
    "^ descarga|descargala|descargalo",
    "unete|unite|unase",
    "llamanos|llamenos",
    "escribenos|escribinos|escribanos",
    "envianos|mandanos",
    "^ agenda",
    "aprovecha",
    "^ participa",
    "apuntate",
    "^ guarda",
    "^ prueba|proba|pruebalo|pruebala",
    "haz|has|da|dale clic|click",
    "link|enlace en la bio",
    "^ entra",
    "no te lo pierdas",
    "no te pierdas",
    "contactanos|contactenos",
    "^ solicita",
    "obten|obtene",
    "^ accede",
];

/// The calls to action in a post (as written), excluding phrases inside a
/// bait match.
pub fn find<'a>(doc: &Doc<'a>, bait: &[BaitMatch]) -> Vec<&'a str> {
    pattern::find_all(doc, &crate::patterns!(untagged PATTERNS))
        .into_iter()
        .filter(|m| {
            !bait
                .iter()
                .any(|b| m.start < b.tokens.1 && b.tokens.0 < m.end)
        })
        .map(|m| doc.span_text(m.start, m.end))
        .collect()
}

/// 0..=1: none 0.35; one or two 1.0; three 0.85; more reads pushy, 0.6.
pub fn score(count: usize) -> f64 {
    match count {
        0 => 0.35,
        1 | 2 => 1.0,
        3 => 0.85,
        _ => 0.6,
    }
}

pub fn signal(ctas: &[&str], lang: Language) -> Signal {
    let n = ctas.len();
    let detail = match n {
        0 => tr!(
            lang,
            "No call to action: readers are not told what to do next.",
            "Sin llamada a la acción: no se indica al lector qué hacer."
        ),
        1 | 2 => {
            let list = ctas
                .iter()
                .map(|c| format!("\"{c}\""))
                .collect::<Vec<_>>()
                .join(", ");
            tr!(
                lang,
                "Clear call to action: {list}.",
                "Llamada a la acción clara: {list}."
            )
        }
        n => tr!(
            lang,
            "{n} calls to action: pick one so the next step is obvious.",
            "{n} llamadas a la acción: elige una para que el siguiente paso sea obvio."
        ),
    };
    Signal::new("call_to_action", round3(score(n)), detail)
}

pub fn suggestion(ctas: &[&str], lang: Language) -> Option<String> {
    match ctas.len() {
        0 => Some(tr!(
            lang,
            "End with one clear call to action, e.g. \"Book your table at the link\" or \"Tell us in the comments which one you'd try\".",
            "Termina con una llamada a la acción clara, p. ej. «Reserva tu mesa en el enlace» o «Cuéntanos en los comentarios cuál probarías»."
        )),
        n if n > 3 => Some(tr!(
            lang,
            "Keep one call to action instead of {n}: too many asks dilute each other.",
            "Deja una sola llamada a la acción en lugar de {n}: demasiadas peticiones se diluyen entre sí."
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bait;

    fn ctas(text: &str) -> Vec<String> {
        let d = Doc::new(text);
        let b = bait::find(&d);
        find(&d, &b).into_iter().map(String::from).collect()
    }

    #[test]
    fn english_and_spanish_ctas() {
        assert_eq!(
            ctas("Book your table today at the link below"),
            vec!["Book your"]
        );
        assert_eq!(ctas("Learn more on our site."), vec!["Learn more"]);
        assert_eq!(
            ctas("Save your spot at the link in bio"),
            vec!["Save your", "link in bio"]
        );
        assert_eq!(ctas("Save the date: May 3"), vec!["Save the date"]);
        assert_eq!(
            ctas("Share your thoughts in the comments"),
            vec!["Share your", "in the comments"]
        );
        assert_eq!(
            ctas("Descubre la nueva carta. Reserva tu mesa."),
            vec!["Descubre", "Reserva"]
        );
        assert_eq!(ctas("Cuéntanos qué opinas"), vec!["Cuéntanos"]);
        assert_eq!(ctas("Comparte tu opinión"), vec!["Comparte tu"]);
        assert_eq!(
            ctas("Más información en el enlace"),
            vec!["Más información"]
        );
    }

    #[test]
    fn nouns_need_clause_start() {
        assert!(ctas("Hicimos la reserva ayer y fue una visita genial").is_empty());
        assert_eq!(ctas("Hola, visita nuestra web"), vec!["visita"]);
    }

    #[test]
    fn bait_is_not_a_cta() {
        assert!(ctas("Comenta SÍ si quieres la receta").is_empty());
        assert!(ctas("Comment YES if you agree").is_empty());
    }

    #[test]
    fn score_prefers_one_or_two() {
        assert!(score(0) < score(1));
        assert!(score(5) < score(2));
    }
}
