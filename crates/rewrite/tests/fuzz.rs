//! Fuzzing of the enhance step's input parser and rewrite loop: no input
//! panics [`EnhanceRequest::from_json`] or [`enhance`], every rejection is a
//! client error (4xx, snake_case code, message), and every enhancement keeps
//! the promises of the crate docs on hostile text: the enhanced score is
//! never below the original, both are finite and in `[0, 1]`, at most
//! `max_edits` edits are made, and no fact (number, link, mention, name) of
//! the original is lost — except inside a sentence that was all engagement
//! bait, which the bait rule may drop whole (its `allowed_loss`).
//!
//! Bounded in CI (case counts below: each case scores every candidate of up
//! to 20 greedy steps); run longer on demand with the standard
//! `PROPTEST_CASES` variable, e.g.
//! `PROPTEST_CASES=2000 cargo test --release -p fbposts-rewrite --test fuzz`
//! (see `fbposts-fuzz`).

use fbposts_core::{ApiError, Language, MAX_POST_CHARS, PostType, Tone};
use fbposts_fuzz::{
    assert_client_error, config, hostile_text, json_value, mutated, raw_body, text_at_the_limit,
};
use fbposts_rewrite::facts::{facts, preserved};
use fbposts_rewrite::request::MAX_EDITS_LIMIT;
use fbposts_rewrite::{EnhanceRequest, enhance};
use proptest::prelude::*;
use serde_json::{Value, json};

fn assert_rejection_is_a_client_error(body: &[u8]) {
    if let Err(e) = EnhanceRequest::from_json(body) {
        let e = ApiError::from(e);
        assert_client_error(e.status, e.code, &e.message);
    }
}

fn in_unit_interval(x: f64) -> bool {
    x.is_finite() && (0.0..=1.0).contains(&x)
}

/// Enhances and checks what the crate promises.
fn assert_enhancement_keeps_its_promises(req: &EnhanceRequest) {
    let e = enhance(req);
    assert!(
        in_unit_interval(e.original.score),
        "original {}",
        e.original.score
    );
    assert!(
        in_unit_interval(e.enhanced.score),
        "enhanced {}",
        e.enhanced.score
    );
    assert!(
        e.enhanced.score >= e.original.score,
        "the score went down: {} -> {}\n{:?}\n{:?}",
        e.original.score,
        e.enhanced.score,
        e.original.text,
        e.enhanced.text
    );
    assert!(e.edits.len() <= req.max_edits);
    assert_eq!(e.target_reached, e.enhanced.score >= req.target_score);
    assert_eq!(e.message.is_none(), e.target_reached);
    if e.edits.is_empty() {
        assert_eq!(e.enhanced.text, e.original.text);
    }
    // Only the bait rule may drop facts (a short sentence that is all bait).
    if e.edits.iter().all(|edit| edit.rule != "engagement_bait") {
        let before = facts(&e.original.text);
        let after = facts(&e.enhanced.text);
        assert!(
            preserved(&before, &after),
            "lost facts\n{before:?}\n{after:?}\n{:?}\n{:?}",
            e.original.text,
            e.enhanced.text
        );
    }
    serde_json::to_string(&e).expect("an enhancement always serialises");
}

fn request(
    text: String,
    language: Option<Language>,
    post_type: Option<PostType>,
    tone: Option<Tone>,
    target_score: f64,
    max_edits: usize,
) -> EnhanceRequest {
    EnhanceRequest {
        language,
        post_type,
        tone,
        target_score,
        max_edits,
        ..EnhanceRequest::new(text)
    }
}

fn options() -> impl Strategy<Value = (Option<Language>, Option<PostType>, Option<Tone>)> {
    (
        proptest::option::of(prop_oneof![Just(Language::Es), Just(Language::En)]),
        proptest::option::of(proptest::sample::select(&PostType::ALL[..])),
        proptest::option::of(proptest::sample::select(&Tone::ALL[..])),
    )
}

/// The request paths a mutation may touch.
const ENHANCE_FIELDS: &[&str] = &[
    "text",
    "language",
    "post_type",
    "tone",
    "target_score",
    "max_edits",
];

fn valid_request() -> Value {
    json!({
        "text": "COMPARTE si te gusta!!! Nuevo iPhone 15 por 999 € en Tienda Sol, 3/5 en https://sol.example/x con @ana #Promo2024",
        "language": "es",
        "post_type": "link",
        "tone": "playful",
        "target_score": 0.9,
        "max_edits": 5,
    })
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn fuzz_raw_bodies_parse_or_fail_as_client_errors(body in raw_body()) {
        assert_rejection_is_a_client_error(&body);
    }

    #[test]
    fn fuzz_arbitrary_json_values_parse_or_fail_as_client_errors(value in json_value()) {
        assert_rejection_is_a_client_error(value.to_string().as_bytes());
    }

    #[test]
    fn fuzz_valid_requests_mutated_field_by_field_parse_or_fail_as_client_errors(
        value in mutated(valid_request(), ENHANCE_FIELDS),
    ) {
        let body = value.to_string();
        match EnhanceRequest::from_json(body.as_bytes()) {
            Ok(req) => {
                prop_assert!(!req.text.is_empty() && req.text.chars().count() <= MAX_POST_CHARS);
                prop_assert!(in_unit_interval(req.target_score));
                prop_assert!((1..=MAX_EDITS_LIMIT).contains(&req.max_edits));
            }
            Err(_) => assert_rejection_is_a_client_error(body.as_bytes()),
        }
    }
}

proptest! {
    // Each case runs the greedy loop (every rule's candidates scored per step).
    #![proptest_config(config(256))]

    #[test]
    fn fuzz_enhance_never_lowers_the_score_nor_loses_a_fact(
        text in hostile_text(40, 3_000),
        (language, post_type, tone) in options(),
        target_score in 0.0f64..=1.0,
        max_edits in 1usize..=MAX_EDITS_LIMIT,
    ) {
        let body = json!({
            "text": text,
            "language": language.map(Language::code),
            "post_type": post_type.map(PostType::code),
            "tone": tone.map(Tone::code),
            "target_score": target_score,
            "max_edits": max_edits,
        });
        match EnhanceRequest::from_json(body.to_string().as_bytes()) {
            Ok(req) => assert_enhancement_keeps_its_promises(&req),
            Err(e) => {
                let e = ApiError::from(e);
                assert_client_error(e.status, e.code, &e.message);
                prop_assert_eq!(e.code, "empty_text");
            }
        }
    }
}

proptest! {
    // Each case rewrites ~63,000 chars: a few cases cover the limit.
    #![proptest_config(config(4))]

    #[test]
    fn fuzz_enhance_at_the_63206_char_limit_keeps_its_promises(
        text in text_at_the_limit(MAX_POST_CHARS),
        (language, post_type, tone) in options(),
    ) {
        prop_assume!(!text.trim().is_empty());
        assert_enhancement_keeps_its_promises(&request(text, language, post_type, tone, 1.0, 3));
    }
}
