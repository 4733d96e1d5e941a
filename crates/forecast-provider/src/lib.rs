//! `fbposts-forecast-provider`: the `fbposts:pipeline/forecast@0.1.0`
//! export, shared by both inference components (`inference-portable`,
//! `inference-wasi-nn`) so the wasi-nn swap stays one dependency swap.
//!
//! [`answer`] runs `fbposts-engagement`'s forecast (the requested slot on
//! the whole model, the week's slots inside the posting window on its
//! timing head when the engine has it, the page blend,
//! the best times) on the component's own [`Engine`] and converts between
//! the WIT types and the crate's. The component implements the generated
//! `Guest` trait with it and exports it with [`bindings::export_forecast!`]:
//!
//! ```ignore
//! impl fbposts_forecast_provider::wit::Guest for Component {
//!     fn implementation() -> String { NAME.into() }
//!     fn forecast(post: PlannedPost, page: Option<Page>) -> Result<Answer, Error> {
//!         fbposts_forecast_provider::answer(&MyEngine, NAME, post, page)
//!     }
//! }
//! fbposts_forecast_provider::bindings::export_forecast!(Component with_types_in fbposts_forecast_provider::bindings);
//! ```

/// Generated bindings, with an export macro the components call; the glue
/// is wit-bindgen's `unsafe` ABI code (the workspace denies `unsafe`
/// everywhere else).
#[allow(unsafe_code)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/pipeline",
        world: "fbposts:pipeline/forecast-provider",
        pub_export_macro: true,
        export_macro_name: "export_forecast",
        default_bindings_module: "fbposts_forecast_provider::bindings",
    });
}

pub use bindings::exports::fbposts::pipeline::forecast as wit;

use fbposts_core::PostType;
use fbposts_engagement::page::PAGE_TARGETS;
use fbposts_engagement::{
    BestTime, BestTimesBasis, BestTimesSource, Engine, EngineError, Outlook, PageInfo, PageModels,
    PostingWindow, PredictRequest, Prediction, outlook,
};
use fbposts_learning::{PageModel, PageStatistics};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The forecast of `post` on `engine`, answered as `implementation`.
pub fn answer(
    engine: &impl Engine,
    implementation: &str,
    post: wit::PlannedPost,
    page: Option<wit::Page>,
) -> Result<wit::Answer, wit::Error> {
    let request = request(post).map_err(wit::Error::Contract)?;
    let page = page
        .map(page_in)
        .transpose()
        .map_err(wit::Error::Contract)?;
    match outlook(&request, engine, page.as_ref()) {
        Ok(outlook) => Ok(answer_out(outlook, implementation)),
        Err(EngineError::Unavailable(detail)) => Err(wit::Error::Unavailable(detail)),
        Err(EngineError::UnknownModel(detail)) => Err(wit::Error::UnknownModel(detail)),
        Err(EngineError::Contract(detail)) => Err(wit::Error::Contract(detail)),
    }
}

/// The engagement request for a planned post (no text: the caller scores
/// it; no page id: the page comes as its model).
pub fn request(post: wit::PlannedPost) -> Result<PredictRequest, String> {
    let scheduled_at = match post.scheduled_at {
        Some(at) => Some(
            OffsetDateTime::parse(&at, &Rfc3339)
                .map_err(|e| format!("scheduled-at {at:?} is not RFC 3339: {e}"))?,
        ),
        None => None,
    };
    let window = post.posting_window;
    let posting_window =
        PostingWindow::new(window.start_minute, window.end_minute).ok_or_else(|| {
            format!(
                "posting-window {}–{} is out of range or shorter than an hour",
                window.start_minute, window.end_minute
            )
        })?;
    Ok(PredictRequest {
        page_likes: post.page_likes,
        post_type: match post.post_type {
            wit::PostType::Status => PostType::Status,
            wit::PostType::Photo => PostType::Photo,
            wit::PostType::Video => PostType::Video,
            wit::PostType::Link => PostType::Link,
        },
        category: post.category,
        paid: post.paid,
        month: post.month,
        weekday: post.weekday,
        hour: post.hour,
        scheduled_at,
        quality: None,
        page_id: None,
        posting_window,
    })
}

fn page_model_in(model: wit::PageModel) -> Result<PageModel, String> {
    PageModel::from_statistics(PageStatistics {
        observations: model.observations,
        precision: model.precision,
        eta: model.eta,
        sum_y2: model.sum_y2,
    })
    .map_err(|e| e.to_string())
}

fn page_in(page: wit::Page) -> Result<PageModels, String> {
    Ok(PageModels {
        page_id: page.id,
        models: [
            page_model_in(page.total_interactions)?,
            page_model_in(page.reach)?,
        ],
    })
}

fn targets_out(row: [f32; 4]) -> wit::Targets {
    let [total_interactions, engaged_users, consumers, reach] = row;
    wit::Targets {
        total_interactions,
        engaged_users,
        consumers,
        reach,
    }
}

fn prediction_out(p: Prediction) -> wit::Prediction {
    wit::Prediction {
        p10: targets_out(p.p10),
        p50: targets_out(p.p50),
        p90: targets_out(p.p90),
    }
}

fn best_time_out(b: BestTime) -> wit::BestTime {
    wit::BestTime {
        weekday: b.weekday,
        hour: b.hour,
        at: b.at.and_then(|at| at.format(&Rfc3339).ok()),
        total_interactions_p10: b.total_interactions_p10,
        total_interactions_p50: b.total_interactions_p50,
        total_interactions_p90: b.total_interactions_p90,
        uplift_pct: b.uplift_pct,
        requested: b.requested,
        low_data: b.low_data,
    }
}

fn basis_out(b: BestTimesBasis) -> wit::BestTimesBasis {
    wit::BestTimesBasis {
        source: match b.source {
            BestTimesSource::PageFeedback => wit::BestTimesSource::PageFeedback,
            BestTimesSource::GlobalModel2014SinglePage => {
                wit::BestTimesSource::GlobalModel2014SinglePage
            }
        },
        hour_effect_weight: b.hour_effect_weight,
        min_hour_gap: b.min_hour_gap,
        page_observations: b.page_observations,
    }
}

fn page_out(p: PageInfo) -> wit::PageBlend {
    wit::PageBlend {
        id: p.id,
        observations: p.observations,
        min_observations: p.min_observations,
        blended: p.blended.iter().map(|t| (*t).to_string()).collect(),
    }
}

fn answer_out(outlook: Outlook, implementation: &str) -> wit::Answer {
    debug_assert!(
        outlook
            .page
            .iter()
            .flat_map(|p| &p.blended)
            .all(|t| PAGE_TARGETS.iter().any(|(name, _)| name == t))
    );
    wit::Answer {
        requested: prediction_out(outlook.requested),
        best_times: outlook.best_times.into_iter().map(best_time_out).collect(),
        best_times_basis: basis_out(outlook.best_times_basis),
        implementation: implementation.to_string(),
        answered_by: outlook.answered_by.to_string(),
        page: outlook.page.map(page_out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fbposts_engagement::{FeatureRow, Outputs};

    /// p50 total interactions grows with the hour; the other quantiles and
    /// targets are multiples.
    fn fake(rows: &[FeatureRow]) -> Result<Outputs, EngineError> {
        let p50: Vec<[f32; 4]> = rows
            .iter()
            .map(|r| [100.0 + r[5], 300.0, 250.0, 4000.0])
            .collect();
        let scale = |k: f32| p50.iter().map(|row| row.map(|v| v * k)).collect::<Vec<_>>();
        Ok(Outputs {
            p10: scale(0.5),
            p90: scale(2.0),
            p50,
        })
    }

    fn json_request(body: &str) -> PredictRequest {
        PredictRequest::from_json(body.as_bytes()).unwrap()
    }

    fn planned(request: &PredictRequest) -> wit::PlannedPost {
        wit::PlannedPost {
            page_likes: request.page_likes,
            post_type: wit::PostType::Video,
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

    #[test]
    fn a_planned_post_decodes_to_the_request_it_came_from() {
        let original = json_request(
            r#"{"page_likes":120000,"post_type":"video","paid":true,"scheduled_at":"2026-12-01T18:30:00-05:00"}"#,
        );
        assert_eq!(request(planned(&original)).unwrap(), original);
        let night_owl = json_request(
            r#"{"page_likes":120000,"post_type":"video","scheduled_at":"2026-12-01T18:30:00-05:00",
                "posting_window":{"start":"21:00","end":"01:30"}}"#,
        );
        assert_eq!(request(planned(&night_owl)).unwrap(), night_owl);
    }

    #[test]
    fn a_window_shorter_than_an_hour_is_a_contract_error() {
        let original = json_request(
            r#"{"page_likes":120000,"post_type":"video","month":5,"weekday":3,"hour":12}"#,
        );
        let mut post = planned(&original);
        post.posting_window = wit::PostingWindow {
            start_minute: 600,
            end_minute: 630,
        };
        assert!(request(post).is_err());
        let mut post = planned(&original);
        post.posting_window.end_minute = 1441;
        assert!(request(post).is_err());
    }

    #[test]
    fn best_times_stay_in_the_window_and_carry_their_basis() {
        let original = json_request(
            r#"{"page_likes":120000,"post_type":"video","scheduled_at":"2026-12-01T18:30:00-05:00",
                "posting_window":{"start":"08:00","end":"12:00"}}"#,
        );
        let answer = answer(&fake, "fake", planned(&original), None).unwrap();
        assert_eq!(answer.best_times.len(), 3);
        assert!(answer.best_times.iter().all(|b| (8..=11).contains(&b.hour)));
        assert_eq!(
            answer.best_times_basis.source,
            wit::BestTimesSource::GlobalModel2014SinglePage
        );
        assert_eq!(answer.best_times_basis.hour_effect_weight, 0.5);
        let first = &answer.best_times[0];
        assert!(
            first.total_interactions_p10 < first.total_interactions_p50
                && first.total_interactions_p50 < first.total_interactions_p90
        );
    }

    #[test]
    fn the_answer_carries_what_the_linked_forecast_computes() {
        let original = json_request(
            r#"{"page_likes":120000,"post_type":"video","scheduled_at":"2026-12-01T18:30:00-05:00"}"#,
        );
        let linked = outlook(&original, &fake, None).unwrap();
        let answer = answer(&fake, "fake", planned(&original), None).unwrap();
        assert_eq!(answer.implementation, "fake");
        assert_eq!(answer.answered_by, linked.answered_by);
        assert_eq!(
            answer.requested.p50.total_interactions,
            linked.requested.p50[0]
        );
        assert_eq!(answer.best_times.len(), linked.best_times.len());
        assert_eq!(
            answer.best_times[0].at,
            linked.best_times[0]
                .at
                .map(|at| at.format(&Rfc3339).unwrap())
        );
    }

    #[test]
    fn a_page_model_of_the_wrong_shape_is_a_contract_error() {
        let original = json_request(
            r#"{"page_likes":120000,"post_type":"video","month":5,"weekday":3,"hour":12}"#,
        );
        let model = wit::PageModel {
            observations: 1,
            precision: vec![1.0],
            eta: vec![0.0],
            sum_y2: 0.0,
        };
        let page = wit::Page {
            id: "acme".into(),
            total_interactions: model.clone(),
            reach: model,
        };
        assert!(matches!(
            answer(&fake, "fake", planned(&original), Some(page)),
            Err(wit::Error::Contract(_))
        ));
    }
}
