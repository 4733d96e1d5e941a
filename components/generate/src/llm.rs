//! The LLM generator's I/O: its configuration from Spin variables, the
//! circuit breaker and the hourly spend counter kept in the `default` store
//! (so every instance sees them), and the chat-completions call over
//! outbound HTTP with a timeout per attempt and bounded retries, all within
//! `llm_deadline_ms`. Request bodies, response parsing, retry
//! classification, the attempt plan, the spend rules and the breaker's rules
//! live in `fbposts-llm`.
//!
//! Two writes here are read-modify-write today: claiming the breaker's trial
//! ([`claim_trial`]) and reserving spend ([`reserve_spend`]). Each is one
//! small function so that, once `StateStore` has `wasi:keyvalue/atomics`,
//! they become a compare-and-swap and an atomic increment without touching
//! their callers; until then two instances racing within a few
//! milliseconds can both pass.
//!
//! The API key is never logged or returned: upstream error text is redacted
//! before it is logged, and errors name only the status or failure kind.

use bytes::Bytes;
use fbposts_guest_kit::state::StateStore;
use fbposts_llm::spend::{admit, micro_usd, window_key};
use fbposts_llm::{
    AttemptError, AttemptPlan, Breaker, LlmConfig, chat_request_body, parse_chat_response, redact,
};
use fbposts_writer::{Brief, PromptVariant, check, conform, llm_messages};
use futures::future::{Either, select};
use http_body_util::{BodyExt, Full, Limited};
use std::pin::pin;

/// Variables the generator reads (declared in `spin.toml`).
const VARIABLES: [&str; 8] = [
    "llm_base_url",
    "llm_model",
    "llm_api_key",
    "llm_timeout_ms",
    "llm_max_retries",
    "llm_cost_per_thousand_tokens",
    "llm_budget_per_hour",
    "llm_deadline_ms",
];
/// Breaker state key in the `default` store.
const BREAKER_KEY: &str = "breaker/llm";
/// Tokens asked for per post.
const MAX_TOKENS_PER_POST: usize = 220;
/// Largest response body read.
const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// The LLM configuration, or None when no endpoint is configured (or the
/// configuration is invalid, which is logged without values). Its
/// variables are read once per instance ([`fbposts_guest_kit::instance`]).
pub async fn config() -> Option<LlmConfig> {
    let mut values = Vec::new();
    for name in VARIABLES {
        let value = fbposts_guest_kit::instance::variable(name)
            .await
            .filter(|v| !v.trim().is_empty());
        values.push((name, value));
    }
    match LlmConfig::from_values(|name| {
        values
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| v.clone())
    }) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("generate: LLM disabled: {err}");
            None
        }
    }
}

/// Estimated cost of one request for `brief`.
pub fn estimated_cost(config: &LlmConfig, brief: &Brief) -> f64 {
    let prompt_chars: usize =
        llm_messages(brief, &fbposts_writer::PROMPT_VARIANTS[0], brief.n.into())
            .iter()
            .map(|(_, content)| content.len())
            .sum();
    config.estimate_cost_usd(prompt_chars, brief.n.into(), MAX_TOKENS_PER_POST)
}

async fn load_breaker(state: &StateStore) -> Breaker {
    match state.get_bytes(BREAKER_KEY).await {
        Ok(Some(bytes)) => Breaker::from_json(&bytes),
        _ => Breaker::default(),
    }
}

/// Whether a request may go to the LLM now (without changing anything):
/// the breaker lets it through and `cost` fits this hour's spend cap.
pub async fn availability(config: &LlmConfig, state: &StateStore, cost: f64) -> Result<(), String> {
    let mut breaker = load_breaker(state).await;
    breaker.allow(now_secs())?;
    let spent = spent_this_window(state, now_secs()).await;
    admit(
        spent,
        micro_usd(cost),
        micro_usd(config.budget_per_hour_usd),
    )
    .map(|_| ())
}

/// Micro-USD spent in the window holding `now` (the counter read
/// atomically); unreadable counts as nothing.
async fn spent_this_window(state: &StateStore, now: u64) -> u64 {
    match state.increment(&window_key(now), 0).await {
        Ok(total) => u64::try_from(total).unwrap_or(0),
        Err(_) => 0,
    }
}

/// Reserves `cost` USD of this hour's spend cap before an attempt is sent:
/// one atomic increment of the window's counter, given back when it went
/// over the cap, so concurrent requests never spend past it together.
async fn reserve_spend(config: &LlmConfig, state: &StateStore, cost: f64) -> Result<(), String> {
    let key = window_key(now_secs());
    let cost = micro_usd(cost);
    let cap = micro_usd(config.budget_per_hour_usd);
    let unrecorded = |err: fbposts_core::ApiError| {
        eprintln!("generate: could not record LLM spend: {}", err.message);
        "the LLM spend could not be recorded".to_string()
    };
    let delta = i64::try_from(cost).unwrap_or(i64::MAX);
    let total = state.increment(&key, delta).await.map_err(unrecorded)?;
    let spent_before = u64::try_from(total.saturating_sub(delta)).unwrap_or(0);
    if let Err(reason) = admit(spent_before, cost, cap) {
        state.increment(&key, -delta).await.map_err(unrecorded)?;
        return Err(reason);
    }
    Ok(())
}

/// Stores the breaker's half-open trial before the trial is sent, only if
/// the breaker still holds what `seen` was read from (compare-and-swap):
/// of concurrent requests, exactly one becomes the trial.
async fn claim_trial(state: &StateStore, seen: &Breaker, trial: &Breaker) -> Result<(), String> {
    let stored = state.get_bytes(BREAKER_KEY).await.ok().flatten();
    let stored_is_seen = match &stored {
        Some(bytes) => Breaker::from_json(bytes) == *seen,
        None => *seen == Breaker::default(),
    };
    let swapped = stored_is_seen
        && state
            .compare_and_swap(BREAKER_KEY, stored.as_deref(), &trial.to_json())
            .await
            .unwrap_or(false);
    if swapped {
        Ok(())
    } else {
        Err("circuit breaker half-open: another request is the trial".into())
    }
}

async fn save_breaker(state: &StateStore, breaker: &Breaker) {
    if let Err(err) = state.set_bytes(BREAKER_KEY, breaker.to_json()).await {
        eprintln!("generate: could not save the LLM breaker: {}", err.message);
    }
}

/// One attempt: the request with a timeout.
async fn attempt(config: &LlmConfig, body: &[u8], timeout_ms: u64) -> Result<Bytes, AttemptError> {
    let mut builder = http::Request::builder()
        .method("POST")
        .uri(config.endpoint());
    for (name, value) in config.headers() {
        builder = builder.header(name, value);
    }
    let request = builder
        .body(Full::new(Bytes::copy_from_slice(body)))
        .map_err(|e| AttemptError::Connect(e.to_string()))?;
    let call = async {
        let response = spin_sdk::http::send(request)
            .await
            .map_err(|e| AttemptError::Connect(format!("{e:?}")))?;
        let status = response.status().as_u16();
        let bytes = Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
            .collect()
            .await
            .map_err(|e| AttemptError::BadBody(e.to_string()))?
            .to_bytes();
        if (200..300).contains(&status) {
            Ok(bytes)
        } else {
            Err(AttemptError::Status(status))
        }
    };
    let timeout = wasip3::clocks::monotonic_clock::wait_for(timeout_ms * 1_000_000);
    match select(pin!(call), pin!(timeout)).await {
        Either::Left((result, _)) => result,
        Either::Right(((), _)) => Err(AttemptError::Timeout),
    }
}

/// Up to `n` posts from the LLM, conformed to the brief (hashtags, emoji,
/// forbidden words, length) and checked; retries retryable failures with
/// backoff within `llm_deadline_ms` (a half-open trial makes one attempt).
/// Each attempt first reserves its estimated cost from the hourly cap.
/// Updates the shared breaker. Err: why it failed, safe to show.
pub async fn generate(
    config: &LlmConfig,
    state: &StateStore,
    brief: &Brief,
    variant: &PromptVariant,
    n: usize,
) -> Result<Vec<String>, String> {
    let seen = load_breaker(state).await;
    let mut breaker = seen.clone();
    breaker.allow(now_secs())?;
    let trial = breaker.is_trial();
    if trial {
        claim_trial(state, &seen, &breaker).await?;
    }
    let plan = AttemptPlan::new(config, trial);
    let cost = estimated_cost(config, brief);
    let messages = llm_messages(brief, variant, n);
    let max_tokens = (MAX_TOKENS_PER_POST * n) as u32;
    let body = chat_request_body(config, &messages, max_tokens, 0.8, Some(brief.seed));
    let secret = config.api_key.clone().unwrap_or_default();
    let started = wasip3::clocks::monotonic_clock::now();
    let elapsed_ms =
        || (wasip3::clocks::monotonic_clock::now().saturating_sub(started)) / 1_000_000;
    let mut last = String::new();
    let mut attempts = 0;
    while let Some(next) = plan.next(attempts, elapsed_ms()) {
        if next.backoff_ms > 0 {
            wasip3::clocks::monotonic_clock::wait_for(next.backoff_ms * 1_000_000).await;
        }
        if let Err(capped) = reserve_spend(config, state, cost).await {
            if attempts == 0 {
                // Nothing was sent: not the endpoint's failure.
                if trial {
                    save_breaker(state, &seen).await;
                }
                return Err(capped);
            }
            last = capped;
            break;
        }
        attempts += 1;
        match attempt(config, &body, next.timeout_ms).await {
            Ok(bytes) => match parse_chat_response(&bytes) {
                Ok(output) => {
                    breaker.record_success();
                    save_breaker(state, &breaker).await;
                    let posts: Vec<String> = output
                        .posts
                        .iter()
                        .map(|p| conform(brief, p))
                        .filter(|p| check(brief, p).is_empty())
                        .collect();
                    return Ok(posts);
                }
                Err(err) => {
                    last = format!(
                        "the LLM's answer could not be read ({})",
                        redact(&err.to_string(), &secret)
                    );
                    break;
                }
            },
            Err(err) => {
                last = match &err {
                    AttemptError::Timeout => {
                        format!("the LLM did not answer within {} ms", next.timeout_ms)
                    }
                    AttemptError::Status(code) => format!("the LLM endpoint answered HTTP {code}"),
                    AttemptError::Connect(detail) | AttemptError::BadBody(detail) => {
                        eprintln!("generate: LLM attempt failed: {}", redact(detail, &secret));
                        "the LLM endpoint could not be reached".to_string()
                    }
                };
                if !err.retryable() {
                    break;
                }
            }
        }
    }
    breaker.record_failure(now_secs());
    save_breaker(state, &breaker).await;
    Err(format!("{last} (after {attempts} attempts)"))
}
