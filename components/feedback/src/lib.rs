//! `POST /api/feedback`: what really happened to a published post, and what
//! the system learns from it.
//!
//! 1. Validate the event (`fbposts_engagement::feedback`); with a candidate
//!    `id`, load the candidate `generate` stored (404 when unknown) to fill
//!    the page and post type and to know which arms produced it.
//! 2. Claim the event: `feedback/<id>` goes from absent to a claim in one
//!    compare-and-swap, so of many identical events sent at once exactly one
//!    is applied. The others wait (briefly) for its outcome and answer it
//!    with `"duplicate": true`; a claim older than [`STALE_CLAIM_SECS`] (its
//!    request died) is taken over by the next retry.
//! 3. Ask the global model what it expected for that context (the
//!    `fbposts:ml/inference` import, one row), and turn observed vs expected
//!    interactions into a reward in 0..=1 (`fbposts_learning::reward`).
//! 4. Credit the reward to the candidate's variant arm (template structure
//!    or LLM prompt) and generator arm in its context.
//! 5. Teach the page's online models the log-ratio observed/expected for
//!    `total_interactions` (and `reach` when reported).
//! 6. Replace the claim with the outcome.
//! 7. When events are on, publish `post.published` (page, post type,
//!    observed and predicted interactions, reward) under the event's id, so
//!    a consumer counts a replayed or repeated event once.
//!
//! # Retention
//!
//! `feedback/<id>` is the memory that refuses a resent event, so it must
//! last as long as an event can be sent: it expires `feedback_lifetime_secs`
//! (400 days by default) after the later of its publication and its
//! arrival, and an event published longer ago than that is refused (`422
//! event_too_old`). A resend therefore always finds its record or is too old,
//! whatever the candidate's own (shorter) lifetime: a candidate regenerated
//! from the same brief gets the same id again, so the candidate's expiry
//! alone could not refuse it. Candidates expire after a week
//! (`candidate_lifetime_secs`); feedback on an expired one is `404`.
//!
//! Steps 4 and 5 are compare-and-swap updates that record the event in the
//! value they change ([`StateStore::apply_once`]): concurrent events never
//! lose one another's update, and a retry after a crash between crediting and
//! saving does not credit twice. State errors are 503 (retry); nothing is
//! half-reported as success.

use bytes::Bytes;
use fbposts_core::ApiError;
use fbposts_engagement::encoding::TOTAL_INTERACTIONS;
use fbposts_engagement::feedback::FeedbackRequest;
use fbposts_engagement::page::{PAGE_TARGETS, REACH, features};
use fbposts_engagement::{Engine, page_model_key};
use fbposts_guest_kit::arms::ArmId;
use fbposts_guest_kit::events::{EventKind, Publisher};
use fbposts_guest_kit::expiring;
use fbposts_guest_kit::expiry::{self, now_secs};
use fbposts_guest_kit::inference::WitEngine;
use fbposts_guest_kit::post::{BodyEnd, PostRequest};
use fbposts_guest_kit::state::StateStore;
use fbposts_guest_kit::{JsonResponse, error_response, json_bytes};
use fbposts_learning::records::FAMILY_GENERATOR;
use fbposts_learning::{
    CandidateRecord, Credit, MIN_PAGE_OBSERVATIONS, PageModel, engagement_reward,
};
use serde::{Deserialize, Serialize};
use spin_sdk::wasip3::clocks::monotonic_clock;

/// A claim older than this (seconds) belongs to a request that died (the
/// request deadline is far shorter); a retry takes it over.
const STALE_CLAIM_SECS: u64 = 60;
/// How long a duplicate waits for the claiming request's outcome.
const WAIT_FOR_OUTCOME_MS: u64 = 5_000;
/// Pause between two looks at a claimed event.
const POLL_MS: u64 = 25;

/// What `feedback/<id>` holds while its event is being applied.
#[derive(Debug, Serialize, Deserialize)]
struct Claim {
    pending_since: u64,
}

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

fbposts_guest_kit::json_post_service!(handle);

async fn handle(req: PostRequest) -> JsonResponse {
    match run(req).await {
        Ok(outcome) => match serde_json::to_vec(&outcome) {
            Ok(body) => json_bytes(200, Bytes::from(body), &[]),
            Err(_) => fbposts_guest_kit::internal_error("could not encode the outcome"),
        },
        Err(err) => error_response(&err),
    }
}

/// Key of the counter of events applied (shown by the learning loop).
pub const APPLIED_EVENTS_COUNT: &str = "stats/feedback-events";

async fn run(req: PostRequest) -> Result<Outcome, ApiError> {
    let body = req.read_json(BodyEnd::LengthChecked).await?;
    let event = FeedbackRequest::from_json(&body)?;
    let lifetime = expiry::lifetime_from_variable(
        expiring::FEEDBACK_LIFETIME,
        expiring::DEFAULT_FEEDBACK_SECS,
    )
    .await;
    let expires_at =
        expiring::feedback_record_expiry(event.published_unix(), now_secs(), lifetime)?;
    let state = StateStore::open().await?;

    let candidate: Option<CandidateRecord> = match &event.id {
        Some(id) => Some(
            state
                .get_live::<CandidateRecord>(&format!("candidate/{id}"))
                .await?
                .ok_or_else(|| {
                    ApiError::new(
                        404,
                        "unknown_candidate",
                        format!("no candidate '{id}' was generated here (or it expired); send 'text' and 'page_id' for other posts"),
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
    if let Some(previous) = claim(&state, &record_key, expires_at).await? {
        return Ok(previous);
    }

    let outputs = WitEngine.run(&[context.requested_row()]).map_err(|e| {
        eprintln!("feedback: inference failed: {e:?}");
        e.to_api_error()
    })?;
    let forecast = outputs.row(0).unwrap_or_default();
    let expected_row = forecast.p50;
    let published = PublishedFacts {
        post_type: context.post_type.code(),
        predicted_p10: f64::from(forecast.p10[TOTAL_INTERACTIONS]),
        text: event
            .text
            .clone()
            .or_else(|| candidate.as_ref().map(|c| c.text.clone())),
        variant: candidate.as_ref().map(|c| c.variant.clone()),
    };
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
                .credit_reward(&ArmId::new(family, &c.context, arm), &event_id, reward)
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
    let mut observations = 0;
    for (target, index) in PAGE_TARGETS.iter() {
        let (obs, exp) = match *index {
            REACH => match (observed.reach, expected.reach) {
                (Some(o), Some(e)) => (o, e),
                _ => continue,
            },
            _ => (observed.total_interactions, expected.total_interactions),
        };
        let key = page_model_key(&page_id, target);
        let mut created = false;
        let (stored, applied) = state
            .apply_once(&key, &event_id, |current| {
                created = current.is_none();
                let mut model = current
                    .and_then(|bytes| PageModel::from_json(bytes).ok())
                    .unwrap_or_default();
                model.observe(&x, (1.0 + obs).ln() - (1.0 + exp).ln());
                model.to_json()
            })
            .await?;
        if *index != REACH && applied && created {
            state.index_page(&page_id).await?;
        }
        if *index != REACH {
            observations = PageModel::from_json(&stored)
                .map(|m| m.observations)
                .unwrap_or_default();
        }
    }

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
    let record = serde_json::to_vec(&outcome).map_err(|_| {
        ApiError::new(
            500,
            "internal",
            "internal error: could not encode the outcome",
        )
    })?;
    state
        .set_bytes(&record_key, expiry::seal(&record, expires_at))
        .await?;
    state.increment(APPLIED_EVENTS_COUNT, 1).await?;
    publish_published(&outcome, &published).await;
    Ok(outcome)
}

/// What the `post.published` event carries beyond the outcome: the
/// forecast's p10 (the `suggestions` consumer's trigger) and the post's text
/// (so it can say why), from the request or its candidate.
struct PublishedFacts {
    post_type: &'static str,
    predicted_p10: f64,
    text: Option<String>,
    /// The candidate's structure or prompt variant (its A/B arm).
    variant: Option<String>,
}

/// The `post.published` event of an applied outcome.
async fn publish_published(outcome: &Outcome, facts: &PublishedFacts) {
    let Some(publisher) = Publisher::from_variables().await else {
        return;
    };
    let data = serde_json::json!({
        "page_id": outcome.page_id,
        "post_type": facts.post_type,
        "observed_interactions": outcome.observed.total_interactions,
        "predicted_interactions": outcome.expected.total_interactions,
        "predicted_p10_interactions": facts.predicted_p10.round(),
        "reward": outcome.reward,
        "text": facts.text,
        "variant": facts.variant,
    });
    publisher
        .publish(EventKind::Published, outcome.id.clone(), data)
        .await;
}

/// Claims the event under `key` for this request. `Some(outcome)`: it was
/// applied already (answered as a duplicate); `None`: this request applies
/// it (a fresh claim, or one taken over from a request that died or whose
/// record expired). The claim and the outcome expire at `expires_at`; the
/// key is listed in the expiry index before the claim is tried.
async fn claim(
    state: &StateStore,
    key: &str,
    expires_at: u64,
) -> Result<Option<Outcome>, ApiError> {
    let mine = |since: u64| {
        let claim = serde_json::to_vec(&Claim {
            pending_since: since,
        })
        .unwrap_or_default();
        expiry::seal(&claim, expires_at)
    };
    state.index_expiry(key, expires_at)?;
    if state.compare_and_swap(key, None, &mine(now_secs())).await? {
        return Ok(None);
    }
    let waited_until = monotonic_clock::now() + WAIT_FOR_OUTCOME_MS * 1_000_000;
    loop {
        let Some(current) = state.get_bytes(key).await? else {
            // Deleted meanwhile: claim it again.
            if state.compare_and_swap(key, None, &mine(now_secs())).await? {
                return Ok(None);
            }
            continue;
        };
        let Some(value) = expiry::open(&current, now_secs()).value() else {
            // Expired (not yet pruned): as good as absent.
            if state
                .compare_and_swap(key, Some(&current), &mine(now_secs()))
                .await?
            {
                return Ok(None);
            }
            continue;
        };
        if let Ok(mut previous) = serde_json::from_slice::<Outcome>(value) {
            previous.duplicate = true;
            return Ok(Some(previous));
        }
        let since = serde_json::from_slice::<Claim>(value)
            .map(|c| c.pending_since)
            .unwrap_or_default();
        let now = now_secs();
        if now.saturating_sub(since) > STALE_CLAIM_SECS
            && state
                .compare_and_swap(key, Some(&current), &mine(now))
                .await?
        {
            eprintln!("feedback: {key}: taking over a claim from {since} that never finished");
            return Ok(None);
        }
        if monotonic_clock::now() > waited_until {
            return Err(ApiError::new(
                409,
                "feedback_in_progress",
                "the same event is being applied by another request right now; retry in a few seconds",
            ));
        }
        monotonic_clock::wait_for(POLL_MS * 1_000_000).await;
    }
}
