//! The inference seam: the [`Engine`] trait (the component implements it
//! over `fbposts:ml/inference`, tests with a fake), decoding of the model's
//! output tensors into [`Outputs`], the errors an engine may report and how
//! they map to HTTP, and [`forecast`], which scores the requested slot and
//! the week's weekday × hour slots inside the posting window in one batch
//! (only those can be suggested: 112 of 168 in the default 07:00–22:00
//! window, a third less inference).

use crate::encoding::{FeatureRow, N_TARGETS, OUTPUT_NAMES};
use crate::request::PredictRequest;
use fbposts_core::ApiError;

/// One quantile's row: `total_interactions`, `engaged_users`, `consumers`,
/// `reach` (see `encoding::TARGETS`).
pub type TargetRow = [f32; N_TARGETS];

/// The model's outputs for N rows: one [`TargetRow`] per row and quantile.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outputs {
    pub p10: Vec<TargetRow>,
    pub p50: Vec<TargetRow>,
    pub p90: Vec<TargetRow>,
}

/// The three quantiles for one input row.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Prediction {
    pub p10: TargetRow,
    pub p50: TargetRow,
    pub p90: TargetRow,
}

/// Why inference failed, by whose problem it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineError {
    /// The backend could not load or run the model (the WIT `backend`
    /// error, or the inference component is missing): 503, worth retrying.
    Unavailable(String),
    /// The implementation has no model of that name: a deployment mistake, 500.
    UnknownModel(String),
    /// Inputs or outputs do not match the model's contract (the WIT
    /// `bad-shape` error, or missing/mis-shaped/non-finite outputs): a bug
    /// or a model/step version mismatch, 500.
    Contract(String),
}

impl EngineError {
    /// The HTTP error for the caller. No internals beyond the model name.
    pub fn to_api_error(&self) -> ApiError {
        match self {
            EngineError::Unavailable(_) => ApiError::new(
                503,
                "inference_unavailable",
                "the prediction model is unavailable right now; try again later",
            ),
            EngineError::UnknownModel(model) => ApiError::new(
                500,
                "internal",
                format!("internal error: the inference implementation has no model '{model}'"),
            ),
            EngineError::Contract(_) => ApiError::new(
                500,
                "internal",
                "internal error: the prediction model's inputs or outputs do not match its contract",
            ),
        }
    }

    /// The detail, for the server log.
    pub fn detail(&self) -> &str {
        match self {
            EngineError::Unavailable(d)
            | EngineError::UnknownModel(d)
            | EngineError::Contract(d) => d,
        }
    }
}

/// Runs the engagement model on encoded rows (`[N, 7]`) and returns its
/// `[N, 4]` quantile outputs. Implemented by the component over the
/// `fbposts:ml/inference` import; any `Fn(&[FeatureRow]) -> Result<Outputs,
/// EngineError>` is an engine too (tests pass closures).
pub trait Engine {
    fn run(&self, rows: &[FeatureRow]) -> Result<Outputs, EngineError>;
}

impl<F> Engine for F
where
    F: Fn(&[FeatureRow]) -> Result<Outputs, EngineError>,
{
    fn run(&self, rows: &[FeatureRow]) -> Result<Outputs, EngineError> {
        self(rows)
    }
}

impl Outputs {
    /// Decodes named output tensors `(name, shape, data)` for `rows` input
    /// rows: `p10`, `p50` and `p90` must each be `[rows, 4]` with finite
    /// values; other outputs are ignored.
    pub fn from_tensors<'a>(
        rows: usize,
        tensors: impl IntoIterator<Item = (&'a str, &'a [u32], &'a [f32])>,
    ) -> Result<Self, EngineError> {
        let mut found: [Option<Vec<TargetRow>>; 3] = [None, None, None];
        for (name, shape, data) in tensors {
            let Some(slot) = OUTPUT_NAMES.iter().position(|n| *n == name) else {
                continue;
            };
            let want = [rows as u64, N_TARGETS as u64];
            let shape64: Vec<u64> = shape.iter().map(|&d| u64::from(d)).collect();
            if shape64 != want || data.len() != rows * N_TARGETS {
                return Err(EngineError::Contract(format!(
                    "output '{name}' has shape {shape:?} and {} values; expected [{rows}, {N_TARGETS}]",
                    data.len()
                )));
            }
            if let Some(bad) = data.iter().find(|v| !v.is_finite()) {
                return Err(EngineError::Contract(format!(
                    "output '{name}' holds a non-finite value ({bad})"
                )));
            }
            found[slot] = Some(
                data.chunks_exact(N_TARGETS)
                    .map(|c| [c[0], c[1], c[2], c[3]])
                    .collect(),
            );
        }
        let [p10, p50, p90] = found;
        match (p10, p50, p90) {
            (Some(p10), Some(p50), Some(p90)) => Ok(Outputs { p10, p50, p90 }),
            (p10, p50, p90) => {
                let missing: Vec<&str> = [p10.is_none(), p50.is_none(), p90.is_none()]
                    .iter()
                    .zip(OUTPUT_NAMES)
                    .filter(|(m, _)| **m)
                    .map(|(_, n)| n)
                    .collect();
                Err(EngineError::Contract(format!(
                    "the model returned no output named {}",
                    missing.join(", ")
                )))
            }
        }
    }

    /// Number of rows (the shortest quantile's).
    pub fn len(&self) -> usize {
        self.p10.len().min(self.p50.len()).min(self.p90.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The quantiles of row `i`.
    pub fn row(&self, i: usize) -> Option<Prediction> {
        Some(Prediction {
            p10: *self.p10.get(i)?,
            p50: *self.p50.get(i)?,
            p90: *self.p90.get(i)?,
        })
    }
}

/// A weekday × hour slot of the week and its prediction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlotPrediction {
    /// 1 = Sunday … 7 = Saturday.
    pub weekday: u8,
    /// 0–23.
    pub hour: u8,
    pub prediction: Prediction,
}

/// The requested slot's prediction and every slot of the week.
#[derive(Debug, Clone, PartialEq)]
pub struct Forecast {
    pub requested: Prediction,
    /// 168 slots, weekday 1 hour 0 first, weekday 7 hour 23 last.
    pub slots: Vec<SlotPrediction>,
}

/// Every weekday × hour of a week in the dataset's encoding, weekday 1
/// (Sunday) hour 0 first.
pub fn week_slots() -> impl Iterator<Item = (u8, u8)> {
    (1..=7u8).flat_map(|weekday| (0..24u8).map(move |hour| (weekday, hour)))
}

/// Number of slots in a week.
pub const WEEK_SLOTS: usize = 7 * 24;

/// The slots of [`week_slots`] inside the request's posting window
/// ([`PredictRequest::slot_in_window`]), in the same order.
pub fn window_slots(req: &PredictRequest) -> impl Iterator<Item = (u8, u8)> + '_ {
    week_slots().filter(|&(_, hour)| req.slot_in_window(hour))
}

/// The rows of one request's batch: the requested row first, then the
/// [`window_slots`] (same likes, type, category, month and paid).
pub fn batch_rows(req: &PredictRequest) -> Vec<FeatureRow> {
    std::iter::once(req.requested_row())
        .chain(window_slots(req).map(|(weekday, hour)| req.feature_row(weekday, hour)))
        .collect()
}

/// Scores the request: ONE engine call on [`batch_rows`].
pub fn forecast(engine: &impl Engine, req: &PredictRequest) -> Result<Forecast, EngineError> {
    let rows = batch_rows(req);
    let outputs = engine.run(&rows)?;
    if outputs.len() != rows.len() {
        return Err(EngineError::Contract(format!(
            "the model returned {} rows for {} inputs",
            outputs.len(),
            rows.len()
        )));
    }
    let requested = outputs.row(0).unwrap_or_default();
    let slots = window_slots(req)
        .enumerate()
        .map(|(i, (weekday, hour))| SlotPrediction {
            weekday,
            hour,
            prediction: outputs.row(i + 1).unwrap_or_default(),
        })
        .collect();
    Ok(Forecast { requested, slots })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req() -> PredictRequest {
        PredictRequest::from_json(
            br#"{"page_likes":100000,"post_type":"link","category":3,"paid":true,"month":5,"weekday":2,"hour":7}"#,
        )
        .unwrap()
    }

    fn req_with_window(window: &str) -> PredictRequest {
        PredictRequest::from_json(
            format!(
                r#"{{"page_likes":100000,"post_type":"link","category":3,"paid":true,"month":5,"weekday":2,"hour":7,"posting_window":{window}}}"#
            )
            .as_bytes(),
        )
        .unwrap()
    }

    #[test]
    fn the_whole_day_window_scores_the_requested_row_then_all_168_slots() {
        let rows = batch_rows(&req_with_window(r#"{"start":"00:00","end":"24:00"}"#));
        assert_eq!(rows.len(), 1 + WEEK_SLOTS);
        assert_eq!(rows[0], [100_000.0, 2.0, 3.0, 5.0, 2.0, 7.0, 1.0]);
        assert_eq!(rows[1], [100_000.0, 2.0, 3.0, 5.0, 1.0, 0.0, 1.0]);
        assert_eq!(rows[168], [100_000.0, 2.0, 3.0, 5.0, 7.0, 23.0, 1.0]);
        // Every slot exactly once; only weekday and hour vary.
        let mut seen: Vec<(u8, u8)> = rows[1..].iter().map(|r| (r[4] as u8, r[5] as u8)).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), WEEK_SLOTS);
        assert!(rows.iter().all(|r| r[..4] == rows[0][..4] && r[6] == 1.0));
    }

    #[test]
    fn only_slots_inside_the_posting_window_are_scored() {
        // Default 07:00–22:00, both ends included: 16 hours a day.
        let rows = batch_rows(&req());
        assert_eq!(rows.len(), 1 + 7 * 16);
        assert!(rows[1..].iter().all(|r| (7.0..=22.0).contains(&r[5])));
        // A window across midnight keeps its late and early hours.
        let night = batch_rows(&req_with_window(r#"{"start":"22:00","end":"02:00"}"#));
        let hours: Vec<u8> = night[1..8].iter().map(|r| r[5] as u8).collect();
        assert_eq!(hours, [0, 1, 2, 22, 23, 0, 1]);
        assert_eq!(night.len(), 1 + 7 * 5);
        // The requested slot is scored even outside the window.
        let late = PredictRequest::from_json(
            br#"{"page_likes":100000,"post_type":"link","category":3,"paid":true,"month":5,"weekday":2,"hour":3}"#,
        )
        .unwrap();
        assert_eq!(batch_rows(&late)[0][5], 3.0);
    }

    #[test]
    fn forecast_calls_the_engine_once_and_splits_rows() {
        let calls = std::cell::Cell::new(0);
        let engine = |rows: &[FeatureRow]| {
            calls.set(calls.get() + 1);
            let p50: Vec<TargetRow> = rows
                .iter()
                .map(|r| [r[4] * 100.0 + r[5], 0.0, 0.0, 0.0])
                .collect();
            Ok(Outputs {
                p10: p50.clone(),
                p50: p50.clone(),
                p90: p50,
            })
        };
        let f = forecast(&engine, &req()).unwrap();
        assert_eq!(calls.get(), 1);
        assert_eq!(f.requested.p50[0], 207.0);
        assert_eq!(f.slots.len(), 7 * 16);
        for s in &f.slots {
            assert_eq!(
                s.prediction.p50[0],
                f32::from(s.weekday) * 100.0 + f32::from(s.hour)
            );
        }
    }

    #[test]
    fn forecast_passes_errors_and_rejects_short_outputs() {
        let down = |_: &[FeatureRow]| Err(EngineError::Unavailable("gpu lost".into()));
        assert_eq!(
            forecast(&down, &req()),
            Err(EngineError::Unavailable("gpu lost".into()))
        );
        let short = |_: &[FeatureRow]| {
            Ok(Outputs {
                p10: vec![[1.0; 4]; 3],
                p50: vec![[1.0; 4]; 3],
                p90: vec![[1.0; 4]; 3],
            })
        };
        assert!(matches!(
            forecast(&short, &req()),
            Err(EngineError::Contract(_))
        ));
    }

    #[test]
    fn decodes_output_tensors() {
        let p10: Vec<f32> = (0..8).map(|i| i as f32).collect();
        let p50: Vec<f32> = (0..8).map(|i| i as f32 + 10.0).collect();
        let p90: Vec<f32> = (0..8).map(|i| i as f32 + 20.0).collect();
        let shape = [2u32, 4];
        let extra = [1.0f32];
        let out = Outputs::from_tensors(
            2,
            [
                ("p90", &shape[..], &p90[..]),
                ("debug", &[1u32][..], &extra[..]),
                ("p10", &shape[..], &p10[..]),
                ("p50", &shape[..], &p50[..]),
            ],
        )
        .unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(out.p10[1], [4.0, 5.0, 6.0, 7.0]);
        assert_eq!(out.row(0).unwrap().p50, [10.0, 11.0, 12.0, 13.0]);
        assert_eq!(out.row(1).unwrap().p90, [24.0, 25.0, 26.0, 27.0]);
        assert_eq!(out.row(2), None);

        let e = Outputs::from_tensors(2, [("p10", &shape[..], &p10[..])]).unwrap_err();
        assert_eq!(
            e,
            EngineError::Contract("the model returned no output named p50, p90".into())
        );
        let e = Outputs::from_tensors(3, [("p10", &shape[..], &p10[..])]).unwrap_err();
        assert!(matches!(e, EngineError::Contract(m) if m.contains("expected [3, 4]")));
        let e = Outputs::from_tensors(2, [("p10", &[8u32][..], &p10[..])]).unwrap_err();
        assert!(matches!(e, EngineError::Contract(_)));
        let mut nan = p50.clone();
        nan[3] = f32::NAN;
        let e = Outputs::from_tensors(2, [("p50", &shape[..], &nan[..])]).unwrap_err();
        assert!(matches!(e, EngineError::Contract(m) if m.contains("non-finite")));
    }

    #[test]
    fn errors_map_to_http() {
        let e = EngineError::Unavailable("onnx: out of memory at /x/y".into()).to_api_error();
        assert_eq!((e.status, e.code), (503, "inference_unavailable"));
        assert!(!e.message.contains("/x/y"), "no internals in the message");
        let e = EngineError::UnknownModel("engagement".into()).to_api_error();
        assert_eq!((e.status, e.code), (500, "internal"));
        assert!(e.message.contains("'engagement'"));
        let e = EngineError::Contract("bad".into()).to_api_error();
        assert_eq!((e.status, e.code), (500, "internal"));
        assert_eq!(EngineError::Contract("bad".into()).detail(), "bad");
    }
}
