//! Tests of the scorer: weights, grades, strong-vs-weak posts in both
//! languages, the direction of every signal, bait and tone, the JSON shape,
//! and bounds on arbitrary and maximum-length input.

use super::*;
use crate::{PostType, Tone};

fn run(text: &str, lang: Option<Language>) -> Analysis {
    analyze(&AnalyzeRequest {
        language: lang,
        ..AnalyzeRequest::new(text)
    })
}

fn sig(a: &Analysis, name: &str) -> f64 {
    a.breakdown
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no signal {name}"))
        .score
}

const STRONG_EN: &str = "Did you know most home bakers skip the one step that makes bread rise? 🍞\n\
    This Saturday at 10am we'll show it live in our kitchen, with time for your questions.\n\
    Save your spot at the link in bio. What do you bake most often? 👇 #BakingTips";

const WEAK_EN: &str = "HELLO EVERYONE!!! LIKE IF YOU LOVE PIZZA AND SHARE THIS WITH ALL YOUR FRIENDS!!! \
    TAG A FRIEND WHO NEEDS PIZZA!!! our pizza is the best pizza and this pizza is made with the finest \
    ingredients that our team carefully selects every single morning from numerous providers throughout \
    the surrounding metropolitan region in order to guarantee the consistently exceptional quality that \
    discerning customers have come to expect from an establishment with our considerable reputation and \
    pizza pizza pizza heritage, notwithstanding the occasional logistical complications \
    http://pizza.example.com/menu http://pizza.example.com/order https://bit.ly/pz \
    #pizza #food #yummy #love #instafood #foodie #PIZZAPARTY #dinner";

const STRONG_ES: &str = "¿Sabías que el 80% del sabor del café depende del tueste? ☕\n\
    Este sábado te enseñamos en directo cómo tostamos cada lote, con tiempo para tus preguntas.\n\
    Reserva tu plaza en el enlace de la bio. ¿Qué café preparas tú en casa? 👇 #CaféDeEspecialidad";

const WEAK_ES: &str = "HOLA A TODOS!!! DALE LIKE SI TE GUSTA EL CAFÉ Y COMPARTE CON TUS AMIGOS!!! \
    ETIQUETA A UN AMIGO QUE NECESITE CAFÉ!!! nuestro café es el mejor café y este café se elabora con \
    los más exquisitos granos que nuestro equipo selecciona cuidadosamente cada mañana entre numerosos \
    proveedores internacionales distribuidos estratégicamente por diferentes regiones productoras con el \
    propósito de garantizar la extraordinaria calidad que nuestros distinguidos consumidores esperan \
    habitualmente de un establecimiento con nuestra considerable reputación café café café \
    http://cafe.example.com/menu http://cafe.example.com/pedido https://bit.ly/cf \
    #cafe #coffee #rico #amor #instafood #foodie #CAFETERIA #desayuno";

#[test]
fn weights_sum_to_one_and_match_breakdown() {
    let total: f64 = WEIGHTS.iter().map(|(_, w)| w).sum();
    assert!((total - 1.0).abs() < 1e-9, "weights sum to {total}");
    let a = run(STRONG_EN, None);
    let names: Vec<&str> = a.breakdown.iter().map(|s| s.name).collect();
    let expected: Vec<&str> = WEIGHTS.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, expected);
    for s in &a.breakdown {
        assert_eq!(s.weight, weight(s.name));
    }
}

#[test]
fn grade_cut_offs() {
    assert_eq!(grade(1.0), "A");
    assert_eq!(grade(0.85), "A");
    assert_eq!(grade(0.849), "B");
    assert_eq!(grade(0.70), "B");
    assert_eq!(grade(0.55), "C");
    assert_eq!(grade(0.40), "D");
    assert_eq!(grade(0.399), "F");
    assert_eq!(grade(0.0), "F");
}

#[test]
fn strong_beats_weak_in_english() {
    let (s, w) = (run(STRONG_EN, None), run(WEAK_EN, None));
    assert_eq!((s.language, w.language), (Language::En, Language::En));
    assert!(
        s.score - w.score > 0.25,
        "strong {} vs weak {}",
        s.score,
        w.score
    );
    assert!(matches!(s.grade, "A" | "B"), "strong graded {}", s.grade);
    assert!(
        matches!(w.grade, "D" | "F"),
        "weak graded {} ({})",
        w.grade,
        w.score
    );
    assert!(w.features.bait_matches.len() >= 2);
    assert_eq!(w.features.links.len(), 3);
    assert_eq!(w.features.hashtags.len(), 8);
    assert!(!w.suggestions.is_empty() && w.suggestions.len() <= MAX_SUGGESTIONS);
    assert!(
        w.suggestions[0].contains("engagement bait"),
        "{:?}",
        w.suggestions
    );
    assert!(s.suggestions.len() < w.suggestions.len());
}

#[test]
fn strong_beats_weak_in_spanish() {
    let (s, w) = (run(STRONG_ES, None), run(WEAK_ES, None));
    assert_eq!((s.language, w.language), (Language::Es, Language::Es));
    assert!(
        s.score - w.score > 0.25,
        "fuerte {} vs débil {}",
        s.score,
        w.score
    );
    assert!(matches!(s.grade, "A" | "B"), "fuerte {}", s.grade);
    assert!(
        matches!(w.grade, "D" | "F"),
        "débil {} ({})",
        w.grade,
        w.score
    );
    assert!(w.features.bait_matches.len() >= 2);
    assert!(
        w.suggestions[0].contains("cebo de interacción"),
        "{:?}",
        w.suggestions
    );
    // Details and suggestions are in Spanish.
    assert!(
        s.breakdown
            .iter()
            .any(|x| x.detail.contains("Primera línea"))
    );
    assert!(
        w.suggestions.iter().all(|x| !x.contains(" the ")),
        "{:?}",
        w.suggestions
    );
}

#[test]
fn good_signals_produce_no_suggestion() {
    let a = run(STRONG_EN, None);
    for s in &a.breakdown {
        if s.score >= 0.99 {
            let name = s.name;
            let hint = match name {
                "question" => "question",
                "hashtags" => "hashtag",
                "call_to_action" => "call to action",
                "engagement_bait" => "bait",
                _ => continue,
            };
            assert!(
                a.suggestions
                    .iter()
                    .all(|x| !x.to_lowercase().contains(hint)),
                "{name}: {:?}",
                a.suggestions
            );
        }
    }
}

/// (language, base text, variant text, signal, variant should score higher?)
const DIRECTIONS: &[(Language, &str, &str, &str, bool)] = &[
    (
        Language::En,
        "We opened a new bakery downtown.",
        "We opened a new bakery downtown. Have you tried it yet?",
        "question",
        true,
    ),
    (
        Language::Es,
        "Abrimos una panadería nueva en el centro.",
        "Abrimos una panadería nueva en el centro. ¿Ya la probaste?",
        "question",
        true,
    ),
    (
        Language::En,
        "Our spring menu is here.",
        "Our spring menu is here. Book your table today.",
        "call_to_action",
        true,
    ),
    (
        Language::Es,
        "Ya está aquí el menú de primavera.",
        "Ya está aquí el menú de primavera. Reserva tu mesa hoy.",
        "call_to_action",
        true,
    ),
    (
        Language::En,
        "Our spring menu is here, what will you try first?",
        "Our spring menu is here. Like if you love it and tag a friend!",
        "engagement_bait",
        false,
    ),
    (
        Language::Es,
        "Ya está aquí el menú de primavera, ¿qué vas a probar?",
        "Ya está aquí el menú de primavera. ¡Dale like si te encanta y etiqueta a un amigo!",
        "engagement_bait",
        false,
    ),
    (
        Language::En,
        "Fresh bread every morning #bakery",
        "Fresh bread every morning #bakery #bread #food #yum #love #fresh #morning #local",
        "hashtags",
        false,
    ),
    (
        Language::Es,
        "Pan recién hecho cada mañana #panadería",
        "Pan recién hecho cada mañana #pan #comida #rico #amor #fresco #mañana #local #barrio",
        "hashtags",
        false,
    ),
    (
        Language::En,
        "Fresh bread every morning in our shop",
        "Fresh bread every morning in our shop 🍞☀️",
        "emoji",
        true,
    ),
    (
        Language::En,
        "Fresh bread every morning 🍞",
        "Fresh bread every morning 🍞🥐🥖🥯🧁🍰🎂🍪🍩🥧🍫🍬",
        "emoji",
        false,
    ),
    (
        Language::En,
        "New menu: https://example.com/menu",
        "New menu: https://example.com/menu https://example.com/a https://example.com/b",
        "links",
        false,
    ),
    (
        Language::Es,
        "Nuevo menú: https://ejemplo.com/menu",
        "Nuevo menú: https://ejemplo.com/menu https://ejemplo.com/a https://ejemplo.com/b",
        "links",
        false,
    ),
    (
        Language::En,
        "Big news today, our store reopens on Monday",
        "BIG NEWS TODAY, OUR STORE REOPENS ON MONDAY",
        "caps",
        false,
    ),
    (
        Language::Es,
        "Gran noticia, la tienda reabre el lunes",
        "GRAN NOTICIA, LA TIENDA REABRE EL LUNES",
        "caps",
        false,
    ),
    (
        Language::En,
        "Big news! Our store reopens on Monday.",
        "Big news!!! Our store reopens on Monday!!!",
        "exclamations",
        false,
    ),
    (
        Language::Es,
        "¡Gran noticia! La tienda reabre el lunes.",
        "¡¡¡Gran noticia!!! ¡¡La tienda reabre el lunes!!",
        "exclamations",
        false,
    ),
    (
        Language::En,
        "Our pizza comes from a wood oven and fresh dough.",
        "Our pizza comes from a pizza oven with pizza dough and pizza sauce.",
        "repetition",
        false,
    ),
    (
        Language::Es,
        "Nuestra pizza sale de horno de leña con masa fresca.",
        "Nuestra pizza sale de un horno de pizza con masa de pizza y salsa de pizza.",
        "repetition",
        false,
    ),
    (
        Language::En,
        "Hello everyone, we have news about the store.",
        "Why do our customers keep coming back? You'll see.",
        "hook",
        true,
    ),
    (
        Language::Es,
        "Hola a todos, tenemos noticias sobre la tienda.",
        "¿Por qué nuestros clientes siempre vuelven? Te lo contamos.",
        "hook",
        true,
    ),
    (
        Language::En,
        "We love seeing you here, thank you for an amazing year!",
        "We hate the terrible delays, it was an awful year.",
        "sentiment",
        false,
    ),
    (
        Language::Es,
        "Nos encanta verte aquí, ¡gracias por un año maravilloso!",
        "Odiamos los retrasos horribles, fue un año pésimo.",
        "sentiment",
        false,
    ),
    (
        Language::En,
        "Come see us today. We open at nine.",
        "Come see us today, we open at nine, and we hope that you will find the time to visit, because the considerable effort invested by everyone in organizing this extraordinary celebration deserves recognition.",
        "readability",
        false,
    ),
    (
        Language::Es,
        "Ven a vernos hoy. Abrimos a las nueve.",
        "Ven a vernos hoy, abrimos a las nueve, y esperamos que encuentres el momento de visitarnos, porque el considerable esfuerzo invertido por todos en la organización de esta extraordinaria celebración merece reconocimiento.",
        "readability",
        false,
    ),
    (
        Language::En,
        "Our new bread is out, come try it this week",
        "Our new bread is out, come try it this week. It took us months of testing to get the crust right, and we went through dozens of flours, hydration levels and baking times before we found a recipe we were proud of. We also rebuilt the oven schedule so every loaf comes out warm at opening time, hired two more bakers, and redesigned the bags. We hope you like it as much as we do, and we would love to hear what you think about it once you have tried it at home with your family and friends this weekend.",
        "length",
        false,
    ),
];

#[test]
fn each_signal_moves_in_the_right_direction() {
    for &(lang, base, variant, name, higher) in DIRECTIONS {
        let (b, v) = (run(base, Some(lang)), run(variant, Some(lang)));
        let (sb, sv) = (sig(&b, name), sig(&v, name));
        if higher {
            assert!(
                sv > sb,
                "{name} ({lang:?}) should rise: {sb} -> {sv}\n  {base}\n  {variant}"
            );
            // The form score moves with the signal; the gate depends on
            // the content, which some variants change (tested apart).
            assert!(
                v.weighted > b.weighted,
                "form score should rise with {name}: {} -> {}",
                b.weighted,
                v.weighted
            );
        } else {
            assert!(
                sv < sb,
                "{name} ({lang:?}) should fall: {sb} -> {sv}\n  {base}\n  {variant}"
            );
            assert!(
                v.weighted < b.weighted,
                "form score should fall with {name}: {} -> {}",
                b.weighted,
                v.weighted
            );
        }
    }
}

#[test]
fn bait_costs_more_than_its_weight() {
    let clean = run(
        "Our spring menu is here: 6 new dishes from $12 at Casa Lola, from Monday. What will you try first?",
        Some(Language::En),
    );
    let bait = run(
        "Our spring menu is here: 6 new dishes from $12 at Casa Lola, from Monday. What will you try first? Tag a friend!",
        Some(Language::En),
    );
    assert!(clean.score - bait.score > weight("engagement_bait") * 0.8);
}

#[test]
fn requested_tone_is_compared() {
    let text = "Jajaja when the coffee kicks in 😂🤣 who else? lol";
    let playful = analyze(&AnalyzeRequest {
        tone: Some(Tone::Playful),
        ..AnalyzeRequest::new(text)
    });
    let pro = analyze(&AnalyzeRequest {
        tone: Some(Tone::Professional),
        ..AnalyzeRequest::new(text)
    });
    assert_eq!(playful.features.detected_tone, Tone::Playful);
    assert!(sig(&playful, "sentiment") > sig(&pro, "sentiment"));
    assert!(
        pro.suggestions.iter().any(|s| s.contains("professional")),
        "{:?}",
        pro.suggestions
    );
}

#[test]
fn post_type_changes_length_and_link_expectations() {
    let text = "A short look at how we roast our beans every morning, from green coffee to the cup, in our small workshop in Madrid.";
    let status = analyze(&AnalyzeRequest {
        post_type: Some(PostType::Status),
        ..AnalyzeRequest::new(text)
    });
    let video = analyze(&AnalyzeRequest {
        post_type: Some(PostType::Video),
        ..AnalyzeRequest::new(text)
    });
    assert!(sig(&video, "length") > sig(&status, "length"));
    let inferred = run("Read the story: https://example.com/story", None);
    assert_eq!(inferred.features.post_type, PostType::Link);
    assert!(inferred.features.post_type_inferred);
}

#[test]
fn language_detected_flag() {
    assert!(run("Hola a todos, ¿qué tal?", None).language_detected);
    let a = run("Hola a todos, ¿qué tal?", Some(Language::En));
    assert!(!a.language_detected);
    assert_eq!(a.language, Language::En);
    assert_eq!(run("Hola a todos, ¿qué tal?", None).language, Language::Es);
}

#[test]
fn output_json_shape() {
    let a = run(STRONG_ES, None);
    let j = serde_json::to_value(&a).unwrap();
    for k in [
        "score",
        "grade",
        "language",
        "language_detected",
        "breakdown",
        "suggestions",
        "features",
        "scorer_version",
    ] {
        assert!(j.get(k).is_some(), "missing {k}");
    }
    assert_eq!(j["language"], "es");
    assert_eq!(j["scorer_version"], SCORER_VERSION);
    let b = &j["breakdown"][0];
    for k in ["name", "score", "weight", "detail"] {
        assert!(b.get(k).is_some(), "breakdown missing {k}");
    }
    let f = &j["features"];
    for k in [
        "chars",
        "words",
        "sentences",
        "syllables",
        "readability",
        "first_line",
        "emoji_count",
        "hashtags",
        "links",
        "mentions",
        "questions",
        "exclamations",
        "caps_ratio",
        "repeated_words",
        "sentiment",
        "bait_matches",
        "cta_matches",
        "detected_tone",
        "post_type",
    ] {
        assert!(f.get(k).is_some(), "features missing {k}");
    }
    assert!(f["sentiment"]["compound"].is_f64());
    assert!(f["bait_matches"].as_array().is_some_and(|b| b.is_empty()));
    // Scores are rounded to 3 decimals.
    let s = a.score;
    assert_eq!(s, (s * 1000.0).round() / 1000.0);
}

/// Tiny deterministic generator (no external crates).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() as usize) % items.len()]
    }
}

const PIECES: &[&str] = &[
    "a",
    "ñ",
    "é",
    "Ü",
    "Z",
    "hola",
    "the",
    "LIKE",
    "if",
    "si",
    "comenta",
    "tag",
    "share",
    " ",
    " ",
    "  ",
    "\n",
    "\r\n",
    "\t",
    "!",
    "!!!",
    "?",
    "¿",
    "¡",
    ".",
    "...",
    "…",
    ",",
    ":",
    ";",
    "=",
    "-",
    "'",
    "’",
    "\"",
    "«",
    "#",
    "#tag",
    "#ÑANDÚ",
    "@",
    "@ana",
    "http://",
    "https://x.co/a?b=c",
    "www.",
    ".com",
    "1",
    "2024",
    "3.5",
    "😀",
    "👨‍👩‍👧",
    "👍🏽",
    "🇪🇸",
    "1️⃣",
    "❤️",
    "\u{200d}",
    "\u{fe0f}",
    "\u{0301}",
    "\u{1F3FD}",
    ":)",
    "<3",
    "中文",
    "العربية",
    "🏳️‍🌈",
    "\u{0}",
    "\u{feff}",
    "\u{202e}",
    "ǅ",
    "ß",
    "İ",
    "ﬁ",
];

fn check(a: &Analysis) {
    assert!(
        (0.0..=1.0).contains(&a.score) && a.score.is_finite(),
        "score {}",
        a.score
    );
    assert!(GRADES.iter().any(|(_, g)| *g == a.grade));
    assert!(a.suggestions.len() <= MAX_SUGGESTIONS);
    for s in &a.breakdown {
        assert!(
            (0.0..=1.0).contains(&s.score) && s.score.is_finite(),
            "{} = {}",
            s.name,
            s.score
        );
        assert!(!s.detail.is_empty());
    }
    if a.features.substance.content_words < crate::substance::MIN_CONTENT_WORDS {
        assert!(a.score <= 0.35, "short post scored {}", a.score);
    }
    assert!(a.score <= a.weighted + 1e-9);
    let c = a.features.sentiment.compound;
    assert!((-1.0..=1.0).contains(&c));
    assert!(serde_json::to_string(a).is_ok());
}

#[test]
fn score_is_always_within_bounds_on_arbitrary_strings() {
    let mut rng = Lcg(0x5eed);
    for i in 0..400 {
        let len = (rng.next() % 60) as usize;
        let text: String = (0..len).map(|_| rng.pick(PIECES)).collect();
        let lang = match i % 3 {
            0 => None,
            1 => Some(Language::Es),
            _ => Some(Language::En),
        };
        check(&run(&text, lang));
    }
    for text in [
        "😀",
        "👨‍👩‍👧👨‍👩‍👧👨‍👩‍👧",
        "!!!???...",
        "#",
        "@",
        "...",
        "1234567890",
        "http://x.com",
        "#a #b #c",
        "\u{0301}",
    ] {
        check(&run(text, None));
    }
}

#[test]
fn handles_the_maximum_length() {
    let words = "palabra ".repeat(crate::MAX_POST_CHARS / 8);
    let emoji = "😀".repeat(crate::MAX_POST_CHARS);
    let one_word = "a".repeat(crate::MAX_POST_CHARS);
    let mixed: String = "Like if! #tag https://x.com 👨‍👩‍👧 ¿sí? "
        .chars()
        .cycle()
        .take(crate::MAX_POST_CHARS)
        .collect();
    for text in [words, emoji, one_word, mixed] {
        assert!(text.chars().count() <= crate::MAX_POST_CHARS);
        let req =
            AnalyzeRequest::from_json(serde_json::json!({ "text": text }).to_string().as_bytes())
                .unwrap();
        let a = analyze(&req);
        check(&a);
        assert!(a.features.emojis.len() <= crate::features::MAX_LIST);
        assert!(a.features.hashtags.len() <= crate::features::MAX_LIST);
        assert!(sig(&a, "length") < 0.2);
    }
}
