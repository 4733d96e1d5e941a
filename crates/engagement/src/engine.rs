//! The inference seam: the [`Engine`] trait (the component implements it
//! over `fbposts:ml/inference`, tests with a fake), the model's [`Outputs`]
//! (decoded from tensors in [`crate::tensors`]), the errors an engine may report and how
//! they map to HTTP, and [`forecast`], which scores the requested slot and
//! the week's weekday × hour slots inside the posting window (only those
//! can be suggested: 112 of 168 in the default 07:00–22:00 window, a third
//! less inference).
//!
//! Slots are ranked by `total_interactions` alone. An engine that has the
//! model's timing head ([`Engine::run_timing`], `models/engagement-timing`)
//! scores them with it, a quarter of the whole model's cost per row, and
//! the requested slot with the whole model: on ONNX Runtime a predict miss
//! spends 0.34 ms in inference instead of 1.34 (README, "Speed"). An engine
//! without it scores all rows in one batch of the whole model, as before.

use crate::encoding::{FeatureRow, N_TARGETS, TOTAL_INTERACTIONS};
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

/// One target's three quantiles.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TargetQuantiles {
    pub p10: f32,
    pub p50: f32,
    pub p90: f32,
}

impl Prediction {
    /// The quantiles of `target` (an index into `encoding::TARGETS`).
    pub fn target(&self, target: usize) -> TargetQuantiles {
        TargetQuantiles {
            p10: self.p10[target],
            p50: self.p50[target],
            p90: self.p90[target],
        }
    }

    /// Replaces the quantiles of `target`.
    pub fn set_target(&mut self, target: usize, q: TargetQuantiles) {
        self.p10[target] = q.p10;
        self.p50[target] = q.p50;
        self.p90[target] = q.p90;
    }
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

    /// `total_interactions`' quantiles of `rows` from the model's timing
    /// head (`encoding::TIMING_MODEL_NAME`), or `None` when this engine
    /// does not have it: [`forecast`] then scores the slots with
    /// [`run`](Engine::run).
    fn run_timing(
        &self,
        _rows: &[FeatureRow],
    ) -> Option<Result<Vec<TargetQuantiles>, EngineError>> {
        None
    }
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

/// A weekday × hour slot of the week and its predicted total interactions
/// (the only target best times rank by).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlotPrediction {
    /// 1 = Sunday … 7 = Saturday.
    pub weekday: u8,
    /// 0–23.
    pub hour: u8,
    pub total_interactions: TargetQuantiles,
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

/// The rows of the [`window_slots`] (same likes, type, category, month and
/// paid as the request).
pub fn slot_rows(req: &PredictRequest) -> Vec<FeatureRow> {
    window_slots(req)
        .map(|(weekday, hour)| req.feature_row(weekday, hour))
        .collect()
}

/// The rows of one request's batch on an engine without the timing head:
/// the requested row first, then the [`slot_rows`].
pub fn batch_rows(req: &PredictRequest) -> Vec<FeatureRow> {
    let mut rows = vec![req.requested_row()];
    rows.extend(slot_rows(req));
    rows
}

/// Scores the request: the slots on the timing head and the requested row
/// on the whole model when the engine has the head, else ONE engine call
/// on [`batch_rows`].
pub fn forecast(engine: &impl Engine, req: &PredictRequest) -> Result<Forecast, EngineError> {
    let slots = slot_rows(req);
    let (requested, timing) = match engine.run_timing(&slots) {
        Some(timing) => {
            let timing = timing?;
            let requested = run_rows(engine, &[req.requested_row()])?;
            (requested.row(0).unwrap_or_default(), timing)
        }
        None => {
            let outputs = run_rows(engine, &batch_rows(req))?;
            let timing = (1..outputs.len())
                .filter_map(|i| outputs.row(i))
                .map(|p| p.target(TOTAL_INTERACTIONS))
                .collect();
            (outputs.row(0).unwrap_or_default(), timing)
        }
    };
    if timing.len() != slots.len() {
        return Err(EngineError::Contract(format!(
            "the model returned {} slot rows for {} inputs",
            timing.len(),
            slots.len()
        )));
    }
    let slots = window_slots(req)
        .zip(timing)
        .map(|((weekday, hour), total_interactions)| SlotPrediction {
            weekday,
            hour,
            total_interactions,
        })
        .collect();
    Ok(Forecast { requested, slots })
}

/// [`Engine::run`], checked to answer one row per input row.
fn run_rows(engine: &impl Engine, rows: &[FeatureRow]) -> Result<Outputs, EngineError> {
    let outputs = engine.run(rows)?;
    if outputs.len() != rows.len() {
        return Err(EngineError::Contract(format!(
            "the model returned {} rows for {} inputs",
            outputs.len(),
            rows.len()
        )));
    }
    Ok(outputs)
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
                s.total_interactions.p50,
                f32::from(s.weekday) * 100.0 + f32::from(s.hour)
            );
        }
    }

    /// An engine with the timing head: the whole model answers
    /// `weekday * 100 + hour` in every target, the head `-(weekday * 100 +
    /// hour)`, so a test sees which one scored a row. It records the row
    /// counts of each call.
    #[derive(Default)]
    struct WithHead {
        whole_calls: std::cell::RefCell<Vec<usize>>,
        head_calls: std::cell::RefCell<Vec<usize>>,
        head_rows_short_by: usize,
    }

    fn code(r: &FeatureRow) -> f32 {
        r[4] * 100.0 + r[5]
    }

    impl Engine for WithHead {
        fn run(&self, rows: &[FeatureRow]) -> Result<Outputs, EngineError> {
            self.whole_calls.borrow_mut().push(rows.len());
            let q: Vec<TargetRow> = rows.iter().map(|r| [code(r); 4]).collect();
            Ok(Outputs {
                p10: q.clone(),
                p50: q.clone(),
                p90: q,
            })
        }

        fn run_timing(
            &self,
            rows: &[FeatureRow],
        ) -> Option<Result<Vec<TargetQuantiles>, EngineError>> {
            self.head_calls.borrow_mut().push(rows.len());
            let n = rows.len() - self.head_rows_short_by;
            Some(Ok(rows[..n]
                .iter()
                .map(|r| TargetQuantiles {
                    p10: -code(r) - 1.0,
                    p50: -code(r),
                    p90: -code(r) + 1.0,
                })
                .collect()))
        }
    }

    #[test]
    fn with_the_timing_head_slots_are_scored_by_it_and_the_requested_row_alone_by_the_whole_model()
    {
        let engine = WithHead::default();
        let f = forecast(&engine, &req()).unwrap();
        assert_eq!(*engine.head_calls.borrow(), [7 * 16]);
        assert_eq!(*engine.whole_calls.borrow(), [1]);
        assert_eq!(f.requested.p50, [207.0; 4]);
        assert_eq!(f.slots.len(), 7 * 16);
        for s in &f.slots {
            let want = -(f32::from(s.weekday) * 100.0 + f32::from(s.hour));
            assert_eq!(
                s.total_interactions,
                TargetQuantiles {
                    p10: want - 1.0,
                    p50: want,
                    p90: want + 1.0
                }
            );
        }
    }

    #[test]
    fn a_timing_head_that_answers_fewer_rows_is_a_contract_error() {
        let engine = WithHead {
            head_rows_short_by: 1,
            ..WithHead::default()
        };
        let e = forecast(&engine, &req()).unwrap_err();
        assert_eq!(
            e,
            EngineError::Contract("the model returned 111 slot rows for 112 inputs".into())
        );
    }

    #[test]
    fn a_failing_timing_head_fails_the_forecast() {
        struct Down;
        impl Engine for Down {
            fn run(&self, _: &[FeatureRow]) -> Result<Outputs, EngineError> {
                panic!("the whole model must not run after the head failed")
            }
            fn run_timing(
                &self,
                _: &[FeatureRow],
            ) -> Option<Result<Vec<TargetQuantiles>, EngineError>> {
                Some(Err(EngineError::Unavailable("gpu lost".into())))
            }
        }
        assert_eq!(
            forecast(&Down, &req()),
            Err(EngineError::Unavailable("gpu lost".into()))
        );
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
