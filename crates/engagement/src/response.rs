//! The predict response: the requested slot's quantiles (rounded to whole
//! counts), the best times and what they are based on, the decoded input
//! (with the posting window), the model that answered, the
//! optional quality score of the text (beside the numbers, never mixed into
//! them) and warnings where the model extrapolates. [`predict`] runs the
//! whole step on an [`Engine`].

use crate::PREDICT_VERSION;
use crate::basis::{BasisJson, BestTimesBasis, best_times_basis};
use crate::best_times::{BestTime, best_times};
use crate::encoding::{
    CATEGORY_NAMES, LOW_DATA_POSTS, MODEL_NAME, MODEL_VERSION, TRAINING_LIKES_RANGE,
    TRAINING_POSTS_BY_HOUR, TRAINING_POSTS_BY_TYPE, type_code, weekday_name,
};
use crate::engine::{Engine, EngineError, Prediction, SlotPrediction, TargetRow, forecast};
use crate::page::{PageInfo, PageModels, blend};
use crate::request::{PredictRequest, model_page_likes};
use crate::window::PostingWindow;
use fbposts_core::{Analysis, Language, PostType, analyze};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;

/// Quality suggestions shown beside a prediction (the most impactful first).
pub const QUALITY_SUGGESTIONS: usize = 3;

/// Post types with fewer training posts than this get a warning (links: 16,
/// videos: 6 of 400).
pub const LOW_DATA_TYPE_POSTS: u16 = 20;

/// The response body of `POST /api/predict`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PredictResponse {
    /// The requested slot.
    pub predictions: Predictions,
    /// At most three slots, best first.
    pub best_times: Vec<BestTimeJson>,
    /// Where the best times' preference among hours comes from.
    pub best_times_basis: BasisJson,
    /// The request as the model saw it.
    pub input: InputEcho,
    pub model: ModelInfo,
    /// Present when the request had `text`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quality: Option<Quality>,
    /// Where the inputs leave the training data (possibly empty).
    pub warnings: Vec<Warning>,
    pub predictor_version: &'static str,
}

/// 10th, 50th and 90th percentile, in whole counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Quantiles {
    pub p10: u64,
    pub p50: u64,
    pub p90: u64,
}

/// The four targets' quantiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Predictions {
    /// Comments + likes + shares.
    pub total_interactions: Quantiles,
    /// People who engaged with the post (Insights' lifetime engaged users).
    pub engaged_users: Quantiles,
    /// People who clicked anywhere in the post (lifetime post consumers).
    pub consumers: Quantiles,
    /// People who saw the post (lifetime post total reach).
    pub reach: Quantiles,
}

/// One best time as sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BestTimeJson {
    /// 1 = Sunday … 7 = Saturday.
    pub weekday: u8,
    pub weekday_name: &'static str,
    pub hour: u8,
    /// RFC 3339, in `scheduled_at`'s offset; only when it was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// The model's 10th / 50th / 90th percentile of total interactions at
    /// the slot (blended with the page's model when it answered).
    pub total_interactions_p10: u64,
    pub total_interactions_p50: u64,
    pub total_interactions_p90: u64,
    /// Percent vs the requested slot's p50; `null` when that is 0.
    pub uplift_pct: Option<f64>,
    pub requested: bool,
    pub low_data: bool,
}

/// The decoded request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputEcho {
    pub page_likes: u64,
    pub post_type: PostType,
    pub category: u8,
    pub category_name: &'static str,
    pub paid: bool,
    pub month: u8,
    /// 1 = Sunday … 7 = Saturday.
    pub weekday: u8,
    pub weekday_name: &'static str,
    pub hour: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduled_at: Option<String>,
    pub posting_window: WindowJson,
}

/// The posting window used, as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WindowJson {
    /// `"HH:MM"`.
    pub start: String,
    /// `"HH:MM"`; before `start` when the window crosses midnight.
    pub end: String,
    /// `scheduled_at`'s offset (`"-05:00"`, `"Z"`); absent with
    /// `month`/`weekday`/`hour`, whose hour is in the page's own clock.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<String>,
}

impl WindowJson {
    fn new(window: &PostingWindow, req: &PredictRequest) -> Self {
        WindowJson {
            start: window.start_text(),
            end: window.end_text(),
            offset: req.scheduled_at_string().map(|at| offset_of(&at)),
        }
    }
}

/// The offset at the end of an RFC 3339 date-time (`Z` or `±hh:mm`).
fn offset_of(rfc3339: &str) -> String {
    match rfc3339.strip_suffix(['Z', 'z']) {
        Some(_) => "Z".to_string(),
        None => rfc3339[rfc3339.len().saturating_sub(6)..].to_string(),
    }
}

/// Which model answered, and through which inference implementation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelInfo {
    pub name: &'static str,
    pub version: &'static str,
    pub implementation: String,
    /// `"global"` (the trained model alone) or `"page-blend"` (adjusted by
    /// the page's own model, see [`crate::page`]).
    pub answered_by: &'static str,
    /// The page's model, when the request named a page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<PageInfo>,
}

impl ModelInfo {
    /// The engagement model as answered by `implementation`.
    pub fn new(implementation: impl Into<String>) -> Self {
        ModelInfo {
            name: MODEL_NAME,
            version: MODEL_VERSION,
            implementation: implementation.into(),
            answered_by: "global",
            page: None,
        }
    }
}

/// The text's quality score (`/api/analyze`'s, shortened).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Quality {
    pub score: f64,
    pub grade: &'static str,
    pub language: Language,
    /// At most [`QUALITY_SUGGESTIONS`], in the post's language.
    pub suggestions: Vec<String>,
    pub scorer_version: &'static str,
}

impl Quality {
    pub fn from_analysis(analysis: &Analysis) -> Self {
        Quality {
            score: analysis.score,
            grade: analysis.grade,
            language: analysis.language,
            suggestions: analysis
                .suggestions
                .iter()
                .take(QUALITY_SUGGESTIONS)
                .cloned()
                .collect(),
            scorer_version: analysis.scorer_version,
        }
    }
}

/// A note that the model is extrapolating.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    pub code: &'static str,
    pub message: String,
}

/// Rounds a model output to a whole count (outputs are ≥ 0; anything else
/// becomes 0).
fn count(x: f32) -> u64 {
    let x = f64::from(x);
    if x.is_finite() && x > 0.0 {
        x.round() as u64
    } else {
        0
    }
}

fn quantiles(p: &Prediction, target: usize) -> Quantiles {
    let pick = |row: &TargetRow| count(row[target]);
    Quantiles {
        p10: pick(&p.p10),
        p50: pick(&p.p50),
        p90: pick(&p.p90),
    }
}

impl Predictions {
    pub fn from_prediction(p: &Prediction) -> Self {
        Predictions {
            total_interactions: quantiles(p, 0),
            engaged_users: quantiles(p, 1),
            consumers: quantiles(p, 2),
            reach: quantiles(p, 3),
        }
    }
}

impl BestTimeJson {
    pub fn from_best_time(b: &BestTime) -> Self {
        BestTimeJson {
            weekday: b.weekday,
            weekday_name: weekday_name(b.weekday),
            hour: b.hour,
            at: b.at.and_then(|t| t.format(&Rfc3339).ok()),
            total_interactions_p10: count(b.total_interactions_p10),
            total_interactions_p50: count(b.total_interactions_p50),
            total_interactions_p90: count(b.total_interactions_p90),
            uplift_pct: b.uplift_pct,
            requested: b.requested,
            low_data: b.low_data,
        }
    }
}

/// Where the request leaves the training data: page likes outside its range,
/// an hour or a post type with few training posts.
pub fn warnings(req: &PredictRequest) -> Vec<Warning> {
    let mut out = Vec::new();
    let (lo, hi) = TRAINING_LIKES_RANGE;
    if !(lo..=hi).contains(&req.page_likes) {
        out.push(Warning {
            code: "page_likes_outside_training_range",
            message: format!(
                "the model was trained on one page with {lo} to {hi} likes; a page of {} likes is predicted as one of {}",
                req.page_likes,
                model_page_likes(req.page_likes)
            ),
        });
    }
    let at_hour = TRAINING_POSTS_BY_HOUR[usize::from(req.hour.min(23))];
    if at_hour < LOW_DATA_POSTS {
        out.push(Warning {
            code: "hour_low_data",
            message: format!(
                "only {at_hour} of the 400 training posts were published at hour {}; the prediction for that hour is uncertain",
                req.hour
            ),
        });
    }
    let of_type = TRAINING_POSTS_BY_TYPE[usize::from(type_code(req.post_type))];
    if of_type < LOW_DATA_TYPE_POSTS {
        out.push(Warning {
            code: "post_type_low_data",
            message: format!(
                "only {of_type} of the 400 training posts are of type {}; the prediction for it is uncertain",
                req.post_type.code()
            ),
        });
    }
    out
}

/// Assembles the response from the requested slot's prediction and the
/// week's slots (best times are ranked here on the global basis).
pub fn build_response(
    req: &PredictRequest,
    requested: &Prediction,
    slots: &[SlotPrediction],
    model: ModelInfo,
    quality: Option<Quality>,
) -> PredictResponse {
    let basis = BestTimesBasis::global(0);
    respond(
        req,
        requested,
        &best_times(req, requested, slots, &basis),
        &basis,
        model,
        quality,
    )
}

/// Assembles the response from the requested slot's prediction and the
/// ranked best times (what the `fbposts:pipeline/forecast` export answers).
pub fn respond(
    req: &PredictRequest,
    requested: &Prediction,
    best: &[BestTime],
    basis: &BestTimesBasis,
    model: ModelInfo,
    quality: Option<Quality>,
) -> PredictResponse {
    PredictResponse {
        predictions: Predictions::from_prediction(requested),
        best_times: best.iter().map(BestTimeJson::from_best_time).collect(),
        best_times_basis: BasisJson::new(basis),
        input: InputEcho {
            page_likes: req.page_likes,
            post_type: req.post_type,
            category: req.category,
            category_name: CATEGORY_NAMES
                .get(usize::from(req.category).wrapping_sub(1))
                .copied()
                .unwrap_or(""),
            paid: req.paid,
            month: req.month,
            weekday: req.weekday,
            weekday_name: weekday_name(req.weekday),
            hour: req.hour,
            scheduled_at: req.scheduled_at_string(),
            posting_window: WindowJson::new(&req.posting_window, req),
        },
        model,
        quality,
        warnings: warnings(req),
        predictor_version: PREDICT_VERSION,
    }
}

/// The engagement part of the step, without the text's quality: the
/// requested slot (blended with the page's model when ready), the best
/// times and who answered. What the `forecast` export computes.
#[derive(Debug, Clone, PartialEq)]
pub struct Outlook {
    pub requested: Prediction,
    pub best_times: Vec<BestTime>,
    /// Where the best times' hour preference comes from.
    pub best_times_basis: BestTimesBasis,
    /// `"global"` or `"page-blend"` (see [`ModelInfo::answered_by`]).
    pub answered_by: &'static str,
    pub page: Option<PageInfo>,
}

impl Outlook {
    /// The model section of the response, for `implementation`.
    pub fn model_info(&self, implementation: impl Into<String>) -> ModelInfo {
        ModelInfo {
            answered_by: self.answered_by,
            page: self.page.clone(),
            ..ModelInfo::new(implementation)
        }
    }
}

/// One batch on `engine` (requested slot + the window's slots), blended with `page`.
pub fn outlook(
    req: &PredictRequest,
    engine: &impl Engine,
    page: Option<&PageModels>,
) -> Result<Outlook, EngineError> {
    let mut forecast = forecast(engine, req)?;
    let mut answered_by = "global";
    let mut basis = BestTimesBasis::global(0);
    let page = page.map(|page| {
        let blended = blend(&mut forecast, req, page);
        if !blended.is_empty() {
            answered_by = "page-blend";
        }
        basis = best_times_basis(page, &blended);
        page.info(blended)
    });
    Ok(Outlook {
        best_times: best_times(req, &forecast.requested, &forecast.slots, &basis),
        best_times_basis: basis,
        requested: forecast.requested,
        answered_by,
        page,
    })
}

/// The whole step: [`outlook`] on `engine`, the text's quality score when
/// given, and the response. `implementation` names the inference
/// implementation that answered.
pub fn predict(
    req: &PredictRequest,
    engine: &impl Engine,
    implementation: &str,
    page: Option<&PageModels>,
) -> Result<PredictResponse, EngineError> {
    let outlook = outlook(req, engine, page)?;
    let quality = req
        .quality
        .as_ref()
        .map(|q| Quality::from_analysis(&analyze(q)));
    Ok(respond(
        req,
        &outlook.requested,
        &outlook.best_times,
        &outlook.best_times_basis,
        outlook.model_info(implementation),
        quality,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::FeatureRow;
    use crate::engine::Outputs;
    use serde_json::{Value, json};

    fn req(body: &str) -> PredictRequest {
        PredictRequest::from_json(body.as_bytes()).unwrap()
    }

    /// A fake model: p50 total interactions peaks on Wednesday (4) at 10h;
    /// other targets are multiples; p10 = p50 / 2, p90 = p50 × 2.
    fn fake(rows: &[FeatureRow]) -> Result<Outputs, EngineError> {
        let p50: Vec<TargetRow> = rows
            .iter()
            .map(|r| {
                let (weekday, hour) = (r[4], r[5]);
                let ti = 100.0 + if weekday == 4.0 { 50.0 } else { weekday } - (hour - 10.0).abs();
                [ti, ti * 3.0 + 0.4, ti * 2.5, ti * 40.0]
            })
            .collect();
        let scale = |k: f32| p50.iter().map(|row| row.map(|v| v * k)).collect::<Vec<_>>();
        Ok(Outputs {
            p10: scale(0.5),
            p90: scale(2.0),
            p50,
        })
    }

    #[test]
    fn response_shape() {
        let r = req(
            r#"{"page_likes":120000,"post_type":"photo","category":2,"scheduled_at":"2026-12-01T18:30:00-05:00",
                "text":"¿Sabías que 3 de cada 4 clientes leen opiniones antes de comprar? Cuéntanos la tuya 👇"}"#,
        );
        let resp = predict(&r, &fake, "test-engine", None).unwrap();
        let v = serde_json::to_value(&resp).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let mut want = vec![
            "best_times",
            "best_times_basis",
            "input",
            "model",
            "predictions",
            "predictor_version",
            "quality",
            "warnings",
        ];
        want.sort_unstable();
        let mut keys = keys;
        keys.sort_unstable();
        assert_eq!(keys, want);

        // Requested: Tuesday (3) 18h → ti = 100 + 3 − 8 = 95.
        assert_eq!(
            v["predictions"]["total_interactions"],
            json!({"p10": 48, "p50": 95, "p90": 190})
        );
        assert_eq!(v["predictions"]["engaged_users"]["p50"], 285);
        assert_eq!(v["predictions"]["consumers"]["p50"], 238);
        assert_eq!(
            v["predictions"]["reach"],
            json!({"p10": 1900, "p50": 3800, "p90": 7600})
        );
        for target in ["total_interactions", "engaged_users", "consumers", "reach"] {
            let q = &v["predictions"][target];
            assert!(
                q["p10"].as_u64() <= q["p50"].as_u64() && q["p50"].as_u64() <= q["p90"].as_u64()
            );
        }

        let best = v["best_times"].as_array().unwrap();
        assert_eq!(best.len(), 3);
        assert_eq!(
            best[0],
            json!({
                "weekday": 4, "weekday_name": "wednesday", "hour": 10,
                "at": "2026-12-02T10:30:00-05:00",
                "total_interactions_p10": 75, "total_interactions_p50": 150,
                "total_interactions_p90": 300, "uplift_pct": 57.9,
                "requested": false, "low_data": false
            })
        );
        // Then Saturday and Friday (100 + 7, 100 + 6), spread at least 3 h
        // from 10 h and from each other: Saturday 7 h (104, tied with 13 h,
        // earlier), Friday 13 h.
        assert_eq!(
            (best[1]["weekday_name"].as_str(), best[1]["hour"].as_u64()),
            (Some("saturday"), Some(7))
        );
        assert_eq!(best[1]["at"], "2026-12-05T07:30:00-05:00");
        assert_eq!(
            (best[2]["weekday_name"].as_str(), best[2]["hour"].as_u64()),
            (Some("friday"), Some(13))
        );

        assert_eq!(
            v["input"],
            json!({
                "page_likes": 120000, "post_type": "photo", "category": 2, "category_name": "product",
                "paid": false, "month": 12, "weekday": 3, "weekday_name": "tuesday", "hour": 18,
                "scheduled_at": "2026-12-01T18:30:00-05:00",
                "posting_window": {"start": "07:00", "end": "22:00", "offset": "-05:00"}
            })
        );
        assert_eq!(
            v["best_times_basis"]["source"],
            "global_model_2014_single_page"
        );
        assert_eq!(v["best_times_basis"]["hour_effect_weight"], 0.5);
        assert_eq!(v["best_times_basis"]["min_page_observations"], 20);
        assert!(
            v["best_times_basis"]["note"]
                .as_str()
                .unwrap()
                .contains("one brand page")
        );
        assert_eq!(
            v["model"],
            json!({"name": "engagement", "version": MODEL_VERSION, "implementation": "test-engine", "answered_by": "global"})
        );
        let q = &v["quality"];
        assert!(
            q["score"]
                .as_f64()
                .is_some_and(|s| (0.0..=1.0).contains(&s))
        );
        assert!(["A", "B", "C", "D", "F"].contains(&q["grade"].as_str().unwrap()));
        assert_eq!(q["language"], "es");
        assert!(q["suggestions"].as_array().unwrap().len() <= QUALITY_SUGGESTIONS);
        assert_eq!(q["scorer_version"], fbposts_core::SCORER_VERSION);
        // Hour 18 had 3 training posts.
        let codes: Vec<&str> = v["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, vec!["hour_low_data"]);
        assert_eq!(v["predictor_version"], PREDICT_VERSION);
    }

    #[test]
    fn slot_requests_have_no_dates_and_no_quality() {
        let r = req(
            r#"{"page_likes":5000,"post_type":"video","paid":true,"month":7,"weekday":4,"hour":10}"#,
        );
        let v = serde_json::to_value(predict(&r, &fake, "x", None).unwrap()).unwrap();
        assert!(v.get("quality").is_none());
        assert!(v["input"].get("scheduled_at").is_none());
        assert_eq!(v["input"]["category_name"], "action");
        let best = v["best_times"].as_array().unwrap();
        assert!(best.iter().all(|b| b.get("at").is_none()));
        // The request is the best slot: uplift 0, flagged as requested.
        assert_eq!(best[0]["requested"], true);
        assert_eq!(best[0]["uplift_pct"], 0.0);
        assert!(best[1]["uplift_pct"].as_f64().unwrap() < 0.0);
        let codes: Vec<&str> = v["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["code"].as_str().unwrap())
            .collect();
        assert_eq!(
            codes,
            vec!["page_likes_outside_training_range", "post_type_low_data"]
        );
    }

    #[test]
    fn build_response_rounds_and_handles_a_zero_baseline() {
        let r = req(r#"{"page_likes":100000,"post_type":"status","month":1,"weekday":1,"hour":3}"#);
        let requested = Prediction {
            p10: [0.0, 0.49, 1.5, -0.0],
            p50: [0.0, 2.5, 2.4999, 1e7],
            p90: [3.7, 10.0, 10.0, 2e9],
        };
        let slots = [SlotPrediction {
            weekday: 2,
            hour: 9,
            total_interactions: requested.target(0),
        }];
        let resp = build_response(&r, &requested, &slots, ModelInfo::new("fake"), None);
        assert_eq!(
            resp.predictions.total_interactions,
            Quantiles {
                p10: 0,
                p50: 0,
                p90: 4
            }
        );
        assert_eq!(
            resp.predictions.engaged_users,
            Quantiles {
                p10: 0,
                p50: 3,
                p90: 10
            }
        );
        assert_eq!(resp.predictions.consumers.p50, 2);
        assert_eq!(
            resp.predictions.reach,
            Quantiles {
                p10: 0,
                p50: 10_000_000,
                p90: 2_000_000_000
            }
        );
        assert_eq!(resp.best_times.len(), 1);
        assert_eq!(resp.best_times[0].uplift_pct, None);
        let v: Value = serde_json::to_value(&resp).unwrap();
        assert_eq!(v["best_times"][0]["uplift_pct"], Value::Null);
        assert!(resp.warnings.is_empty());
    }

    #[test]
    fn engine_errors_pass_through() {
        let r = req(r#"{"page_likes":100000,"post_type":"status","month":1,"weekday":1,"hour":3}"#);
        let unknown = |_: &[FeatureRow]| Err(EngineError::UnknownModel("engagement".into()));
        assert_eq!(
            predict(&r, &unknown, "x", None)
                .unwrap_err()
                .to_api_error()
                .status,
            500
        );
    }
}
