//! What the best times are based on: the page's own feedback outcomes once
//! its model knows its hours, else the global model's hour effect — learned
//! from one brand page in 2014 in an unknown time zone — weighed down and
//! spread (see [`crate::best_times`] for the method). [`best_times_basis`]
//! decides; [`BasisJson`] is how the response states it, with its
//! uncertainty in plain words.

use crate::page::PageModels;
use fbposts_learning::MIN_HOUR_OBSERVATIONS;
use serde::Serialize;

/// Weight of the global model's hour effect in the ranking (1 = as
/// predicted, 0 = flat): half, because it comes from one page in an unknown
/// time zone, and its p10–p90 band at any slot is several times wider than
/// the differences between hours.
pub const GLOBAL_HOUR_EFFECT_WEIGHT: f64 = 0.5;

/// Least hours between two best times chosen on the global model's hour
/// effect (circular: 23 h and 1 h are 2 h apart).
pub const MIN_HOUR_GAP: u8 = 3;

/// Where the best times' preference among hours comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BestTimesSource {
    /// The page's own feedback outcomes (its model knows its hours).
    PageFeedback,
    /// The global model: one page, 2014, unknown time zone.
    GlobalModel2014SinglePage,
}

impl BestTimesSource {
    /// As sent: `page_feedback` or `global_model_2014_single_page`.
    pub fn code(self) -> &'static str {
        match self {
            BestTimesSource::PageFeedback => "page_feedback",
            BestTimesSource::GlobalModel2014SinglePage => "global_model_2014_single_page",
        }
    }
}

/// How the best times were chosen (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BestTimesBasis {
    pub source: BestTimesSource,
    /// Weight of the hour effect in the ranking (1 = as predicted).
    pub hour_effect_weight: f64,
    /// Least hours between two best times (0: no rule).
    pub min_hour_gap: u8,
    /// Feedback events the page's model has learned (0 without a page).
    pub page_observations: u64,
}

impl BestTimesBasis {
    /// The global model's hour effect, weighed down and spread.
    pub fn global(page_observations: u64) -> Self {
        BestTimesBasis {
            source: BestTimesSource::GlobalModel2014SinglePage,
            hour_effect_weight: GLOBAL_HOUR_EFFECT_WEIGHT,
            min_hour_gap: MIN_HOUR_GAP,
            page_observations,
        }
    }

    /// The page's own outcomes, as blended into the slots.
    pub fn page_feedback(page_observations: u64) -> Self {
        BestTimesBasis {
            source: BestTimesSource::PageFeedback,
            hour_effect_weight: 1.0,
            min_hour_gap: 0,
            page_observations,
        }
    }
}

/// The page's own outcomes rank the hours once its `total_interactions`
/// model is blended in and knows its hours (`PageModel::knows_hours`:
/// [`MIN_HOUR_OBSERVATIONS`] events with hour spread ≥
/// [`fbposts_learning::MIN_HOUR_SPREAD`]);
/// otherwise the global model's hour effect, weighed down.
pub fn best_times_basis(page: &PageModels, blended: &[&'static str]) -> BestTimesBasis {
    let model = &page.models[0];
    let observations = model.observations;
    if blended.contains(&"total_interactions") && model.knows_hours() {
        BestTimesBasis::page_feedback(observations)
    } else {
        BestTimesBasis::global(observations)
    }
}

/// What the best times are based on, as sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BasisJson {
    /// `page_feedback` or `global_model_2014_single_page`.
    pub source: &'static str,
    /// Weight of the hour effect in the ranking (1 = as predicted).
    pub hour_effect_weight: f64,
    /// Least hours between two best times (0: no rule).
    pub min_hour_gap: u8,
    /// Feedback events the page's model has learned (0 without `page_id`).
    pub page_observations: u64,
    /// Feedback events (spread over the day) before the page's own
    /// outcomes rank the hours.
    pub min_page_observations: u64,
    /// The basis and its uncertainty in plain words.
    pub note: String,
}

impl BasisJson {
    pub fn new(basis: &BestTimesBasis) -> Self {
        let note = match basis.source {
            BestTimesSource::PageFeedback => format!(
                "Hours ranked by this page's own outcomes: the global prediction times what the page's {} feedback events taught its model for each weekday and hour; each best time's p10-p90 is the model's band.",
                basis.page_observations
            ),
            BestTimesSource::GlobalModel2014SinglePage => format!(
                "Hours come from the global model, learned from one brand page's 400 posts in 2014 in an unknown time zone (most published at 2-4 h); its hour effect is weighed at {:.0} % and the suggestions are spread across days, at least {} h apart. The p10-p90 band of each best time is wider than the differences between hours: treat them as times to try. After {} feedback events with page_id at different times of day, the page's own outcomes rank the hours.",
                basis.hour_effect_weight * 100.0,
                basis.min_hour_gap,
                MIN_HOUR_OBSERVATIONS
            ),
        };
        BasisJson {
            source: basis.source.code(),
            hour_effect_weight: basis.hour_effect_weight,
            min_hour_gap: basis.min_hour_gap,
            page_observations: basis.page_observations,
            min_page_observations: MIN_HOUR_OBSERVATIONS,
            note,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fbposts_learning::PageFeatures;

    #[test]
    fn sources_have_stable_codes() {
        assert_eq!(BestTimesSource::PageFeedback.code(), "page_feedback");
        assert_eq!(
            BestTimesSource::GlobalModel2014SinglePage.code(),
            "global_model_2014_single_page"
        );
    }

    #[test]
    fn the_page_ranks_hours_only_when_blended_and_knowing_them() {
        let mut page = PageModels::default();
        for i in 0..MIN_HOUR_OBSERVATIONS as u8 {
            let hour = if i % 2 == 0 { 9 } else { 20 };
            page.models[0].observe(&PageFeatures::new(false, 1 + i % 7, hour), 0.3);
        }
        let basis = best_times_basis(&page, &["total_interactions"]);
        assert_eq!(basis, BestTimesBasis::page_feedback(MIN_HOUR_OBSERVATIONS));
        assert_eq!(basis.hour_effect_weight, 1.0);
        // Not blended (e.g. a singular model): the global basis.
        assert_eq!(
            best_times_basis(&page, &[]),
            BestTimesBasis::global(MIN_HOUR_OBSERVATIONS)
        );
        let young = PageModels::default();
        let basis = best_times_basis(&young, &["total_interactions"]);
        assert_eq!(basis.source, BestTimesSource::GlobalModel2014SinglePage);
        assert_eq!((basis.hour_effect_weight, basis.min_hour_gap), (0.5, 3));
        let json = BasisJson::new(&basis);
        assert_eq!(json.source, "global_model_2014_single_page");
        assert!(
            json.note.contains("2014") && json.note.contains("50 %"),
            "{}",
            json.note
        );
    }
}
