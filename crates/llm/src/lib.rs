//! `fbposts-llm`: everything about calling an OpenAI-compatible
//! chat-completions endpoint (OpenAI, Azure OpenAI, Ollama, vLLM, llama.cpp
//! server) *except* the I/O itself. The Wasm component does the HTTP request
//! with spin-sdk and calls into this crate to:
//!
//! 1. read its configuration from Spin variables ([`LlmConfig::from_values`]),
//! 2. ask the shared circuit breaker whether to call at all ([`Breaker`],
//!    stored as JSON in KV),
//! 3. build the request ([`LlmConfig::endpoint`], [`LlmConfig::headers`],
//!    [`chat_request_body`]),
//! 4. classify a failed attempt and wait before retrying, within the
//!    call's deadline ([`AttemptError::retryable`], [`AttemptPlan`]),
//! 5. turn the response into posts ([`parse_chat_response`]),
//! 6. keep the server's spend per hour under its cap ([`spend`]),
//! 7. scrub the API key from anything it logs ([`redact`]).
//!
//! The crate never reads the clock, the network or the environment.

pub mod breaker;
pub mod config;
pub mod error;
pub mod request;
pub mod response;
pub mod retry;
pub mod spend;

pub use breaker::{Breaker, BreakerState, FAILURE_THRESHOLD, OPEN_SECONDS};
pub use config::LlmConfig;
pub use error::LlmError;
pub use request::chat_request_body;
pub use response::{ChatOutput, parse_chat_response};
pub use retry::{AttemptError, AttemptPlan, NextAttempt, backoff_ms};

/// Replaces every occurrence of `secret` in `text` with `***` (nothing is
/// replaced when `secret` is empty). Use it on any upstream error text
/// before logging it or returning it to a client.
pub fn redact(text: &str, secret: &str) -> String {
    if secret.is_empty() {
        text.to_string()
    } else {
        text.replace(secret, "***")
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redact_replaces_every_occurrence() {
        assert_eq!(
            redact("key sk-123 rejected; sk-123 again", "sk-123"),
            "key *** rejected; *** again"
        );
    }

    #[test]
    fn redact_with_empty_secret_is_identity() {
        assert_eq!(redact("nothing to hide", ""), "nothing to hide");
    }

    #[test]
    fn redact_without_match_is_identity() {
        assert_eq!(redact("status 500", "sk-123"), "status 500");
    }
}
