//! The curated phrase banks of the template engine, Spanish and English:
//! hooks per hook style, body lines per tone, per goal and about the topic, keyword
//! and brand-voice lines, calls to action per goal (with and without a
//! link), closing questions and closing statements per tone.
//!
//! Placeholders (filled by `compose.rs`): `{topic}`, `{Topic}` (first
//! letter capitalised), `{de_topic}` / `{a_topic}` (Spanish "de"/"a" +
//! topic, contracted to "del"/"al" before "el"), `{aud}` ("para familias" /
//! "for families", or "para ti" / "for you"), `{who}` (the audience or
//! "ti"/"you"), `{kws}` (keywords joined "a, b y c"), `{words}` (brand
//! words), `{name}` (brand name), `{url}`.
//!
//! Writing rules, so every line is correct whatever the topic is:
//! * Spanish: the topic is never preceded by an article or followed by an
//!   adjective or verb that would have to agree with it; it appears after
//!   a preposition ("sobre", "con", "en", "detrás de") or before a colon.
//!   "de"/"a" only through `{de_topic}`/`{a_topic}`. Reader-facing
//!   adjectives are avoided (they would need the reader's gender).
//! * English: no verb agrees with the topic (it may be singular or plural)
//!   and no article precedes it.
//! * Questions and exclamations in Spanish open with ¿ and ¡.
//! * Calls to action ask for a real action or an opinion; nothing asks for
//!   likes, reactions, shares, tags or one-word comments (engagement bait).

use crate::brief::Goal;
use crate::structure::HookStyle;
use fbposts_core::{Language, Tone};

/// Hooks (first lines) by style.
pub const HOOKS_ES: &[(HookStyle, &str)] = &[
    (
        HookStyle::Question,
        "¿Quieres llevar {topic} al siguiente nivel?",
    ),
    (
        HookStyle::Question,
        "¿Y si empezar con {topic} fuera más fácil de lo que crees?",
    ),
    (
        HookStyle::Question,
        "¿Te has preguntado alguna vez qué hay detrás {de_topic}?",
    ),
    (HookStyle::Question, "¿Buscas ideas nuevas sobre {topic}?"),
    (HookStyle::Question, "¿Llevas tiempo pensando en {topic}?"),
    (
        HookStyle::Number,
        "2 minutos: es todo lo que necesitas para empezar con {topic}.",
    ),
    (
        HookStyle::Number,
        "1 idea sencilla puede cambiar tu forma de ver {topic}.",
    ),
    (HookStyle::Number, "100 % sobre {topic}, 0 % relleno."),
    (
        HookStyle::Number,
        "5 minutos de lectura y verás {topic} con otros ojos.",
    ),
    (
        HookStyle::Number,
        "24 horas al día pensando en {topic}. Sí, de verdad.",
    ),
    (HookStyle::Statement, "Hablemos claro sobre {topic}."),
    (
        HookStyle::Statement,
        "Lo que nadie te cuenta sobre {topic}.",
    ),
    (HookStyle::Statement, "Tenemos novedades sobre {topic}."),
    (HookStyle::Statement, "La verdad sobre {topic}, sin rodeos."),
    (HookStyle::Statement, "Por fin hablamos {de_topic}."),
    (
        HookStyle::Reader,
        "Imagina sacarle más partido {a_topic} desde esta misma semana.",
    ),
    (HookStyle::Reader, "Tú también puedes disfrutar {de_topic}."),
    (
        HookStyle::Reader,
        "Esto es para ti si buscas ideas sobre {topic}.",
    ),
    (
        HookStyle::Reader,
        "Te contamos lo que necesitas saber sobre {topic}.",
    ),
    (
        HookStyle::Reader,
        "Si tienes curiosidad por {topic}, sigue leyendo.",
    ),
    (
        HookStyle::HowTo,
        "Cómo empezar con {topic} sin complicarte la vida.",
    ),
    (HookStyle::HowTo, "Cómo lo hacemos: {topic}, paso a paso."),
    (
        HookStyle::HowTo,
        "Así puedes sacarle el máximo partido {a_topic}.",
    ),
    (
        HookStyle::HowTo,
        "La forma más sencilla de empezar con {topic}.",
    ),
    (
        HookStyle::HowTo,
        "Guía rápida para disfrutar {de_topic} desde hoy.",
    ),
];

pub const HOOKS_EN: &[(HookStyle, &str)] = &[
    (
        HookStyle::Question,
        "Ready to take {topic} to the next level?",
    ),
    (
        HookStyle::Question,
        "What if getting into {topic} was easier than you think?",
    ),
    (
        HookStyle::Question,
        "Have you ever wondered what's behind {topic}?",
    ),
    (
        HookStyle::Question,
        "Looking for fresh ideas about {topic}?",
    ),
    (HookStyle::Question, "Been thinking about {topic} lately?"),
    (
        HookStyle::Number,
        "2 minutes is all you need to get started with {topic}.",
    ),
    (
        HookStyle::Number,
        "1 simple idea can change the way you see {topic}.",
    ),
    (HookStyle::Number, "100% about {topic}, 0% fluff."),
    (
        HookStyle::Number,
        "5 minutes of reading and you'll see {topic} in a new light.",
    ),
    (
        HookStyle::Number,
        "24 hours a day thinking about {topic}. Yes, really.",
    ),
    (HookStyle::Statement, "Let's talk honestly about {topic}."),
    (HookStyle::Statement, "What nobody tells you about {topic}."),
    (HookStyle::Statement, "We have news about {topic}."),
    (
        HookStyle::Statement,
        "The truth about {topic}, plain and simple.",
    ),
    (
        HookStyle::Statement,
        "Finally, we're talking about {topic}.",
    ),
    (
        HookStyle::Reader,
        "Imagine getting more out of {topic}, starting this week.",
    ),
    (HookStyle::Reader, "You can enjoy {topic} too."),
    (HookStyle::Reader, "This one's for you if you love {topic}."),
    (
        HookStyle::Reader,
        "Here's what you need to know about {topic}.",
    ),
    (HookStyle::Reader, "Curious about {topic}? Keep reading."),
    (
        HookStyle::HowTo,
        "How to get started with {topic} without the stress.",
    ),
    (HookStyle::HowTo, "How we do it: {topic}, step by step."),
    (HookStyle::HowTo, "Here's how to make the most of {topic}."),
    (
        HookStyle::HowTo,
        "The simplest way to get started with {topic}.",
    ),
    (
        HookStyle::HowTo,
        "A quick guide to enjoying {topic}, starting today.",
    ),
];

/// Body lines about the topic and the audience.
pub const TOPIC_LINES_ES: &[&str] = &[
    "Reunimos nuestras mejores ideas sobre {topic} {aud}.",
    "En {topic}, los pequeños detalles marcan la diferencia.",
    "Si llevas tiempo pensando en {topic}, este es un buen punto de partida.",
    "Todo está pensado {aud}.",
    "Nada de complicaciones: solo ideas prácticas {aud}.",
];

pub const TOPIC_LINES_EN: &[&str] = &[
    "We've gathered our best ideas on {topic} {aud}.",
    "When it comes to {topic}, the little details make a big difference.",
    "If you've been thinking about {topic}, this is a great place to start.",
    "Everything here is designed with {who} in mind.",
    "No complications, just practical ideas {aud}.",
];

/// Lines that carry the keywords.
pub const KEYWORD_LINES_ES: &[&str] = &[
    "Hablamos {de_kws}.",
    "Todo se resume en {kws}.",
    "Piensa en {kws}, y mucho más.",
];

pub const KEYWORD_LINES_EN: &[&str] = &[
    "We cover {kws}.",
    "It all comes down to {kws}.",
    "Think {kws}, and a lot more.",
];

/// Brand-voice lines: with the brand's name, and without.
pub const BRAND_LINES_ES: (&str, &str) = (
    "En {name} lo tenemos claro: {words}.",
    "Nuestra esencia: {words}.",
);
pub const BRAND_LINES_EN: (&str, &str) = (
    "At {name}, it comes down to {words}.",
    "What we stand for: {words}.",
);

/// Body lines that set the tone (each carries the tone's cue words).
pub const TONE_LINES_ES: &[(Tone, &str)] = &[
    (
        Tone::Friendly,
        "Lo hemos preparado con mucho cariño para nuestra comunidad.",
    ),
    (
        Tone::Friendly,
        "Es de esas cosas que nos encanta compartir con amigos como tú.",
    ),
    (Tone::Friendly, "Gracias por acompañarnos en cada paso."),
    (Tone::Friendly, "Esperamos que te alegre la semana."),
    (
        Tone::Professional,
        "Nuestro equipo trabaja con foco en la calidad y en resultados medibles.",
    ),
    (
        Tone::Professional,
        "Detrás hay años de experiencia en el sector.",
    ),
    (
        Tone::Professional,
        "Una buena estrategia marca la diferencia en tu negocio.",
    ),
    (
        Tone::Professional,
        "Acompañamos a cada cliente con un servicio profesional de principio a fin.",
    ),
    (
        Tone::Playful,
        "Aviso: puede ser más divertido de lo que parece.",
    ),
    (
        Tone::Playful,
        "Sí, nos emocionamos un poco. Y no nos arrepentimos.",
    ),
    (
        Tone::Playful,
        "Dato curioso: en el equipo no dejamos de hablar de esto, jaja.",
    ),
    (
        Tone::Playful,
        "Plan divertido a la vista, con fiesta incluida.",
    ),
    (
        Tone::Inspirational,
        "Cada gran meta empieza con un pequeño paso.",
    ),
    (
        Tone::Inspirational,
        "Cree en lo que estás construyendo: crecer lleva su tiempo.",
    ),
    (Tone::Inspirational, "Tu futuro te agradecerá que empieces."),
    (
        Tone::Inspirational,
        "Sueña en grande, empieza en pequeño y sigue adelante.",
    ),
    (
        Tone::Urgent,
        "Esto no va a durar mucho, así que no esperes.",
    ),
    (Tone::Urgent, "El mejor momento es ahora."),
    (Tone::Urgent, "¡Date prisa y no te lo pierdas!"),
    (Tone::Urgent, "Si lo estabas pensando, hoy es el día."),
    (
        Tone::Informative,
        "Te explicamos cómo funciona, paso a paso.",
    ),
    (
        Tone::Informative,
        "Los datos son claros: los pequeños cambios suman.",
    ),
    (
        Tone::Informative,
        "Consejo rápido: empieza por lo básico y avanza desde ahí.",
    ),
    (
        Tone::Informative,
        "Aprende lo esencial en menos de un minuto con esta guía.",
    ),
];

pub const TONE_LINES_EN: &[(Tone, &str)] = &[
    (
        Tone::Friendly,
        "We put this together with a lot of love for our community.",
    ),
    (
        Tone::Friendly,
        "It's the kind of thing we enjoy sharing with friends like you.",
    ),
    (
        Tone::Friendly,
        "Thank you for being here with us, every step of the way.",
    ),
    (Tone::Friendly, "We hope it brightens your week."),
    (
        Tone::Professional,
        "Our team focuses on quality and measurable results.",
    ),
    (
        Tone::Professional,
        "It's backed by years of experience in the industry.",
    ),
    (
        Tone::Professional,
        "A clear strategy makes all the difference for your business.",
    ),
    (
        Tone::Professional,
        "We support every client with professional service from start to finish.",
    ),
    (Tone::Playful, "Warning: it may be more fun than it sounds."),
    (
        Tone::Playful,
        "Yes, we got a little excited. No regrets, haha.",
    ),
    (
        Tone::Playful,
        "Fun fact: our team can't stop talking about it.",
    ),
    (Tone::Playful, "Snacks optional, fun guaranteed. Yay!"),
    (
        Tone::Inspirational,
        "Every big goal starts with one small step.",
    ),
    (
        Tone::Inspirational,
        "Believe in what you're building: growth takes time.",
    ),
    (
        Tone::Inspirational,
        "Your future self will thank you for starting.",
    ),
    (
        Tone::Inspirational,
        "Dream big, start small and keep going.",
    ),
    (Tone::Urgent, "This won't last long, so don't wait."),
    (Tone::Urgent, "The best time to act is now."),
    (Tone::Urgent, "Hurry, don't miss it!"),
    (
        Tone::Urgent,
        "If you've been on the fence, today is the day.",
    ),
    (Tone::Informative, "Here's how it works, step by step."),
    (
        Tone::Informative,
        "The data is clear: small changes add up.",
    ),
    (
        Tone::Informative,
        "Quick tip: start with the basics and build from there.",
    ),
    (
        Tone::Informative,
        "Learn the key facts in under a minute with this guide.",
    ),
];

/// Body lines that serve the goal.
pub const GOAL_LINES_ES: &[(Goal, &str)] = &[
    (
        Goal::Awareness,
        "Queremos que tengas toda la información a mano.",
    ),
    (
        Goal::Awareness,
        "Es un tema que merece más atención de la que recibe.",
    ),
    (
        Goal::Awareness,
        "Aquí tienes lo esencial, sin letra pequeña.",
    ),
    (
        Goal::Engagement,
        "Nos interesa de verdad tu punto de vista.",
    ),
    (
        Goal::Engagement,
        "Cada experiencia es distinta, y por eso queremos conocer la tuya.",
    ),
    (
        Goal::Engagement,
        "Las mejores ideas suelen salir de una buena conversación.",
    ),
    (
        Goal::Traffic,
        "Hemos reunido todos los detalles en un solo sitio.",
    ),
    (
        Goal::Traffic,
        "En nuestra web encontrarás la información completa, explicada con calma.",
    ),
    (Goal::Traffic, "Leerlo te llevará solo un par de minutos."),
    (
        Goal::Conversion,
        "Empezar es fácil y te acompañamos en cada paso.",
    ),
    (
        Goal::Conversion,
        "Sin complicaciones y con atención personalizada desde el primer día.",
    ),
    (Goal::Conversion, "Te lo ponemos fácil de principio a fin."),
    (
        Goal::Community,
        "Esta comunidad crece gracias a personas como tú.",
    ),
    (
        Goal::Community,
        "Nos encanta leer las historias de quienes nos siguen.",
    ),
    (Goal::Community, "Aquí cada experiencia suma."),
];

pub const GOAL_LINES_EN: &[(Goal, &str)] = &[
    (
        Goal::Awareness,
        "We want you to have the key information at hand.",
    ),
    (
        Goal::Awareness,
        "It's a subject that deserves more attention than it gets.",
    ),
    (Goal::Awareness, "Here are the essentials, no fine print."),
    (
        Goal::Engagement,
        "We genuinely want to hear your point of view.",
    ),
    (
        Goal::Engagement,
        "Everyone's experience is different, and we'd love to hear yours.",
    ),
    (
        Goal::Engagement,
        "The best ideas usually come out of a good conversation.",
    ),
    (
        Goal::Traffic,
        "We've put all the details together in one place.",
    ),
    (
        Goal::Traffic,
        "On our website you'll find the full picture, explained step by step.",
    ),
    (Goal::Traffic, "It only takes a couple of minutes to read."),
    (
        Goal::Conversion,
        "Getting started is easy, and we'll guide you every step of the way.",
    ),
    (
        Goal::Conversion,
        "No hassle, just personal attention from day one.",
    ),
    (Goal::Conversion, "We make it simple from start to finish."),
    (
        Goal::Community,
        "This community grows thanks to people like you.",
    ),
    (
        Goal::Community,
        "We love reading the stories of the people who follow us.",
    ),
    (Goal::Community, "Here, every experience counts."),
];

/// Closing statements (structures that close with a statement).
pub const CLOSINGS_ES: &[(Tone, &str)] = &[
    (Tone::Friendly, "Estamos deseando saber cómo te va."),
    (
        Tone::Friendly,
        "Gracias por formar parte de esta comunidad.",
    ),
    (
        Tone::Professional,
        "Calidad, claridad y resultados: ese es nuestro compromiso.",
    ),
    (
        Tone::Professional,
        "Nuestro equipo está aquí cuando lo necesites.",
    ),
    (Tone::Playful, "Aviso: engancha más de lo que parece."),
    (Tone::Playful, "Buen rollo garantizado, como siempre."),
    (Tone::Inspirational, "Tu próximo paso empieza hoy."),
    (Tone::Inspirational, "Sigue adelante: cada paso cuenta."),
    (Tone::Urgent, "No lo dejes para mañana."),
    (Tone::Urgent, "¡Te esperamos, no llegues tarde!"),
    (
        Tone::Informative,
        "Pasos pequeños, resultados claros: esa es la idea.",
    ),
    (
        Tone::Informative,
        "Ahora ya conoces lo básico, y es un gran comienzo.",
    ),
];

pub const CLOSINGS_EN: &[(Tone, &str)] = &[
    (Tone::Friendly, "We can't wait to hear how it goes for you."),
    (Tone::Friendly, "Thanks for being part of this community."),
    (
        Tone::Professional,
        "Quality, clarity and results: that's our commitment.",
    ),
    (Tone::Professional, "Our team is here whenever you need us."),
    (Tone::Playful, "You've been warned: it's seriously fun."),
    (Tone::Playful, "Good vibes only, as always."),
    (Tone::Inspirational, "Your next step starts today."),
    (Tone::Inspirational, "Keep going: every step counts."),
    (Tone::Urgent, "Don't put it off until tomorrow."),
    (Tone::Urgent, "We're waiting for you, don't be late!"),
    (
        Tone::Informative,
        "Small steps, clear results: that's the idea.",
    ),
    (
        Tone::Informative,
        "Now you know the basics, and that's a great start.",
    ),
];

/// Closing questions to the audience (goals other than engagement and
/// community, whose call to action already is the question).
pub const QUESTIONS_ES: &[&str] = &[
    "¿Qué añadirías tú?",
    "¿Qué opinas sobre {topic}?",
    "¿Con qué idea te quedas?",
    "¿Qué dudas tienes sobre {topic}?",
    "¿Y tú cómo lo haces?",
];

pub const QUESTIONS_EN: &[&str] = &[
    "What would you add?",
    "What's your take on {topic}?",
    "Which idea would you try first?",
    "What questions do you have about {topic}?",
    "How do you do it?",
];

/// Calls to action without a link, by goal.
pub const CTAS_ES: &[(Goal, &str)] = &[
    (
        Goal::Awareness,
        "Síguenos para descubrir más ideas como esta.",
    ),
    (
        Goal::Awareness,
        "Guarda esta publicación para tenerla a mano.",
    ),
    (Goal::Awareness, "Descubre más en nuestra página."),
    (
        Goal::Engagement,
        "Cuéntanos en los comentarios: ¿qué opinas?",
    ),
    (
        Goal::Engagement,
        "¿Tú qué harías? Te leemos en los comentarios.",
    ),
    (
        Goal::Engagement,
        "Déjanos tu opinión en los comentarios: ¿qué añadirías?",
    ),
    (Goal::Traffic, "Descubre todos los detalles en nuestra web."),
    (Goal::Traffic, "Más información en nuestra página."),
    (Goal::Traffic, "Lee la historia completa en nuestra web."),
    (Goal::Conversion, "Haz tu pedido hoy mismo."),
    (
        Goal::Conversion,
        "Escríbenos y te preparamos una propuesta a tu medida.",
    ),
    (Goal::Conversion, "Reserva ahora y da el primer paso."),
    (
        Goal::Community,
        "¿Cuál es tu experiencia con {topic}? Nos encantaría leerte.",
    ),
    (Goal::Community, "¿Cómo lo vives tú? Cuéntanos tu historia."),
    (
        Goal::Community,
        "Y en tu caso, ¿qué es lo que más te gusta {de_topic}?",
    ),
];

pub const CTAS_EN: &[(Goal, &str)] = &[
    (Goal::Awareness, "Follow our page for more ideas like this."),
    (Goal::Awareness, "Save this post so you have it handy."),
    (Goal::Awareness, "Discover more on our page."),
    (
        Goal::Engagement,
        "Tell us in the comments: what's your take?",
    ),
    (
        Goal::Engagement,
        "What would you do? Let us know in the comments.",
    ),
    (
        Goal::Engagement,
        "Share your thoughts in the comments: what would you add?",
    ),
    (Goal::Traffic, "Find out more on our website."),
    (Goal::Traffic, "Learn more on our page."),
    (Goal::Traffic, "Read the full story on our website."),
    (Goal::Conversion, "Order yours today."),
    (
        Goal::Conversion,
        "Message us and we'll put together a plan that fits you.",
    ),
    (Goal::Conversion, "Book now and take the first step."),
    (
        Goal::Community,
        "What's your experience with {topic}? We'd love to hear it.",
    ),
    (Goal::Community, "How do you do it? Tell us your story."),
    (Goal::Community, "What do you love most about {topic}?"),
];

/// Calls to action that carry the link, by goal (engagement and community
/// keep their question and add [`LINK_LINE_ES`]/[`LINK_LINE_EN`]).
pub const LINK_CTAS_ES: &[(Goal, &str)] = &[
    (Goal::Awareness, "Descubre más en nuestra web: {url}"),
    (Goal::Awareness, "Conoce más aquí: {url}"),
    (Goal::Traffic, "Descubre más aquí: {url}"),
    (Goal::Traffic, "Lee todos los detalles aquí: {url}"),
    (Goal::Traffic, "Más información: {url}"),
    (Goal::Conversion, "Haz tu pedido aquí: {url}"),
    (Goal::Conversion, "Reserva ahora: {url}"),
    (Goal::Conversion, "Aprovecha hoy: {url}"),
];

pub const LINK_CTAS_EN: &[(Goal, &str)] = &[
    (Goal::Awareness, "Discover more on our website: {url}"),
    (Goal::Awareness, "Learn more here: {url}"),
    (Goal::Traffic, "Find out more here: {url}"),
    (Goal::Traffic, "Read all the details: {url}"),
    (Goal::Traffic, "Learn more: {url}"),
    (Goal::Conversion, "Order yours here: {url}"),
    (Goal::Conversion, "Book now: {url}"),
    (Goal::Conversion, "Get started today: {url}"),
];

pub const LINK_LINE_ES: &str = "Más información: {url}";
pub const LINK_LINE_EN: &str = "More details: {url}";

/// The bank for a language (a small accessor so callers don't match).
#[derive(Debug, Clone, Copy)]
pub struct Bank {
    pub hooks: &'static [(HookStyle, &'static str)],
    pub topic_lines: &'static [&'static str],
    pub keyword_lines: &'static [&'static str],
    pub brand_lines: (&'static str, &'static str),
    pub tone_lines: &'static [(Tone, &'static str)],
    pub goal_lines: &'static [(Goal, &'static str)],
    pub closings: &'static [(Tone, &'static str)],
    pub questions: &'static [&'static str],
    pub ctas: &'static [(Goal, &'static str)],
    pub link_ctas: &'static [(Goal, &'static str)],
    pub link_line: &'static str,
}

pub const ES: Bank = Bank {
    hooks: HOOKS_ES,
    topic_lines: TOPIC_LINES_ES,
    keyword_lines: KEYWORD_LINES_ES,
    brand_lines: BRAND_LINES_ES,
    tone_lines: TONE_LINES_ES,
    goal_lines: GOAL_LINES_ES,
    closings: CLOSINGS_ES,
    questions: QUESTIONS_ES,
    ctas: CTAS_ES,
    link_ctas: LINK_CTAS_ES,
    link_line: LINK_LINE_ES,
};

pub const EN: Bank = Bank {
    hooks: HOOKS_EN,
    topic_lines: TOPIC_LINES_EN,
    keyword_lines: KEYWORD_LINES_EN,
    brand_lines: BRAND_LINES_EN,
    tone_lines: TONE_LINES_EN,
    goal_lines: GOAL_LINES_EN,
    closings: CLOSINGS_EN,
    questions: QUESTIONS_EN,
    ctas: CTAS_EN,
    link_ctas: LINK_CTAS_EN,
    link_line: LINK_LINE_EN,
};

pub fn bank(lang: Language) -> &'static Bank {
    match lang {
        Language::Es => &ES,
        Language::En => &EN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::brief::Goal;
    use crate::text::opening;

    fn all_lines(b: &Bank) -> Vec<&'static str> {
        let mut v: Vec<&str> = b.hooks.iter().map(|h| h.1).collect();
        v.extend(b.topic_lines);
        v.extend(b.keyword_lines);
        v.extend([b.brand_lines.0, b.brand_lines.1, b.link_line]);
        v.extend(b.tone_lines.iter().map(|t| t.1));
        v.extend(b.closings.iter().map(|t| t.1));
        v.extend(b.goal_lines.iter().map(|t| t.1));
        v.extend(b.questions);
        v.extend(b.ctas.iter().map(|t| t.1));
        v.extend(b.link_ctas.iter().map(|t| t.1));
        v
    }

    #[test]
    fn spanish_questions_and_exclamations_are_opened() {
        for line in all_lines(&ES) {
            assert_eq!(
                line.matches('?').count(),
                line.matches('¿').count(),
                "{line}"
            );
            assert_eq!(
                line.matches('!').count(),
                line.matches('¡').count(),
                "{line}"
            );
            assert!(
                !line.contains(" de {topic}") && !line.contains(" a {topic}"),
                "{line}"
            );
        }
    }

    #[test]
    fn hooks_open_differently_and_cover_every_style() {
        for b in [&ES, &EN] {
            for (i, (_, a)) in b.hooks.iter().enumerate() {
                for (_, c) in &b.hooks[i + 1..] {
                    let (oa, oc) = (opening(a, 3), opening(c, 3));
                    assert_ne!(oa, oc, "{a} / {c}");
                }
            }
            for s in HookStyle::ALL {
                assert!(b.hooks.iter().filter(|h| h.0 == s).count() >= 5);
            }
        }
    }

    #[test]
    fn every_tone_and_goal_has_lines() {
        for b in [&ES, &EN] {
            for t in Tone::ALL {
                assert!(b.tone_lines.iter().filter(|l| l.0 == t).count() >= 4);
                assert!(b.closings.iter().filter(|l| l.0 == t).count() >= 2);
            }
            for g in Goal::ALL {
                assert!(b.ctas.iter().filter(|l| l.0 == g).count() >= 3);
                assert!(b.goal_lines.iter().filter(|l| l.0 == g).count() >= 3);
            }
        }
    }

    #[test]
    fn no_line_is_engagement_bait() {
        for b in [&ES, &EN] {
            for line in all_lines(b) {
                let t = line
                    .replace("{url}", "https://example.com")
                    .replace(['{', '}'], "");
                assert!(fbposts_core::bait::find_in(&t).is_empty(), "{line}");
            }
        }
    }
}
