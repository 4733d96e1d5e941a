//! The learning loop, run on a schedule by `[[trigger.cron]]` (world
//! `fermyon:spin-cron/spin-cron`, the format of Spin's cron trigger plugin).
//! Each run, against the `default` store:
//!
//! 1. reads the models of the pages in the page index (`page-index/…`,
//!    [`fbposts_guest_kit::page_index`]; the store is never listed) and
//!    writes, per target, the pooled prior new pages start from
//!    (`prior/page-model/<target>`: [`PageModel::pooled_prior`], the
//!    average of the ready pages' effects), or deletes a stale one when too
//!    few pages are ready;
//! 2. prunes expired entries — candidates and feedback records in
//!    `default`, cached responses in `cache` — through each store's expiry
//!    index ([`fbposts_guest_kit::expiry`]): at most [`MAX_SLOTS_PER_RUN`]
//!    index slots and [`PRUNE_BUDGET_MS`] per store, the rest next run;
//! 3. writes a report of what it saw and did to `learning-loop/report`
//!    (page models, arms, feedback events applied, which priors it
//!    refreshed, what it pruned), which `GET /api/experiments` shows.
//!
//! 3. republishes the events left in the outbox, when events are on
//!    ([`fbposts_guest_kit::events`]), as a backstop for when no step
//!    publishes for a while.
//!
//! Runs are idempotent: the prior and the report are recomputed from the
//! state and pruning resumes from its saved cursor, so a run repeated or
//! skipped loses nothing.

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
use fbposts_engagement::page_model_key;
use fbposts_guest_kit::expiring::WasiIndexStore;
use fbposts_guest_kit::expiry::{ExpiryIndex, IndexStore, PruneBudget, PruneReport, now_secs};
use fbposts_guest_kit::state::StateStore;
use fbposts_learning::PageModel;
use serde::Serialize;
use spin_sdk::wasip3::clocks::monotonic_clock;

/// Where the last run's report is kept.
pub const REPORT_KEY: &str = "learning-loop/report";
/// Index slots one run reads at most per store.
pub const MAX_SLOTS_PER_RUN: u64 = 50_000;
/// Time one run spends pruning one store at most (ms; a run has the
/// request deadline, 30 s by default).
pub const PRUNE_BUDGET_MS: u64 = 8_000;
/// Page models read per batch call.
const MODELS_PER_READ: usize = 500;
/// The feedback component's counter of applied events.
const APPLIED_EVENTS_COUNT: &str = "stats/feedback-events";

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
    /// Pages in the page index.
    pages: usize,
    /// Page models read (pages × targets with a model).
    page_models: usize,
    /// Arms in the arm index.
    arms: usize,
    /// Feedback events applied so far (duplicates not counted).
    feedback_events: u64,
    /// One entry per page target.
    priors: Vec<PriorReport>,
    /// What this run pruned, per store (`cache`: null when it cannot be opened).
    expiry: ExpiryReport,
}

#[derive(Debug, Serialize)]
struct ExpiryReport {
    default: PruneReport,
    cache: Option<PruneReport>,
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
    let pages = state.indexed_pages().await?;
    let mut priors = Vec::new();
    let mut page_models = 0;
    for (target, _) in PAGE_TARGETS {
        let (prior, models) = refresh_prior(&state, &pages, target).await?;
        priors.push(prior);
        page_models += models;
    }
    let expiry = ExpiryReport {
        default: prune(&state.expiry_index(), "default")?,
        cache: prune_cache(),
    };
    let feedback_events = state
        .get_bytes(APPLIED_EVENTS_COUNT)
        .await?
        .and_then(|c| std::str::from_utf8(&c).ok()?.trim().parse().ok())
        .unwrap_or(0);
    let report = Report {
        ran_at: timestamp,
        pages: pages.len(),
        page_models,
        arms: state.indexed_arms().await?.len(),
        feedback_events,
        priors,
        expiry,
    };
    state.set(REPORT_KEY, &report).await
}

/// Prunes one store's expired entries within this run's budget.
fn prune<S: IndexStore>(index: &ExpiryIndex<S>, label: &str) -> Result<PruneReport, ApiError> {
    let until = monotonic_clock::now() + PRUNE_BUDGET_MS * 1_000_000;
    let out_of_time = || monotonic_clock::now() > until;
    let budget = PruneBudget {
        max_slots: MAX_SLOTS_PER_RUN,
        out_of_time: &out_of_time,
    };
    index.prune(now_secs(), &budget).map_err(|err| {
        eprintln!("learning-loop: pruning {label}: {err}");
        ApiError::new(
            503,
            "state_unavailable",
            format!("pruning the {label} store failed"),
        )
    })
}

/// Prunes the response cache (`None` when the store cannot be opened or
/// pruning fails: a cache problem must not stop the loop).
fn prune_cache() -> Option<PruneReport> {
    let bucket = fbposts_guest_kit::expiring::open_bucket("cache")
        .map_err(|err| eprintln!("learning-loop: cache store unavailable: {err}"))
        .ok()?;
    prune(&ExpiryIndex::new(WasiIndexStore(&bucket)), "cache").ok()
}

/// Recomputes the pooled prior of `target` from the pages' models; returns
/// it and how many models were read.
async fn refresh_prior(
    state: &StateStore,
    pages: &[String],
    target: &'static str,
) -> Result<(PriorReport, usize), ApiError> {
    let mut models = Vec::new();
    for chunk in pages.chunks(MODELS_PER_READ) {
        let keys: Vec<String> = chunk.iter().map(|p| page_model_key(p, target)).collect();
        for (key, bytes) in keys.iter().zip(state.get_many(&keys).await?) {
            let Some(bytes) = bytes else { continue };
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
    Ok((
        PriorReport {
            target,
            ready_pages,
            stored,
        },
        models.len(),
    ))
}
