//! Tone: detects which of the six [`Tone`]s a post reads as (keyword,
//! phrase and emoji cues per language plus sentiment and formatting), and
//! owns the `sentiment` signal, which rewards positive sentiment and, when
//! the request names a tone, checks that the post actually sounds like it.
//!
//! Why sentiment: positive, high-arousal content is shared more (Berger &
//! Milkman, "What Makes Online Content Viral?", 2012), and Facebook's
//! ranking favours posts people want to talk about; an off-tone post (a
//! "professional" announcement full of jokes) misses its audience.

use crate::pattern;
use crate::scoring::Signal;
use crate::sentiment::SentimentScores;
use crate::text::{Doc, TokKind};
use crate::words::WordMap;
use crate::{Language, Tone, round3};
use Tone::{Friendly, Informative, Inspirational, Playful, Professional, Urgent};
use serde::Serialize;

/// Cue words per tone, English and Spanish (folded, sorted; a word may cue
/// more than one tone).
const CUES: &[(&str, Tone)] = &[
    ("according", Informative),
    ("agotando", Urgent),
    ("ahora", Urgent),
    ("aprende", Informative),
    ("asap", Urgent),
    ("believe", Inspirational),
    ("broma", Playful),
    ("business", Professional),
    ("calidad", Professional),
    ("camino", Inspirational),
    ("carino", Friendly),
    ("chiste", Playful),
    ("community", Friendly),
    ("company", Professional),
    ("comunidad", Friendly),
    ("corran", Urgent),
    ("corre", Urgent),
    ("courage", Inspirational),
    ("crecer", Inspirational),
    ("cree", Inspirational),
    ("creer", Inspirational),
    ("data", Informative),
    ("datos", Informative),
    ("deadline", Urgent),
    ("ending", Urgent),
    ("ends", Urgent),
    ("enjoy", Friendly),
    ("equipo", Professional),
    ("esperanza", Inspirational),
    ("estrategia", Professional),
    ("estudio", Informative),
    ("experiencia", Professional),
    ("expertise", Professional),
    ("expires", Urgent),
    ("facts", Informative),
    ("family", Friendly),
    ("fiesta", Playful),
    ("fuerza", Inspirational),
    ("fun", Playful),
    ("funny", Playful),
    ("future", Inspirational),
    ("futuro", Inspirational),
    ("gracias", Friendly),
    ("grow", Inspirational),
    ("growth", Inspirational),
    ("guia", Informative),
    ("guide", Informative),
    ("hello", Friendly),
    ("hey", Friendly),
    ("hi", Friendly),
    ("hola", Friendly),
    ("hope", Friendly),
    ("hope", Inspirational),
    ("how", Informative),
    ("hoy", Urgent),
    ("hurry", Urgent),
    ("imposible", Inspirational),
    ("impossible", Inspirational),
    ("industria", Professional),
    ("industry", Professional),
    ("informacion", Informative),
    ("investigacion", Informative),
    ("joke", Playful),
    ("journey", Inspirational),
    ("juntas", Inspirational),
    ("juntos", Inspirational),
    ("learn", Informative),
    ("limited", Urgent),
    ("lmao", Playful),
    ("lol", Playful),
    ("love", Friendly),
    ("meta", Inspirational),
    ("metas", Inspirational),
    ("now", Urgent),
    ("oops", Playful),
    ("party", Playful),
    ("pasion", Inspirational),
    ("paso", Informative),
    ("pasos", Informative),
    ("passion", Inspirational),
    ("percent", Informative),
    ("plazo", Urgent),
    ("pleased", Professional),
    ("porcentaje", Informative),
    ("posible", Inspirational),
    ("possible", Inspirational),
    ("prisa", Urgent),
    ("pronto", Urgent),
    ("proposito", Inspirational),
    ("purpose", Inspirational),
    ("quality", Professional),
    ("quedan", Urgent),
    ("rapido", Urgent),
    ("research", Informative),
    ("resultados", Professional),
    ("results", Professional),
    ("sabias", Informative),
    ("saludos", Friendly),
    ("segun", Informative),
    ("silly", Playful),
    ("soon", Urgent),
    ("strategy", Professional),
    ("strength", Inspirational),
    ("study", Informative),
    ("team", Professional),
    ("termina", Urgent),
    ("tip", Informative),
    ("tips", Informative),
    ("today", Urgent),
    ("together", Inspirational),
    ("tonight", Urgent),
    ("ultima", Urgent),
    ("ultimas", Urgent),
    ("ultimo", Urgent),
    ("ultimos", Urgent),
    ("usted", Professional),
    ("valentia", Inspirational),
    ("vence", Urgent),
    ("welcome", Friendly),
    ("woohoo", Playful),
    ("xd", Playful),
    ("yay", Playful),
    ("yum", Playful),
    ("yummy", Playful),
];

const CUE_MAP: WordMap<Tone> = crate::word_map!(CUES);

/// Cue prefixes per tone ("inspir" matches inspire, inspiring, inspira…).
const CUE_PREFIXES: &[(&str, Tone)] = &[
    ("abrazo", Friendly),
    ("achiev", Inspirational),
    ("amig", Friendly),
    ("announc", Professional),
    ("anunci", Professional),
    ("bienvenid", Friendly),
    ("client", Professional),
    ("complace", Professional),
    ("consejo", Informative),
    ("customer", Professional),
    ("disfrut", Friendly),
    ("divertid", Playful),
    ("dream", Inspirational),
    ("empresa", Professional),
    ("familia", Friendly),
    ("friend", Friendly),
    ("goal", Inspirational),
    ("gracios", Playful),
    ("haha", Playful),
    ("hehe", Playful),
    ("hug", Friendly),
    ("inspir", Inspirational),
    ("jaja", Playful),
    ("jeje", Playful),
    ("jiji", Playful),
    ("limitad", Urgent),
    ("logra", Inspirational),
    ("negocio", Professional),
    ("partner", Professional),
    ("profesional", Professional),
    ("professional", Professional),
    ("querid", Friendly),
    ("service", Professional),
    ("servicio", Professional),
    ("socio", Professional),
    ("solucion", Professional),
    ("solution", Professional),
    ("step", Informative),
    ("sueno", Inspirational),
    ("supera", Inspirational),
    ("thank", Friendly),
    ("urgent", Urgent),
];

const URGENT_PHRASES: &[&str] = &[
    "last chance",
    "last day",
    "today only",
    "only today",
    "ends tonight",
    "don't|dont miss",
    "while supplies last",
    "ultima oportunidad",
    "ultimo dia",
    "solo hoy",
    "solo por hoy",
    "no te lo pierdas",
    "hasta agotar",
    "date prisa",
];
const INFORMATIVE_PHRASES: &[&str] = &[
    "did you know",
    "here's how",
    "heres how",
    "how to",
    "sabias que",
    "como hacer",
    "aqui te",
    "te explicamos",
];

const PLAYFUL_EMOJI: &[&str] = &[
    "😂", "🤣", "😜", "😝", "😛", "🙃", "😆", "😄", "😁", "🤪", "🥳", "🎉", "😎", "🤭", "😹",
];
const URGENT_EMOJI: &[&str] = &["⏰", "⌛", "⏳", "🚨", "❗", "⚠️", "⚠"];
const INSPIRATIONAL_EMOJI: &[&str] = &["✨", "🌟", "💪", "🙏", "🌈", "🚀", "⭐"];
const FRIENDLY_EMOJI: &[&str] = &[
    "❤️", "❤", "😊", "🤗", "🥰", "😍", "💕", "👋", "🙂", "💛", "💙", "💚",
];

fn tone_index(t: Tone) -> usize {
    Tone::ALL.iter().position(|x| *x == t).unwrap_or(0)
}

/// Cue-word hits per tone, in [`Tone::ALL`] order.
fn cue_counts(doc: &Doc<'_>) -> [usize; 6] {
    let mut counts = [0usize; 6];
    for t in doc.of_kind(TokKind::Word) {
        let w = t.norm.as_ref();
        for tone in CUE_MAP.get_all(w) {
            counts[tone_index(*tone)] += 1;
        }
        let first = w.as_bytes().first();
        for (p, tone) in CUE_PREFIXES {
            if p.as_bytes().first() == first && w.starts_with(p) {
                counts[tone_index(*tone)] += 1;
            }
        }
    }
    counts
}

fn count_emoji(doc: &Doc<'_>, set: &[&str]) -> usize {
    doc.of_kind(TokKind::Emoji)
        .filter(|t| set.contains(&t.raw))
        .count()
}

/// Raw cue scores per tone, in [`Tone::ALL`] order.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ToneScores {
    pub friendly: f64,
    pub professional: f64,
    pub playful: f64,
    pub inspirational: f64,
    pub urgent: f64,
    pub informative: f64,
}

impl ToneScores {
    pub fn get(&self, t: Tone) -> f64 {
        match t {
            Tone::Friendly => self.friendly,
            Tone::Professional => self.professional,
            Tone::Playful => self.playful,
            Tone::Inspirational => self.inspirational,
            Tone::Urgent => self.urgent,
            Tone::Informative => self.informative,
        }
    }
}

/// Cue scores for each tone.
pub fn scores(doc: &Doc<'_>, sentiment: &SentimentScores) -> ToneScores {
    let emoji = doc.of_kind(TokKind::Emoji).count();
    let bangs = doc.tokens.iter().filter(|t| t.raw == "!").count();
    let words = doc.word_count();
    let numbers = doc.of_kind(TokKind::Number).count();
    let links = doc.of_kind(TokKind::Link).count();
    let caps = doc
        .of_kind(TokKind::Word)
        .filter(|t| t.is_all_caps())
        .count();
    let you = doc
        .words()
        .filter(|t| matches!(t.norm.as_ref(), "you" | "your" | "tu" | "tus" | "te" | "ti"))
        .count();
    let c = sentiment.compound;
    let cues = cue_counts(doc);
    let cue = |t: Tone| cues[tone_index(t)] as f64;
    let flag = |b: bool, v: f64| if b { v } else { 0.0 };

    let playful = cue(Tone::Playful)
        + 0.5 * count_emoji(doc, PLAYFUL_EMOJI).min(4) as f64
        + flag(bangs > 0, 0.3);
    let urgent = 0.5 * cue(Tone::Urgent)
        + 1.5 * pattern::count(doc, &crate::patterns!(untagged URGENT_PHRASES)) as f64
        + 0.5 * count_emoji(doc, URGENT_EMOJI) as f64
        + flag(words > 0 && caps * 10 >= words * 3, 0.5);
    let inspirational = cue(Tone::Inspirational)
        + 0.4 * count_emoji(doc, INSPIRATIONAL_EMOJI) as f64
        + flag(c > 0.5, 0.3);
    let professional =
        0.7 * cue(Tone::Professional) + flag(emoji == 0 && bangs == 0 && words >= 8, 0.8);
    let informative = 0.8 * cue(Tone::Informative)
        + pattern::count(doc, &crate::patterns!(untagged INFORMATIVE_PHRASES)) as f64
        + (0.3 * numbers as f64).min(1.2)
        + flag(links > 0, 0.3);
    let friendly = 0.8 * cue(Tone::Friendly)
        + (0.2 * you as f64).min(0.6)
        + 0.4 * count_emoji(doc, FRIENDLY_EMOJI).min(3) as f64
        + flag(c > 0.3, 0.4);
    ToneScores {
        friendly,
        professional,
        playful,
        inspirational,
        urgent,
        informative,
    }
}

/// The tone a post reads as: the strongest cue score; with no clear cue,
/// friendly when positive, informative otherwise.
pub fn detect(doc: &Doc<'_>, sentiment: &SentimentScores) -> (Tone, ToneScores) {
    let s = scores(doc, sentiment);
    let mut best = Tone::Informative;
    let mut best_v = 0.0;
    for t in Tone::ALL {
        let v = s.get(t);
        if v > best_v {
            best = t;
            best_v = v;
        }
    }
    if best_v < 0.6 {
        best = if sentiment.compound >= 0.3 {
            Tone::Friendly
        } else {
            Tone::Informative
        };
    }
    (best, s)
}

/// How well a detected tone serves a requested one (1 = same, symmetric).
pub fn affinity(a: Tone, b: Tone) -> f64 {
    use Tone::*;
    if a == b {
        return 1.0;
    }
    let pair = |x: Tone, y: Tone| (a == x && b == y) || (a == y && b == x);
    if pair(Professional, Informative) {
        0.75
    } else if pair(Friendly, Playful) || pair(Friendly, Inspirational) {
        0.7
    } else if pair(Friendly, Informative) {
        0.5
    } else if pair(Friendly, Professional) || pair(Professional, Inspirational) {
        0.45
    } else if pair(Inspirational, Playful)
        || pair(Informative, Inspirational)
        || pair(Urgent, Informative)
    {
        0.4
    } else if pair(Playful, Professional) {
        0.15
    } else {
        0.3
    }
}

/// 0..=1 from the compound score: positive 0.75–1.0, neutral 0.65,
/// negative down to 0.2.
pub fn sentiment_fit(compound: f64) -> f64 {
    if compound >= 0.05 {
        0.75 + 0.25 * (compound / 0.6).min(1.0)
    } else if compound > -0.05 {
        0.65
    } else {
        (0.65 + 0.45 * compound).max(0.2)
    }
}

/// The `sentiment` signal: [`sentiment_fit`], averaged with the tone
/// [`affinity`] when a tone was requested (halved again if an upbeat tone
/// was requested and the post is negative).
pub fn score(sentiment: &SentimentScores, detected: Tone, requested: Option<Tone>) -> f64 {
    let fit = sentiment_fit(sentiment.compound);
    match requested {
        None => fit,
        Some(r) => {
            let mut m = affinity(detected, r);
            if matches!(r, Tone::Friendly | Tone::Playful | Tone::Inspirational)
                && sentiment.compound < -0.05
            {
                m *= 0.6;
            }
            0.5 * fit + 0.5 * m
        }
    }
}

pub fn signal(
    sentiment: &SentimentScores,
    detected: Tone,
    requested: Option<Tone>,
    lang: Language,
) -> Signal {
    let c = round3(sentiment.compound);
    let mood = match (lang, c) {
        (Language::En, c) if c >= 0.05 => "Positive",
        (Language::En, c) if c > -0.05 => "Neutral",
        (Language::En, _) => "Negative",
        (Language::Es, c) if c >= 0.05 => "Sentimiento positivo",
        (Language::Es, c) if c > -0.05 => "Sentimiento neutro",
        (Language::Es, _) => "Sentimiento negativo",
    };
    let d = detected.label(lang);
    let mut detail = match lang {
        Language::En => format!("{mood} sentiment (compound {c:.2}); reads as {d}."),
        Language::Es => format!("{mood} (compound {c:.2}); el tono es {d}."),
    };
    if let Some(r) = requested {
        let rl = r.label(lang);
        detail.push(' ');
        detail.push_str(&if r == detected {
            tr!(
                lang,
                "Matches the requested {rl} tone.",
                "Coincide con el tono {rl} pedido."
            )
        } else {
            tr!(
                lang,
                "The requested tone was {rl}.",
                "El tono pedido era {rl}."
            )
        });
    }
    Signal::new(
        "sentiment",
        round3(score(sentiment, detected, requested)),
        detail,
    )
}

pub fn suggestion(
    sentiment: &SentimentScores,
    detected: Tone,
    requested: Option<Tone>,
    lang: Language,
) -> Option<String> {
    if score(sentiment, detected, requested) >= 0.75 {
        return None;
    }
    if let Some(r) = requested
        && affinity(detected, r) < 0.7
    {
        let (rl, dl) = (r.label(lang), detected.label(lang));
        let how = match (lang, r) {
            (Language::En, Tone::Friendly) => {
                "speak to the reader directly and warmly, and thank them"
            }
            (Language::En, Tone::Professional) => {
                "drop the slang and extra emoji, and lead with facts and results"
            }
            (Language::En, Tone::Playful) => {
                "add a light joke, a playful emoji or a wink to the reader"
            }
            (Language::En, Tone::Inspirational) => {
                "add a hopeful message about what the reader can achieve"
            }
            (Language::En, Tone::Urgent) => {
                "state the deadline clearly, e.g. \"ends Sunday\" or \"only 20 spots left\""
            }
            (Language::En, Tone::Informative) => "add a concrete fact, a number or a how-to step",
            (Language::Es, Tone::Friendly) => {
                "háblale al lector de forma directa y cálida, y dale las gracias"
            }
            (Language::Es, Tone::Professional) => {
                "quita las expresiones coloquiales y los emojis de más, y empieza por datos y resultados"
            }
            (Language::Es, Tone::Playful) => {
                "añade un toque de humor, un emoji divertido o un guiño al lector"
            }
            (Language::Es, Tone::Inspirational) => {
                "añade un mensaje esperanzador sobre lo que el lector puede lograr"
            }
            (Language::Es, Tone::Urgent) => {
                "indica el plazo con claridad, p. ej. «termina el domingo» o «solo quedan 20 plazas»"
            }
            (Language::Es, Tone::Informative) => {
                "añade un dato concreto, una cifra o un paso práctico"
            }
        };
        return Some(tr!(
            lang,
            "The post reads as {dl}, not {rl}: {how}.",
            "La publicación suena {dl}, no {rl}: {how}."
        ));
    }
    Some(tr!(
        lang,
        "Frame the message positively: lead with the benefit or the good news rather than the problem.",
        "Plantea el mensaje en positivo: empieza por el beneficio o la buena noticia en lugar del problema."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sentiment;

    fn tone(text: &str, lang: Language) -> Tone {
        let d = Doc::new(text);
        detect(&d, &sentiment::analyze_doc(&d, lang)).0
    }

    #[test]
    fn cue_table_sorted() {
        assert!(CUES.windows(2).all(|w| w[0].0 <= w[1].0));
        for t in Tone::ALL {
            assert!(
                CUES.iter().chain(CUE_PREFIXES).any(|(_, x)| *x == t),
                "no cue for {t:?}"
            );
        }
    }

    #[test]
    fn detects_tones_in_both_languages() {
        assert_eq!(
            tone(
                "LAST CHANCE! Sale ends tonight ⏰ Only today, hurry!",
                Language::En
            ),
            Tone::Urgent
        );
        assert_eq!(
            tone(
                "¡Última oportunidad! Solo hoy, la oferta termina a medianoche ⏰",
                Language::Es
            ),
            Tone::Urgent
        );
        assert_eq!(
            tone("Jajaja when the coffee kicks in 😂🤣 lol", Language::En),
            Tone::Playful
        );
        assert_eq!(
            tone("Jajaja cuando el café hace efecto 😂🤣", Language::Es),
            Tone::Playful
        );
        assert_eq!(
            tone(
                "We are pleased to announce a new partnership that brings our clients better solutions and results.",
                Language::En
            ),
            Tone::Professional
        );
        assert_eq!(
            tone(
                "Did you know? Here are 5 tips and 3 steps to brew better coffee at home.",
                Language::En
            ),
            Tone::Informative
        );
        assert_eq!(
            tone(
                "¿Sabías que el 70% del sabor depende del tueste? Te explicamos 3 pasos.",
                Language::Es
            ),
            Tone::Informative
        );
        assert_eq!(
            tone(
                "Never stop dreaming. Believe in your journey and grow together ✨",
                Language::En
            ),
            Tone::Inspirational
        );
        assert_eq!(
            tone(
                "Nunca dejes de soñar. Juntos podemos lograr lo imposible ✨",
                Language::Es
            ),
            Tone::Inspirational
        );
        assert_eq!(
            tone(
                "Hola amigos 👋 gracias por estar siempre ahí, os queremos ❤️",
                Language::Es
            ),
            Tone::Friendly
        );
    }

    #[test]
    fn requested_tone_mismatch_lowers_score() {
        let s = SentimentScores {
            compound: 0.5,
            ..Default::default()
        };
        assert!(
            score(&s, Tone::Playful, Some(Tone::Playful))
                > score(&s, Tone::Playful, Some(Tone::Professional))
        );
        assert!(sentiment_fit(0.6) > sentiment_fit(0.0));
        assert!(sentiment_fit(0.0) > sentiment_fit(-0.6));
        let neg = SentimentScores {
            compound: -0.6,
            ..Default::default()
        };
        assert!(
            score(&neg, Tone::Friendly, Some(Tone::Friendly))
                < score(&s, Tone::Friendly, Some(Tone::Friendly))
        );
    }
}
