//! Fuzzing of the predict step's request parser and response: no input
//! panics [`PredictRequest::from_json`] (the posting time, `posting_window`,
//! `page_id`, `text` included) or [`FeedbackRequest::from_json`], every
//! rejection is a client error (4xx, snake_case code, message), and every
//! accepted request gets a response from [`predict`] — with a fake model
//! whose outputs are arbitrary finite numbers, negative and huge ones
//! included — that has at most [`TOP_N`] best times and serialises.
//!
//! Bounded in CI (case counts below); run longer on demand with the
//! standard `PROPTEST_CASES` variable, e.g.
//! `PROPTEST_CASES=5000 cargo test --release -p fbposts-engagement --test fuzz`
//! (see `fbposts-fuzz`).

use fbposts_engagement::encoding::FeatureRow;
use fbposts_engagement::engine::TargetRow;
use fbposts_engagement::feedback::FeedbackRequest;
use fbposts_engagement::{EngineError, Outputs, PredictRequest, TOP_N, predict};
use fbposts_fuzz::{assert_client_error, config, hostile_text, json_value, mutated, raw_body};
use proptest::prelude::*;
use serde_json::{Value, json};

/// The predict request's paths a mutation may touch, nested ones included.
const PREDICT_FIELDS: &[&str] = &[
    "page_likes",
    "post_type",
    "category",
    "paid",
    "scheduled_at",
    "month",
    "weekday",
    "hour",
    "text",
    "language",
    "page_id",
    "posting_window",
    "posting_window.start",
    "posting_window.end",
];

/// The feedback request's paths.
const FEEDBACK_FIELDS: &[&str] = &[
    "id",
    "text",
    "page_id",
    "page_likes",
    "post_type",
    "paid",
    "category",
    "published_at",
    "metrics",
    "metrics.reactions",
    "metrics.comments",
    "metrics.shares",
    "metrics.reach",
    "metrics.impressions",
    "metrics.clicks",
];

fn valid_predict() -> Value {
    json!({
        "page_likes": 120000,
        "post_type": "photo",
        "category": 2,
        "paid": false,
        "scheduled_at": "2026-12-01T18:30:00-05:00",
        "text": "¿Ya probaste el pan de masa madre? 12 € en https://example.com/pan 🎉",
        "language": "es",
        "page_id": "tahona",
        "posting_window": {"start": "07:00", "end": "22:00"},
    })
}

fn valid_feedback() -> Value {
    json!({
        "text": "Nuevo pan de masa madre",
        "page_id": "tahona",
        "page_likes": 120000,
        "post_type": "photo",
        "paid": false,
        "category": 2,
        "published_at": "2026-12-01T18:30:00-05:00",
        "metrics": {"reactions": 120, "comments": 14, "shares": 9, "reach": 5400, "impressions": 8000, "clicks": 75},
    })
}

/// A fake model: each quantile a linear function of weekday and hour with
/// the given coefficients (any finite values, so negative or huge outputs
/// too).
#[derive(Debug, Clone, Copy)]
struct FakeModel {
    base: f32,
    per_weekday: f32,
    per_hour: f32,
}

impl FakeModel {
    fn outputs(self, rows: &[FeatureRow]) -> Result<Outputs, EngineError> {
        let p50: Vec<TargetRow> = rows
            .iter()
            .map(|r| {
                let v = self.base + self.per_weekday * r[4] + self.per_hour * r[5];
                [v, v * 2.0, v * 3.0, v * 40.0]
            })
            .collect();
        let scale = |k: f32| p50.iter().map(|row| row.map(|v| v * k)).collect::<Vec<_>>();
        Ok(Outputs {
            p10: scale(0.5),
            p90: scale(2.0),
            p50,
        })
    }
}

fn fake_model() -> impl Strategy<Value = FakeModel> {
    (-1e6f32..1e9, -1e4f32..1e4, -1e4f32..1e4).prop_map(|(base, per_weekday, per_hour)| FakeModel {
        base,
        per_weekday,
        per_hour,
    })
}

/// Parses a predict body; an accepted request is predicted and checked.
fn parse_and_predict(body: &[u8], model: FakeModel) {
    match PredictRequest::from_json(body) {
        Ok(req) => {
            assert!((1..=3).contains(&req.category));
            assert!(
                (1..=12).contains(&req.month) && (1..=7).contains(&req.weekday) && req.hour < 24
            );
            let engine = |rows: &[FeatureRow]| model.outputs(rows);
            let response = predict(&req, &engine, "fuzz", None).expect("the fake model answers");
            assert!(response.best_times.len() <= TOP_N);
            serde_json::to_string(&response).expect("a response always serialises");
            let _ = req.cache_key();
        }
        Err(e) => assert_client_error(e.status, e.code, &e.message),
    }
}

fn parse_feedback(body: &[u8]) {
    if let Err(e) = FeedbackRequest::from_json(body) {
        assert_client_error(e.status, e.code, &e.message);
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn fuzz_raw_bodies_parse_or_fail_as_client_errors(body in raw_body(), model in fake_model()) {
        parse_and_predict(&body, model);
        parse_feedback(&body);
    }

    #[test]
    fn fuzz_arbitrary_json_values_parse_or_fail_as_client_errors(value in json_value(), model in fake_model()) {
        let body = value.to_string();
        parse_and_predict(body.as_bytes(), model);
        parse_feedback(body.as_bytes());
    }

    #[test]
    fn fuzz_valid_predict_requests_mutated_field_by_field_are_predicted_or_refused(
        value in mutated(valid_predict(), PREDICT_FIELDS),
        model in fake_model(),
    ) {
        parse_and_predict(value.to_string().as_bytes(), model);
    }

    #[test]
    fn fuzz_valid_feedback_mutated_field_by_field_parses_or_fails_as_a_client_error(
        value in mutated(valid_feedback(), FEEDBACK_FIELDS),
    ) {
        parse_feedback(value.to_string().as_bytes());
    }

    #[test]
    fn fuzz_hostile_text_and_posting_windows_are_predicted_or_refused(
        text in hostile_text(40, 5_000),
        start in "[0-9]{1,3}:[0-9]{1,3}|[0-9:]{0,6}",
        end in "[0-9]{1,3}:[0-9]{1,3}|[0-9:]{0,6}",
        model in fake_model(),
    ) {
        let mut value = valid_predict();
        value["text"] = json!(text);
        value["posting_window"] = json!({"start": start, "end": end});
        parse_and_predict(value.to_string().as_bytes(), model);
    }
}
