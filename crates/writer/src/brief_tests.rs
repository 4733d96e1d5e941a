//! Tests of brief parsing: defaults, every field, details, every error
//! (brand_voice keys included) and the cache key.

use super::*;

fn err(body: &str) -> ApiError {
    Brief::from_json(body.as_bytes()).unwrap_err()
}

#[test]
fn defaults_and_detection() {
    let b = Brief::from_json(br#"{"topic":"  yoga for beginners at home  "}"#).unwrap();
    assert_eq!(b.topic, "yoga for beginners at home");
    assert_eq!(b.language, Language::En);
    assert_eq!(
        (b.tone, b.goal, b.length),
        (Tone::Friendly, Goal::Engagement, Length::Medium)
    );
    assert_eq!((b.hashtags, b.emoji, b.n), (2, true, 3));
    assert_eq!(b.seed, b.derived_seed());
    let b =
        Brief::from_json(r#"{"topic":"café de especialidad para la oficina"}"#.as_bytes()).unwrap();
    assert_eq!(b.language, Language::Es);
    // Identical briefs, identical seeds; another topic, another seed.
    let c = Brief::from_json(r#"{ "topic" : "café de especialidad para la oficina" }"#.as_bytes())
        .unwrap();
    assert_eq!(b.seed, c.seed);
    assert_eq!(b.cache_key(), c.cache_key());
    assert_ne!(b.seed, Brief::new("otro tema distinto").seed);
}

#[test]
fn parses_every_field() {
    let b = Brief::from_json(
        r#"{"topic":"Pan de masa madre","audience":"familias","tone":"Playful","goal":"TRAFFIC",
            "language":"es-MX","post_type":"photo","length":"long","hashtags":4,"emoji":false,
            "cta":"https://example.com/pan","keywords":["horno de leña"," artesanal "],
            "brand_voice":{"name":"La Tahona","words_to_use":["hecho a mano"],"words_to_avoid":["barato"]},
            "n":5,"budget":0.5,"seed":42,"page":{"id":12345,"likes":800},"unknown":1}"#
            .as_bytes(),
    )
    .unwrap();
    assert_eq!(b.audience.as_deref(), Some("familias"));
    assert_eq!(
        (b.tone, b.goal, b.language),
        (Tone::Playful, Goal::Traffic, Language::Es)
    );
    assert_eq!(
        (b.post_type, b.length),
        (Some(PostType::Photo), Length::Long)
    );
    assert_eq!((b.hashtags, b.emoji, b.n, b.seed), (4, false, 5, 42));
    assert_eq!(b.cta, Some(Cta::Url("https://example.com/pan".into())));
    assert_eq!(b.keywords, vec!["horno de leña", "artesanal"]);
    let bv = b.brand_voice.as_ref().unwrap();
    assert_eq!(bv.name.as_deref(), Some("La Tahona"));
    assert_eq!(bv.use_words, vec!["hecho a mano"]);
    assert_eq!(bv.avoid_words, vec!["barato"]);
    assert_eq!(b.budget_usd, Some(0.5));
    assert_eq!(
        b.page,
        Some(PageRef {
            id: "12345".into(),
            likes: Some(800)
        })
    );
    let b = Brief::from_json(br#"{"topic":"x y z","cta":"Reserva tu mesa","brand_voice":{"use_words":["a"]},"page":{"id":"pg"}}"#).unwrap();
    assert_eq!(b.cta, Some(Cta::Text("Reserva tu mesa".into())));
    assert_eq!(b.page.unwrap().likes, None);
}

#[test]
fn error_cases() {
    let e = err("{nope");
    assert_eq!((e.status, e.code), (400, "invalid_json"));
    assert_eq!(err("[1]").code, "invalid_json");
    let e = err(r#"{"tone":"friendly"}"#);
    assert_eq!((e.status, e.code), (422, "missing_field"));
    assert!(e.message.contains("'topic'"));
    assert_eq!(err(r#"{"topic":null}"#).code, "missing_field");
    for body in [r#"{"topic":""}"#, r#"{"topic":"   "}"#, r#"{"topic":7}"#] {
        let e = err(body);
        assert_eq!((e.status, e.code), (422, "invalid_field"), "{body}");
        assert!(e.message.contains("'topic'"));
    }
    let long = format!(r#"{{"topic":"{}"}}"#, "a".repeat(201));
    assert!(err(&long).message.contains("'topic'"));
    let cases: &[(&str, &str, &str)] = &[
        (r#""tone":"angry""#, "'tone'", "\"inspirational\""),
        (r#""goal":"likes""#, "'goal'", "\"conversion\""),
        (r#""language":"fr""#, "'language'", "\"es\""),
        (r#""post_type":"reel""#, "'post_type'", "\"video\""),
        (r#""length":"huge""#, "'length'", "\"medium\""),
        (r#""hashtags":6"#, "'hashtags'", "0 to 5"),
        (r#""hashtags":-1"#, "'hashtags'", "0 to 5"),
        (r#""emoji":"yes""#, "'emoji'", "true or false"),
        (r#""n":0"#, "'n'", "1 to 10"),
        (r#""n":11"#, "'n'", "1 to 10"),
        (r#""budget":-1"#, "'budget'", "number"),
        (r#""seed":"abc""#, "'seed'", "integer"),
        (r#""seed":1.5"#, "'seed'", "integer"),
        (r#""cta":5"#, "'cta'", "string"),
        (r#""keywords":"a,b""#, "'keywords'", "array"),
        (r#""keywords":[1]"#, "'keywords'", "array"),
        (r#""keywords":[""]"#, "'keywords'", "array"),
        (
            r#""keywords":["a","b","c","d","e","f","g","h","i","j","k"]"#,
            "'keywords'",
            "at most 10",
        ),
        (r#""brand_voice":"fun""#, "'brand_voice'", "object"),
        (
            r#""brand_voice":{"use_words":"x"}"#,
            "'brand_voice.use_words'",
            "array",
        ),
        (
            r#""brand_voice":{"words_to_avoid":[3]}"#,
            "'brand_voice.words_to_avoid'",
            "array",
        ),
        (
            r#""brand_voice":{"use_words":["Eco"],"avoid_words":["eco"]}"#,
            "'brand_voice'",
            "both",
        ),
        (r#""page":{"likes":3}"#, "'page.id'", "required"),
        (r#""page":{"id":true}"#, "'page.id'", "string"),
        (r#""page":{"id":"p","likes":-3}"#, "'page.likes'", "integer"),
        (r#""page":[1]"#, "'page'", "object"),
        (r#""audience":["a"]"#, "'audience'", "string"),
        (
            r#""brand_voice":{"avoid":["barato"]}"#,
            "'brand_voice.avoid'",
            "\"avoid_words\"",
        ),
        (
            r#""brand_voice":{"name":"X","use_word":["a"]}"#,
            "'brand_voice.use_word'",
            "\"use_words\"",
        ),
        (r#""details":5"#, "'details'", "array"),
        (r#""details":[3]"#, "'details'", "array"),
        (r#""details":["  "]"#, "'details'", "array"),
        (
            r#""details":["a","b","c","d","e","f","g","h","i"]"#,
            "'details'",
            "9 items",
        ),
    ];
    for (extra, field, hint) in cases {
        let body = r#"{"topic":"coffee","#.to_string() + extra + "}";
        let e = err(&body);
        assert_eq!(e.status, 422, "{body}");
        assert!(
            e.message.contains(field) && e.message.contains(hint),
            "{body}: {}",
            e.message
        );
    }
}

#[test]
fn details_are_a_list_or_free_text() {
    let b = Brief::from_json(
        r#"{"topic":"cata de café","details":["sábado 14 de junio, 11:00"," Calle Luna 5 ","12 €."]}"#
            .as_bytes(),
    )
    .unwrap();
    assert_eq!(
        b.details,
        vec!["sábado 14 de junio, 11:00", "Calle Luna 5", "12 €"]
    );
    let b = Brief::from_json(
        br#"{"topic":"latte art class","details":"Saturday 10am\nElm Street studio; $25; $25"}"#,
    )
    .unwrap();
    assert_eq!(b.details, vec!["Saturday 10am", "Elm Street studio", "$25"]);
    assert!(
        Brief::from_json(br#"{"topic":"x"}"#)
            .unwrap()
            .details
            .is_empty()
    );
}

#[test]
fn an_unknown_brand_voice_key_is_named_in_a_422() {
    let e = err(r#"{"topic":"pan","brand_voice":{"name":"La Tahona","avoid":["barato"]}}"#);
    assert_eq!((e.status, e.code), (422, "invalid_field"));
    assert!(e.message.contains("'brand_voice.avoid'"), "{}", e.message);
    // Both spellings of the word lists stay accepted.
    for body in [
        r#"{"topic":"pan","brand_voice":{"use_words":["a"],"avoid_words":["b"]}}"#,
        r#"{"topic":"pan","brand_voice":{"words_to_use":["a"],"words_to_avoid":["b"]}}"#,
    ] {
        assert!(Brief::from_json(body.as_bytes()).is_ok(), "{body}");
    }
}

#[test]
fn cache_key_tracks_every_field() {
    let base = Brief::from_json(br#"{"topic":"coffee tasting","seed":1}"#).unwrap();
    let k = base.cache_key();
    assert_eq!(k.len(), 64);
    let same =
        Brief::from_json(br#"{"seed":1,"topic":" coffee tasting ","tone":"FRIENDLY"}"#).unwrap();
    assert_eq!(same.cache_key(), k);
    let mut keys = vec![k];
    for extra in [
        r#""seed":2"#,
        r#""seed":1,"n":4"#,
        r#""seed":1,"hashtags":3"#,
        r#""seed":1,"emoji":false"#,
        r#""seed":1,"language":"es""#,
        r#""seed":1,"goal":"traffic""#,
        r#""seed":1,"keywords":["beans"]"#,
        r#""seed":1,"details":["June 14"]"#,
        r#""seed":1,"budget":1"#,
    ] {
        let body = format!(r#"{{"topic":"coffee tasting",{extra}}}"#);
        keys.push(Brief::from_json(body.as_bytes()).unwrap().cache_key());
    }
    let total = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), total);
}
