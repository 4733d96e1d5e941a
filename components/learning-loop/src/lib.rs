//! The learning loop, run on a schedule by `[[trigger.cron]]` (world
//! `fermyon:spin-cron/spin-cron`, the format of Spin's cron trigger plugin).
//! Each run, against the `default` store:
//!
//! 1. reads every page's online model and writes, per target, the pooled
//!    prior new pages start from (`prior/page-model/<target>`:
//!    [`PageModel::pooled_prior`], the average of the ready pages' effects),
//!    or deletes a stale one when too few pages are ready;
//! 2. writes a report of what it saw and did to `learning-loop/report`
//!    (counts of page models, arms, candidates and feedback events; which
//!    priors it refreshed), which `GET /api/experiments` shows.
//!
//! 3. republishes the events left in the outbox, when events are on
//!    ([`fbposts_guest_kit::events`]), as a backstop for when no step
//!    publishes for a while.
//!
//! Runs are idempotent: the prior and the report are recomputed from the
//! state, so a run repeated or skipped loses nothing.

/// Generated bindings; exporting needs the `unsafe` ABI glue wit-bindgen emits
/// (the workspace denies `unsafe` everywhere else).
#[allow(unsafe_code)]
mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/cron",
        world: "fermyon:spin-cron/spin-cron",
    });
    use super::LearningLoop;
    export!(LearningLoop);
}

use bindings::fermyon::spin_cron::cron_types::{Error, Metadata};
use fbposts_core::ApiError;
use fbposts_engagement::page::{PAGE_TARGETS, pooled_prior_key};
use fbposts_guest_kit::state::StateStore;
use fbposts_learning::PageModel;
use serde::Serialize;

/// Where the last run's report is kept.
pub const REPORT_KEY: &str = "learning-loop/report";

struct LearningLoop;

impl bindings::Guest for LearningLoop {
    async fn handle_cron_event(metadata: Metadata) -> Result<(), Error> {
        run(metadata.timestamp)
            .await
            .map_err(|err| Error::Other(format!("{}: {}", err.code, err.message)))
    }
}

/// What one run saw and did.
#[derive(Debug, Serialize)]
struct Report {
    /// When the schedule fired (seconds since the Unix epoch).
    ran_at: u64,
    page_models: usize,
    /// Arms assigned at least once (their `pulls/…` counters).
    arms: usize,
    candidates: usize,
    feedback_events: usize,
    /// One entry per page target.
    priors: Vec<PriorReport>,
}

/// The pooled prior of one target after the run.
#[derive(Debug, Serialize)]
struct PriorReport {
    target: &'static str,
    /// Pages whose model is ready (enough observations) and so shapes the prior.
    ready_pages: usize,
    /// Whether a pooled prior is now stored (else new pages start flat).
    stored: bool,
}

async fn run(timestamp: u64) -> Result<(), ApiError> {
    if let Some(publisher) = fbposts_guest_kit::events::Publisher::from_variables().await
        && let Err(reason) = publisher.replay_pending().await
    {
        eprintln!("learning-loop: replaying the events outbox failed: {reason}");
    }
    let state = StateStore::open().await?;
    let keys = state.keys_with_prefix("").await?;
    let count = |prefix: &str| keys.iter().filter(|key| key.starts_with(prefix)).count();
    let page_keys: Vec<String> = keys
        .iter()
        .filter(|key| key.starts_with("page/"))
        .cloned()
        .collect();
    let mut priors = Vec::new();
    for (target, _) in PAGE_TARGETS {
        priors.push(refresh_prior(&state, &page_keys, target).await?);
    }
    let report = Report {
        ran_at: timestamp,
        page_models: page_keys.len(),
        arms: count("pulls/"),
        candidates: count("candidate/"),
        feedback_events: count("feedback/"),
        priors,
    };
    state.set(REPORT_KEY, &report).await
}

/// Recomputes the pooled prior of `target` from the pages' models.
async fn refresh_prior(
    state: &StateStore,
    page_keys: &[String],
    target: &'static str,
) -> Result<PriorReport, ApiError> {
    let suffix = format!("/model/{target}");
    let mut models = Vec::new();
    for key in page_keys.iter().filter(|key| key.ends_with(&suffix)) {
        if let Some(bytes) = state.get_bytes(key).await? {
            match PageModel::from_json(&bytes) {
                Ok(model) => models.push(model),
                Err(err) => eprintln!("{key}: {err}; left out of the pooled prior"),
            }
        }
    }
    let ready_pages = models.iter().filter(|model| model.ready()).count();
    let key = pooled_prior_key(target);
    let stored = match PageModel::pooled_prior(&models) {
        Some(prior) => {
            state.set_bytes(&key, prior.to_json()).await?;
            true
        }
        None => {
            state.delete(&key).await?;
            false
        }
    };
    Ok(PriorReport {
        target,
        ready_pages,
        stored,
    })
}
