//! `GET /api/experiments`: the bandits' state, inspectable. One experiment
//! per family (`structure`, `prompt`, `generator`) and context
//! (`<language>.<goal>.<tone>`), each arm with its pulls, credited rewards,
//! mean reward, posterior mean and probability of being best (Monte Carlo
//! over the Beta posteriors, seeded so the same state shows the same
//! numbers). Optional query filters: `?family=…&context=…`.
//!
//! The arms come from the state's index of arms (`arm-index`) and are read
//! in batches: the store is never listed. Also the last report of the
//! scheduled learning loop (`learning_loop`, `null` before its first run).

use bytes::Bytes;
use fbposts_core::ApiError;
use fbposts_guest_kit::arms::ArmId;
use fbposts_guest_kit::state::StateStore;
use fbposts_guest_kit::{JsonResponse, error_response, json_bytes};
use fbposts_learning::{ArmStats, ArmSummary};
use serde::Serialize;
use spin_sdk::http::{Method, Request};
use spin_sdk::http_service;
use std::collections::BTreeMap;

/// Joint posterior draws behind `probability_best`.
const DRAWS: usize = 4000;
/// Arms read per batch call (two keys each, within the host's batch limit).
const ARMS_PER_READ: usize = 400;

#[derive(Serialize)]
struct Experiment {
    family: String,
    context: String,
    pulls: u64,
    rewards: u64,
    /// Arms by posterior mean, best first.
    arms: Vec<ArmSummary>,
}

#[derive(Serialize)]
struct Listing {
    experiments: Vec<Experiment>,
    /// The `learning-loop` component's last report, as it wrote it.
    learning_loop: Option<serde_json::Value>,
}

/// Where the `learning-loop` component keeps its last report.
const LEARNING_LOOP_REPORT: &str = "learning-loop/report";

#[http_service]
async fn handle(req: Request) -> JsonResponse {
    match run(req).await {
        Ok(listing) => match serde_json::to_vec(&listing) {
            Ok(body) => json_bytes(200, Bytes::from(body), &[]),
            Err(_) => fbposts_guest_kit::internal_error("could not encode the experiments"),
        },
        Err(err) if err.status == 405 => json_bytes(
            405,
            Bytes::from(err.to_json().to_string()),
            &[("allow", "GET")],
        ),
        Err(err) => error_response(&err),
    }
}

/// `family` and `context` from the query string.
fn filters(query: &str) -> Result<(Option<String>, Option<String>), ApiError> {
    let (mut family, mut context) = (None, None);
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "family" => family = Some(v.to_string()),
            "context" => context = Some(v.to_string()),
            other => {
                return Err(ApiError::new(
                    400,
                    "invalid_query",
                    format!("unknown query parameter '{other}'; use 'family' and/or 'context'"),
                ));
            }
        }
    }
    Ok((family, context))
}

async fn run(req: Request) -> Result<Listing, ApiError> {
    if req.method() != Method::GET {
        return Err(ApiError::new(
            405,
            "method_not_allowed",
            format!("{} is not allowed here; use GET", req.method()),
        ));
    }
    let (family, context) = filters(req.uri().query().unwrap_or(""))?;
    let state = StateStore::open().await?;
    let shown: Vec<ArmId> = state
        .indexed_arms()
        .await?
        .into_iter()
        .filter(|id| {
            family.as_deref().is_none_or(|want| want == id.family)
                && context.as_deref().is_none_or(|want| want == id.context)
        })
        .collect();
    let mut groups: BTreeMap<(String, String), Vec<(String, ArmStats)>> = BTreeMap::new();
    for batch in shown.chunks(ARMS_PER_READ) {
        for (id, stats) in batch.iter().zip(state.arms(batch).await?) {
            groups
                .entry((id.family.clone(), id.context.clone()))
                .or_default()
                .push((id.arm.clone(), stats));
        }
    }
    let experiments = groups
        .into_iter()
        .map(|((family, context), arms)| {
            let mut summaries = ArmSummary::summarize(&arms, DRAWS, seed_of(&family, &context));
            summaries.sort_by(|a, b| b.posterior_mean.total_cmp(&a.posterior_mean));
            Experiment {
                pulls: arms.iter().map(|(_, a)| a.pulls).sum(),
                rewards: arms.iter().map(|(_, a)| a.rewards).sum(),
                family,
                context,
                arms: summaries,
            }
        })
        .collect();
    let learning_loop = state.get(LEARNING_LOOP_REPORT).await?;
    Ok(Listing {
        experiments,
        learning_loop,
    })
}

/// A stable seed per experiment (FNV-1a of its name).
fn seed_of(family: &str, context: &str) -> u64 {
    format!("{family}/{context}")
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        })
}
