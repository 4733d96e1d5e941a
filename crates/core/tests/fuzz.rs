//! Fuzzing of the analyse step's input parser and text pipeline: no input
//! panics [`AnalyzeRequest::from_json`] or [`analyze`], every rejection is a
//! client error (4xx, snake_case code, message), and every analysis has a
//! finite score in `[0, 1]` whatever the text — emoji, combining marks,
//! right-to-left and control characters, very long words, runs of hashtags,
//! links and numbers, up to Facebook's 63,206-character limit.
//!
//! Bounded in CI (case counts below); run longer on demand with the
//! standard `PROPTEST_CASES` variable, e.g.
//! `PROPTEST_CASES=5000 cargo test --release -p fbposts-core --test fuzz`
//! (see `fbposts-fuzz`).

use fbposts_core::{AnalyzeRequest, ApiError, Language, MAX_POST_CHARS, PostType, Tone, analyze};
use fbposts_fuzz::{
    assert_client_error, config, hostile_text, json_value, mutated, raw_body, text_at_the_limit,
};
use proptest::prelude::*;
use serde_json::{Value, json};

fn assert_rejection_is_a_client_error(e: &ApiError) {
    assert_client_error(e.status, e.code, &e.message);
}

/// Runs the analysis and checks what it promises about its numbers.
fn assert_analysis_is_sound(req: &AnalyzeRequest) {
    let a = analyze(req);
    assert!(
        a.score.is_finite() && (0.0..=1.0).contains(&a.score),
        "score {} out of [0, 1]",
        a.score
    );
    assert!(
        a.weighted.is_finite() && (0.0..=1.0).contains(&a.weighted),
        "weighted {} out of [0, 1]",
        a.weighted
    );
    for s in &a.breakdown {
        assert!(
            s.score.is_finite() && (0.0..=1.0).contains(&s.score),
            "signal {} = {}",
            s.name,
            s.score
        );
    }
    assert_eq!(a.grade, fbposts_core::scoring::grade(a.score));
    assert!(a.suggestions.len() <= fbposts_core::scoring::MAX_SUGGESTIONS);
    if let Some(l) = req.language {
        assert_eq!(a.language, l);
    }
    serde_json::to_string(&a).expect("an analysis always serialises");
}

fn language() -> impl Strategy<Value = Option<Language>> {
    proptest::option::of(prop_oneof![Just(Language::Es), Just(Language::En)])
}

fn post_type() -> impl Strategy<Value = Option<PostType>> {
    proptest::option::of(proptest::sample::select(&PostType::ALL[..]))
}

fn tone() -> impl Strategy<Value = Option<Tone>> {
    proptest::option::of(proptest::sample::select(&Tone::ALL[..]))
}

/// The request paths a mutation may touch.
const ANALYZE_FIELDS: &[&str] = &["text", "language", "post_type", "audience", "tone"];

fn valid_request() -> Value {
    json!({
        "text": "¿Sabías que el 80 % de nuestros clientes vuelve? Reserva en https://example.com/r 🎉 #Café",
        "language": "es",
        "post_type": "photo",
        "audience": "familias",
        "tone": "friendly",
    })
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn fuzz_hostile_text_through_the_parser_and_analyze_never_panics(
        text in hostile_text(60, 20_000),
        language in language(),
        post_type in post_type(),
        tone in tone(),
    ) {
        let mut body = json!({ "text": text });
        if let Some(l) = language {
            body["language"] = json!(l.code());
        }
        if let Some(p) = post_type {
            body["post_type"] = json!(p.code());
        }
        if let Some(t) = tone {
            body["tone"] = json!(t.code());
        }
        match AnalyzeRequest::from_json(body.to_string().as_bytes()) {
            Ok(req) => {
                prop_assert_eq!(req.language, language);
                prop_assert!(!req.text.is_empty());
                assert_analysis_is_sound(&req);
            }
            Err(e) => {
                assert_rejection_is_a_client_error(&e);
                prop_assert!(
                    matches!(e.code, "empty_text"),
                    "only empty text is rejected here: {} {}", e.code, e.message
                );
            }
        }
        // Unparsed, the same text (even empty) still analyses.
        assert_analysis_is_sound(&AnalyzeRequest { language, post_type, tone, ..AnalyzeRequest::new(text) });
    }

    #[test]
    fn fuzz_raw_bodies_parse_or_fail_as_client_errors(body in raw_body()) {
        if let Err(e) = AnalyzeRequest::from_json(&body) {
            assert_rejection_is_a_client_error(&e);
        }
    }

    #[test]
    fn fuzz_arbitrary_json_values_parse_or_fail_as_client_errors(value in json_value()) {
        if let Err(e) = AnalyzeRequest::from_json(value.to_string().as_bytes()) {
            assert_rejection_is_a_client_error(&e);
        }
    }

    #[test]
    fn fuzz_valid_requests_mutated_field_by_field_parse_or_fail_as_client_errors(
        value in mutated(valid_request(), ANALYZE_FIELDS),
    ) {
        match AnalyzeRequest::from_json(value.to_string().as_bytes()) {
            Ok(req) => {
                prop_assert!(!req.text.is_empty());
                prop_assert!(req.text.chars().count() <= MAX_POST_CHARS);
                assert_analysis_is_sound(&req);
            }
            Err(e) => assert_rejection_is_a_client_error(&e),
        }
    }
}

proptest! {
    // Each case analyses ~63,000 chars: a few cases cover the limit.
    #![proptest_config(config(6))]

    #[test]
    fn fuzz_text_at_the_63206_char_limit_is_accepted_and_scored(text in text_at_the_limit(MAX_POST_CHARS)) {
        let body = json!({ "text": text });
        match AnalyzeRequest::from_json(body.to_string().as_bytes()) {
            Ok(req) => assert_analysis_is_sound(&req),
            Err(e) => {
                assert_rejection_is_a_client_error(&e);
                prop_assert_eq!(e.code, "empty_text");
            }
        }
        // Over the limit once normalised (CRLF counts as one char): always
        // refused, never analysed.
        let over = format!("{text}x");
        if fbposts_core::scoring::normalize_text(&over).chars().count() > MAX_POST_CHARS {
            let e = AnalyzeRequest::from_json(json!({ "text": over }).to_string().as_bytes())
                .unwrap_err();
            prop_assert_eq!((e.status, e.code), (422, "text_too_long"));
        }
    }
}
