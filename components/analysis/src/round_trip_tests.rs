//! The analysis contract natively, both converters at once: `fbposts-core`'s
//! `Analysis` → this component's report (`convert.rs`) → the importer's
//! converter in `fbposts-guest-kit` → `Analysis`. The importer's file is
//! compiled here against this side's WIT types (the two sides generate the
//! same records from `wit/pipeline`), so a field that core serializes but
//! the contract or either converter drops makes the JSON differ.

use crate::bindings::exports::fbposts::pipeline::analysis as wit;
use crate::convert;
use fbposts_core::{Analysis, AnalyzeRequest, Language, PostType, Tone};

/// The converter `fbposts-guest-kit`'s `analysis` import uses.
#[path = "../../../crates/guest-kit/src/analysis/convert.rs"]
mod importer;

/// What an HTTP step gets back when it scores `request` through the step.
fn through_the_contract(request: &AnalyzeRequest) -> Analysis {
    let options = importer::options(request);
    let step_request = convert::request(request.text.clone(), options);
    let report = convert::report(fbposts_core::analyze(&step_request));
    importer::report(report).expect("the report keeps the contract")
}

fn request(text: &str) -> AnalyzeRequest {
    AnalyzeRequest::new(text)
}

/// Posts that between them fill every field: both languages, given and
/// detected options, facts of every kind, bait, hashtag issues, repeated
/// words, links and mentions, a short post and an empty-of-substance one.
fn requests() -> Vec<AnalyzeRequest> {
    vec![
        request(
            "¿Sabías que el sábado 14 de junio a las 18:00 abrimos tienda en la Plaza Mayor? \
             Ven y prueba el café de María: 2x1 toda la tarde, 3 € el segundo 🎉☕\n\
             Reserva en https://bit.ly/abc #Cafe #cafe #NUEVO @mariacafe",
        ),
        AnalyzeRequest {
            language: Some(Language::En),
            post_type: Some(PostType::Photo),
            tone: Some(Tone::Playful),
            audience: Some("parents".into()),
            ..request(
                "LIKE if you agree!!! Comment YES and share with everyone!!! \
                 Tag a friend who needs this amazing amazing amazing deal 😂😂😂 #deal2024",
            )
        },
        AnalyzeRequest {
            language: Some(Language::Es),
            tone: Some(Tone::Informative),
            ..request("hola")
        },
        request(
            "Join us this Saturday, June 14 at 7pm at the Market Street studio: \
             free workshop with Anna Lee, 20% off all prints. Book now: https://example.com/workshop",
        ),
        AnalyzeRequest {
            post_type: Some(PostType::Video),
            ..request("New post")
        },
        request("https://example.com"),
        request("What is your favourite coffee shop in Madrid, and what do you order there?"),
    ]
}

#[test]
fn every_field_core_serializes_survives_the_wit_round_trip() {
    for request in requests() {
        let direct = serde_json::to_value(fbposts_core::analyze(&request)).unwrap();
        let through = serde_json::to_value(through_the_contract(&request)).unwrap();
        assert_eq!(through, direct, "post {:?}", request.text);
    }
}

#[test]
fn the_requests_fill_the_new_fields_of_the_contract() {
    let reports: Vec<wit::Report> = requests()
        .iter()
        .map(|request| convert::report(fbposts_core::analyze(request)))
        .collect();
    assert!(reports.iter().any(|r| r.gate.short_post));
    assert!(reports.iter().any(|r| r.gate.factor < 1.0));
    assert!(reports.iter().any(|r| r.weighted != r.score));
    assert!(
        reports
            .iter()
            .any(|r| r.features.substance.reason_to_engage.is_none())
    );
    for reason in [
        wit::ReasonToEngage::CallToAction,
        wit::ReasonToEngage::Question,
        wit::ReasonToEngage::Link,
    ] {
        assert!(
            reports
                .iter()
                .any(|r| r.features.substance.reason_to_engage == Some(reason)),
            "no post gives the reason {reason:?}"
        );
    }
    assert!(
        reports
            .iter()
            .any(|r| !r.features.substance.facts.is_empty())
    );
}

#[test]
fn a_report_from_another_scorer_version_is_refused() {
    let mut report = convert::report(fbposts_core::analyze(&request("hola")));
    report.scorer_version = "analyze-0.0.0".into();
    let refusal = importer::report(report).unwrap_err();
    assert!(refusal.contains("analyze-0.0.0"), "{refusal}");
}
