//! Retry policy for one request: which failed attempts are worth retrying
//! ([`AttemptError::retryable`]) and how long to wait first ([`backoff_ms`]).
//! The number of retries is [`crate::LlmConfig::max_retries`].

use crate::LlmError;

/// First backoff, in milliseconds.
pub const BASE_BACKOFF_MS: u64 = 100;
/// Longest backoff, in milliseconds.
pub const MAX_BACKOFF_MS: u64 = 1000;

/// How one HTTP attempt failed. Messages may contain upstream text: pass
/// them through [`crate::redact`] before logging.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttemptError {
    /// No response within [`crate::LlmConfig::timeout_ms`].
    #[error("timed out")]
    Timeout,
    /// The connection could not be made or broke (DNS, refused, reset, TLS).
    #[error("connection failed: {0}")]
    Connect(String),
    /// The server answered with a non-2xx status.
    #[error("HTTP status {0}")]
    Status(u16),
    /// A 2xx response whose body could not be used (see
    /// [`crate::parse_chat_response`]).
    #[error("unusable response body: {0}")]
    BadBody(String),
}

impl AttemptError {
    /// Whether another attempt may succeed: timeouts, connection errors,
    /// HTTP 408, 429 and 5xx are retried; other statuses (400, 401, 403,
    /// 404, 422, …) and bad bodies are not — the same request would fail the
    /// same way (and a bad body was already paid for).
    pub fn retryable(&self) -> bool {
        match self {
            AttemptError::Timeout | AttemptError::Connect(_) => true,
            AttemptError::Status(status) => matches!(status, 408 | 429 | 500..=599),
            AttemptError::BadBody(_) => false,
        }
    }
}

impl From<LlmError> for AttemptError {
    fn from(err: LlmError) -> Self {
        AttemptError::BadBody(err.to_string())
    }
}

/// Milliseconds to wait after failed attempt number `attempt` (0 for the
/// first attempt) before the next one: 100, 200, 400, 800, then 1000.
pub fn backoff_ms(attempt: u32) -> u64 {
    BASE_BACKOFF_MS
        .saturating_mul(1u64 << attempt.min(16))
        .min(MAX_BACKOFF_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_classification() {
        assert!(AttemptError::Timeout.retryable());
        assert!(AttemptError::Connect("connection refused".into()).retryable());
        for status in [408, 429, 500, 502, 503, 504, 599] {
            assert!(AttemptError::Status(status).retryable(), "{status}");
        }
        for status in [400, 401, 403, 404, 413, 422, 499, 600, 301] {
            assert!(!AttemptError::Status(status).retryable(), "{status}");
        }
        assert!(!AttemptError::BadBody("no posts".into()).retryable());
        assert!(!AttemptError::from(LlmError::NoPosts).retryable());
    }

    #[test]
    fn backoff_doubles_then_caps() {
        let got: Vec<u64> = (0..7).map(backoff_ms).collect();
        assert_eq!(got, [100, 200, 400, 800, 1000, 1000, 1000]);
        assert_eq!(backoff_ms(u32::MAX), 1000);
    }

    #[test]
    fn display() {
        assert_eq!(AttemptError::Status(503).to_string(), "HTTP status 503");
        assert_eq!(AttemptError::Timeout.to_string(), "timed out");
    }
}
