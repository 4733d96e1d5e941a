//! The LLM generator's I/O: its configuration from Spin variables, the
//! circuit breaker kept in the `default` store (so every instance sees it),
//! and the chat-completions call over outbound HTTP with a timeout per
//! attempt and bounded retries. Request bodies, response parsing, retry
//! classification and the breaker's rules live in `fbposts-llm`.
//!
//! The API key is never logged or returned: upstream error text is redacted
//! before it is logged, and errors name only the status or failure kind.

use bytes::Bytes;
use fbposts_guest_kit::state::StateStore;
use fbposts_llm::{
    AttemptError, Breaker, LlmConfig, backoff_ms, chat_request_body, parse_chat_response, redact,
};
use fbposts_writer::{Brief, PromptVariant, check, conform, llm_messages};
use futures::future::{Either, select};
use http_body_util::{BodyExt, Full, Limited};
use std::pin::pin;

/// Variables the generator reads (declared in `spin.toml`).
const VARIABLES: [&str; 6] = [
    "llm_base_url",
    "llm_model",
    "llm_api_key",
    "llm_timeout_ms",
    "llm_max_retries",
    "llm_cost_per_thousand_tokens",
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
/// configuration is invalid, which is logged without values).
pub async fn config() -> Option<LlmConfig> {
    let mut values = Vec::new();
    for name in VARIABLES {
        let value = spin_sdk::variables::get(name)
            .await
            .ok()
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

/// Whether the breaker lets a request through now (without changing it).
pub async fn breaker_allows(state: &StateStore) -> Result<(), String> {
    let mut breaker = load_breaker(state).await;
    breaker.allow(now_secs())
}

async fn save_breaker(state: &StateStore, breaker: &Breaker) {
    if let Err(err) = state.set_bytes(BREAKER_KEY, breaker.to_json()).await {
        eprintln!("generate: could not save the LLM breaker: {}", err.message);
    }
}

/// One attempt: the request with a timeout.
async fn attempt(config: &LlmConfig, body: &[u8]) -> Result<Bytes, AttemptError> {
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
    let timeout = wasip3::clocks::monotonic_clock::wait_for(config.timeout_ms * 1_000_000);
    match select(pin!(call), pin!(timeout)).await {
        Either::Left((result, _)) => result,
        Either::Right(((), _)) => Err(AttemptError::Timeout),
    }
}

/// Up to `n` posts from the LLM, conformed to the brief (hashtags, emoji,
/// forbidden words, length) and checked; retries retryable failures with
/// backoff. Updates the shared breaker. Err: why it failed, safe to show.
pub async fn generate(
    config: &LlmConfig,
    state: &StateStore,
    brief: &Brief,
    variant: &PromptVariant,
    n: usize,
) -> Result<Vec<String>, String> {
    let mut breaker = load_breaker(state).await;
    breaker.allow(now_secs())?;
    let messages = llm_messages(brief, variant, n);
    let max_tokens = (MAX_TOKENS_PER_POST * n) as u32;
    let body = chat_request_body(config, &messages, max_tokens, 0.8, Some(brief.seed));
    let secret = config.api_key.clone().unwrap_or_default();
    let mut last = String::new();
    let mut attempts = 0;
    for attempt_no in 0..=config.max_retries {
        attempts += 1;
        if attempt_no > 0 {
            wasip3::clocks::monotonic_clock::wait_for(backoff_ms(attempt_no - 1) * 1_000_000).await;
        }
        match attempt(config, &body).await {
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
                        format!("the LLM did not answer within {} ms", config.timeout_ms)
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
