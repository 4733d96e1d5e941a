//! Per-page blending: a page's own model (`fbposts_learning::PageModel`,
//! taught by `/api/feedback`) adjusting the global model's quantiles.
//!
//! Two targets are learned per page: `total_interactions` (every feedback
//! event has reactions + comments + shares) and `reach` (when the feedback
//! reported it). A target is blended once its model has
//! [`MIN_PAGE_OBSERVATIONS`] observations: every slot's p10/p50/p90 of that
//! target is multiplied (as `1 + q`) by `exp` of the page model's mean
//! log-ratio for that slot's context, so the best times reflect the page
//! too (the slots carry `total_interactions` alone, what best times rank
//! by; `reach` is blended into the requested slot). `engaged_users` and
//! `consumers` stay global (feedback rarely has them).

use crate::encoding::TOTAL_INTERACTIONS;
use crate::engine::{Forecast, TargetQuantiles};
use crate::request::PredictRequest;
use fbposts_learning::{MIN_PAGE_OBSERVATIONS, PageFeatures, PageModel};
use serde::Serialize;

/// Index of `reach` in the model's targets.
pub const REACH: usize = 3;

/// The targets a page model can learn: name and index.
pub const PAGE_TARGETS: [(&str, usize); 2] =
    [("total_interactions", TOTAL_INTERACTIONS), ("reach", REACH)];

/// Key of a page's model of `target` in the `default` key-value store.
pub fn page_model_key(page_id: &str, target: &str) -> String {
    format!("page/{page_id}/model/{target}")
}

/// Key of the prior a page without a model of `target` starts from, in the
/// `default` store: the pages' pooled prior, refreshed by the `learning-loop`
/// component ([`fbposts_learning::PageModel::pooled_prior`]).
pub fn pooled_prior_key(target: &str) -> String {
    format!("prior/page-model/{target}")
}

/// A page's models, as loaded from the store (absent ones are fresh).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PageModels {
    pub page_id: String,
    /// One per [`PAGE_TARGETS`] entry, same order.
    pub models: [PageModel; 2],
}

/// What the response says about the page's model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PageInfo {
    pub id: String,
    /// Feedback events learned for `total_interactions`.
    pub observations: u64,
    /// Observations needed before a target is blended.
    pub min_observations: u64,
    /// Targets adjusted by the page's model (empty: global answer).
    pub blended: Vec<&'static str>,
}

impl PageModels {
    pub fn info(&self, blended: Vec<&'static str>) -> PageInfo {
        PageInfo {
            id: self.page_id.clone(),
            observations: self.models[0].observations,
            min_observations: MIN_PAGE_OBSERVATIONS,
            blended,
        }
    }
}

/// The page model's features for a slot of this request.
pub fn features(req: &PredictRequest, weekday: u8, hour: u8) -> PageFeatures {
    PageFeatures::new(req.paid, weekday, hour)
}

/// `global` adjusted by the page's `model` in context `x`, if it can be.
fn adjust(global: TargetQuantiles, model: &PageModel, x: &PageFeatures) -> Option<TargetQuantiles> {
    let global = [
        f64::from(global.p10),
        f64::from(global.p50),
        f64::from(global.p90),
    ];
    let [p10, p50, p90] = model.adjust(x, global)?;
    Some(TargetQuantiles {
        p10: p10 as f32,
        p50: p50 as f32,
        p90: p90 as f32,
    })
}

/// Blends every ready page model into the requested slot and the week's
/// slots; returns the names of the targets blended.
pub fn blend(
    forecast: &mut Forecast,
    req: &PredictRequest,
    page: &PageModels,
) -> Vec<&'static str> {
    let mut blended = Vec::new();
    for ((name, target), model) in PAGE_TARGETS.iter().zip(&page.models) {
        if !model.ready() {
            continue;
        }
        let x = features(req, req.weekday, req.hour);
        let Some(requested) = adjust(forecast.requested.target(*target), model, &x) else {
            continue;
        };
        forecast.requested.set_target(*target, requested);
        if *target == TOTAL_INTERACTIONS {
            for slot in &mut forecast.slots {
                let x = features(req, slot.weekday, slot.hour);
                if let Some(q) = adjust(slot.total_interactions, model, &x) {
                    slot.total_interactions = q;
                }
            }
        }
        blended.push(*name);
    }
    blended
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Prediction, SlotPrediction};

    fn forecast() -> Forecast {
        let p = Prediction {
            p10: [10.0, 20.0, 30.0, 1000.0],
            p50: [99.0, 200.0, 300.0, 9999.0],
            p90: [300.0, 600.0, 900.0, 30000.0],
        };
        Forecast {
            requested: p,
            slots: vec![SlotPrediction {
                weekday: 2,
                hour: 9,
                total_interactions: p.target(TOTAL_INTERACTIONS),
            }],
        }
    }

    fn req() -> PredictRequest {
        PredictRequest::from_json(
            br#"{"page_likes":100000,"post_type":"photo","month":5,"weekday":3,"hour":12,"page_id":"acme"}"#,
        )
        .unwrap()
    }

    #[test]
    fn models_below_the_threshold_leave_the_global_answer() {
        let mut f = forecast();
        let mut page = PageModels {
            page_id: "acme".into(),
            ..PageModels::default()
        };
        for _ in 0..MIN_PAGE_OBSERVATIONS - 1 {
            page.models[0].observe(&PageFeatures::new(false, 3, 12), 1.0);
        }
        assert!(blend(&mut f, &req(), &page).is_empty());
        assert_eq!(f, forecast());
        assert_eq!(page.info(vec![]).observations, MIN_PAGE_OBSERVATIONS - 1);
    }

    #[test]
    fn a_ready_model_scales_its_target_in_every_slot() {
        let mut f = forecast();
        let mut page = PageModels::default();
        for i in 0..40u8 {
            page.models[0].observe(&PageFeatures::new(i % 2 == 0, 1 + i % 7, i % 24), 2f64.ln());
        }
        let blended = blend(&mut f, &req(), &page);
        assert_eq!(blended, vec!["total_interactions"]);
        let p50 = f.requested.p50[0];
        assert!((p50 - 199.0).abs() < 25.0, "{p50}");
        assert!(f.slots[0].total_interactions.p50 > 150.0);
        // Other targets untouched.
        assert_eq!(f.requested.p50[1], 200.0);
        assert_eq!(f.requested.p50[REACH], 9999.0);
    }
}
