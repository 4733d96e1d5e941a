//! `POST /api/feedback`: what really happened to a published post, and what
//! the system learns from it.
//!
//! 1. Validate the event (`fbposts_engagement::feedback`); with a candidate
//!    `id`, load the candidate `generate` stored (404 when unknown) to fill
//!    the page and post type and to know which arms produced it.
//! 2. Idempotency: an event already applied (same candidate id, or same
//!    page + text + publication time) is answered from its stored outcome
//!    with `"duplicate": true` and changes nothing.
//! 3. Ask the global model what it expected for that context (the
//!    `fbposts:ml/inference` import, one row), and turn observed vs expected
//!    interactions into a reward in 0..=1 (`fbposts_learning::reward`).
//! 4. Credit the reward to the candidate's variant arm (template structure
//!    or LLM prompt) and generator arm in its context.
//! 5. Teach the page's online models the log-ratio observed/expected for
//!    `total_interactions` (and `reach` when reported).
//! 6. Store the outcome under `feedback/<id>` last.
//!
//! State errors are 503 (retry); nothing is half-reported as success.

use bytes::Bytes;
use fbposts_core::ApiError;
use fbposts_engagement::encoding::TOTAL_INTERACTIONS;
use fbposts_engagement::feedback::FeedbackRequest;
use fbposts_engagement::page::{PAGE_TARGETS, REACH, features};
use fbposts_engagement::{Engine, page_model_key};
use fbposts_guest_kit::inference::WitEngine;
use fbposts_guest_kit::pages::load_page_models;
use fbposts_guest_kit::state::StateStore;
use fbposts_guest_kit::{JsonResponse, error_response, json_bytes, read_json_post};
use fbposts_learning::records::FAMILY_GENERATOR;
use fbposts_learning::{CandidateRecord, Credit, MIN_PAGE_OBSERVATIONS, engagement_reward};
use serde::{Deserialize, Serialize};
use spin_sdk::http::Request;
use spin_sdk::http_service;

/// The stored and returned outcome of one event.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Outcome {
    id: String,
    duplicate: bool,
    page_id: String,
    observed: Observed,
    /// The global model's p50 for the post's context.
    expected: Observed,
    /// Reward credited to the arms, 0..=1 (0.5: as the model expected).
    reward: f64,
    credited: Vec<Credit>,
    page_model: PageModelState,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Observed {
    total_interactions: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    reach: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct PageModelState {
    observations: u64,
    min_observations: u64,
    /// Whether `/api/predict` with this `page_id` now blends it in.
    ready: bool,
}

#[http_service]
async fn handle(req: Request) -> JsonResponse {
    match run(req).await {
        Ok(outcome) => match serde_json::to_vec(&outcome) {
            Ok(body) => json_bytes(200, Bytes::from(body), &[]),
            Err(_) => fbposts_guest_kit::internal_error("could not encode the outcome"),
        },
        Err(err) => error_response(&err),
    }
}

async fn run(req: Request) -> Result<Outcome, ApiError> {
    let body = read_json_post(req).await?;
    let event = FeedbackRequest::from_json(&body)?;
    let state = StateStore::open().await?;

    let candidate: Option<CandidateRecord> = match &event.id {
        Some(id) => Some(
            state
                .get::<CandidateRecord>(&format!("candidate/{id}"))
                .await?
                .ok_or_else(|| {
                    ApiError::new(
                        404,
                        "unknown_candidate",
                        format!("no candidate '{id}' was generated here; send 'text' and 'page_id' for other posts"),
                    )
                })?,
        ),
        None => None,
    };
    let context = event.context(
        candidate.as_ref().and_then(|c| c.page_id.as_deref()),
        candidate.as_ref().and_then(|c| c.page_likes),
        candidate.as_ref().and_then(|c| c.post_type.as_deref()),
    )?;
    let page_id = context.page_id.clone().unwrap_or_default();
    let event_id = event.event_id(&page_id);
    let record_key = format!("feedback/{event_id}");
    if let Some(mut previous) = state.get::<Outcome>(&record_key).await? {
        previous.duplicate = true;
        return Ok(previous);
    }

    let outputs = WitEngine.run(&[context.requested_row()]).map_err(|e| {
        eprintln!("feedback: inference failed: {e:?}");
        e.to_api_error()
    })?;
    let expected_row = outputs.row(0).unwrap_or_default().p50;
    let expected = Observed {
        total_interactions: f64::from(expected_row[TOTAL_INTERACTIONS]),
        reach: event.metrics.reach.map(|_| f64::from(expected_row[REACH])),
    };
    let observed = Observed {
        total_interactions: event.metrics.total_interactions() as f64,
        reach: event.metrics.reach.map(|r| r as f64),
    };
    let reward = engagement_reward(observed.total_interactions, expected.total_interactions);

    let mut credited = Vec::new();
    if let Some(c) = &candidate {
        for (family, arm) in [
            (c.variant_family.as_str(), c.variant.as_str()),
            (FAMILY_GENERATOR, c.generator.as_str()),
        ] {
            let stats = state
                .update_arm(family, &c.context, arm, |a| a.record_reward(reward))
                .await?;
            credited.push(Credit {
                family: family.to_string(),
                context: c.context.clone(),
                arm: arm.to_string(),
                posterior_mean: (stats.mean() * 10_000.0).round() / 10_000.0,
                rewards: stats.rewards,
            });
        }
    }

    let x = features(&context, context.weekday, context.hour);
    let mut page = load_page_models(&state, &page_id).await?;
    for ((target, index), model) in PAGE_TARGETS.iter().zip(page.models.iter_mut()) {
        let (obs, exp) = match *index {
            REACH => match (observed.reach, expected.reach) {
                (Some(o), Some(e)) => (o, e),
                _ => continue,
            },
            _ => (observed.total_interactions, expected.total_interactions),
        };
        model.observe(&x, (1.0 + obs).ln() - (1.0 + exp).ln());
        state
            .set_bytes(&page_model_key(&page_id, target), model.to_json())
            .await?;
    }
    let observations = page.models[0].observations;

    let outcome = Outcome {
        id: event_id,
        duplicate: false,
        page_id,
        observed,
        expected: Observed {
            total_interactions: expected.total_interactions.round(),
            reach: expected.reach.map(f64::round),
        },
        reward: (reward * 10_000.0).round() / 10_000.0,
        credited,
        page_model: PageModelState {
            observations,
            min_observations: MIN_PAGE_OBSERVATIONS,
            ready: observations >= MIN_PAGE_OBSERVATIONS,
        },
    };
    state.set(&record_key, &outcome).await?;
    Ok(outcome)
}
