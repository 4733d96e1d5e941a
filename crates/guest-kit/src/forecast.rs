//! The `fbposts:pipeline/forecast@0.1.0` import (feature `forecast`): the
//! engagement forecast as a call to whichever inference component the app
//! composed in (`inference-portable` or `inference-wasi-nn`; both export
//! it beside `fbposts:ml/inference`). [`outlook`] takes and returns
//! `fbposts-engagement`'s own types, so the response a step builds from it
//! is the one it built when it ran the model itself. The caller loads the
//! page's model from its store and passes it in: the forecast is a pure
//! function, as a Spin dependency must be.

use fbposts_core::PostType;
use fbposts_engagement::page::PAGE_TARGETS;
use fbposts_engagement::{
    BestTime, BestTimesBasis, BestTimesSource, EngineError, Outlook, PageInfo, PageModels,
    PredictRequest, Prediction,
};
use fbposts_learning::PageModel;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Bindings for the import (wit-bindgen through spin-sdk's re-export).
mod bindings {
    spin_sdk::wit_bindgen::generate!({
        path: "../../wit/pipeline",
        world: "fbposts:pipeline/forecast-user",
        runtime_path: "::spin_sdk::wit_bindgen::rt",
    });
}

use bindings::fbposts::pipeline::forecast as wit;

/// The inference implementation behind the import, as it names itself
/// (`portable (tract)`, `wasi-nn`): reported as `model.implementation` and
/// part of the response cache key.
pub fn implementation() -> String {
    wit::implementation()
}

/// The forecast of `request` (blended with `page` when given), through the
/// imported step.
pub fn outlook(
    request: &PredictRequest,
    page: Option<&PageModels>,
) -> Result<Outlook, EngineError> {
    let post = planned_post(request);
    let page = page.map(page_out);
    match wit::forecast(&post, page.as_ref()) {
        Ok(answer) => outlook_in(answer).map_err(EngineError::Contract),
        Err(wit::Error::Unavailable(detail)) => Err(EngineError::Unavailable(detail)),
        Err(wit::Error::UnknownModel(detail)) => Err(EngineError::UnknownModel(detail)),
        Err(wit::Error::Contract(detail)) => Err(EngineError::Contract(detail)),
    }
}

fn planned_post(request: &PredictRequest) -> wit::PlannedPost {
    wit::PlannedPost {
        page_likes: request.page_likes,
        post_type: match request.post_type {
            PostType::Status => wit::PostType::Status,
            PostType::Photo => wit::PostType::Photo,
            PostType::Video => wit::PostType::Video,
            PostType::Link => wit::PostType::Link,
        },
        category: request.category,
        paid: request.paid,
        month: request.month,
        weekday: request.weekday,
        hour: request.hour,
        scheduled_at: request.scheduled_at_string(),
        posting_window: wit::PostingWindow {
            start_minute: request.posting_window.start,
            end_minute: request.posting_window.end,
        },
    }
}

fn page_model_out(model: &PageModel) -> wit::PageModel {
    let stats = model.statistics();
    wit::PageModel {
        observations: stats.observations,
        precision: stats.precision,
        eta: stats.eta,
        sum_y2: stats.sum_y2,
    }
}

fn page_out(page: &PageModels) -> wit::Page {
    let [total_interactions, reach] = &page.models;
    wit::Page {
        id: page.page_id.clone(),
        total_interactions: page_model_out(total_interactions),
        reach: page_model_out(reach),
    }
}

fn targets_in(t: wit::Targets) -> [f32; 4] {
    [t.total_interactions, t.engaged_users, t.consumers, t.reach]
}

fn best_time_in(b: wit::BestTime) -> Result<BestTime, String> {
    let at = match b.at {
        Some(at) => Some(
            OffsetDateTime::parse(&at, &Rfc3339)
                .map_err(|e| format!("best time {at:?} is not RFC 3339: {e}"))?,
        ),
        None => None,
    };
    Ok(BestTime {
        weekday: b.weekday,
        hour: b.hour,
        at,
        total_interactions_p10: b.total_interactions_p10,
        total_interactions_p50: b.total_interactions_p50,
        total_interactions_p90: b.total_interactions_p90,
        uplift_pct: b.uplift_pct,
        requested: b.requested,
        low_data: b.low_data,
    })
}

fn basis_in(b: wit::BestTimesBasis) -> BestTimesBasis {
    BestTimesBasis {
        source: match b.source {
            wit::BestTimesSource::PageFeedback => BestTimesSource::PageFeedback,
            wit::BestTimesSource::GlobalModel2014SinglePage => {
                BestTimesSource::GlobalModel2014SinglePage
            }
        },
        hour_effect_weight: b.hour_effect_weight,
        min_hour_gap: b.min_hour_gap,
        page_observations: b.page_observations,
    }
}

fn target_name(name: &str) -> Result<&'static str, String> {
    PAGE_TARGETS
        .iter()
        .map(|(target, _)| *target)
        .find(|target| *target == name)
        .ok_or_else(|| format!("unknown blended target {name:?}"))
}

fn page_in(p: wit::PageBlend) -> Result<PageInfo, String> {
    Ok(PageInfo {
        id: p.id,
        observations: p.observations,
        min_observations: p.min_observations,
        blended: p
            .blended
            .iter()
            .map(|name| target_name(name))
            .collect::<Result<_, _>>()?,
    })
}

fn outlook_in(answer: wit::Answer) -> Result<Outlook, String> {
    let answered_by = match answer.answered_by.as_str() {
        "global" => "global",
        "page-blend" => "page-blend",
        other => return Err(format!("unknown answered-by {other:?}")),
    };
    Ok(Outlook {
        requested: Prediction {
            p10: targets_in(answer.requested.p10),
            p50: targets_in(answer.requested.p50),
            p90: targets_in(answer.requested.p90),
        },
        best_times: answer
            .best_times
            .into_iter()
            .map(best_time_in)
            .collect::<Result<_, _>>()?,
        best_times_basis: basis_in(answer.best_times_basis),
        answered_by,
        page: answer.page.map(page_in).transpose()?,
    })
}
