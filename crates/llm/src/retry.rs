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

/// The shortest attempt worth starting, in milliseconds.
pub const MIN_ATTEMPT_MS: u64 = 100;

/// How the attempts of one call fit its deadline
/// ([`crate::LlmConfig::deadline_ms`]): `llm_timeout_ms × (retries + 1)`
/// plus the backoffs may be longer than the deadline, so each attempt gets
/// at most what is left, and none starts with less than [`MIN_ATTEMPT_MS`]
/// left. A call therefore always ends — and records its failure, and lets
/// the template engine answer — before the host's request deadline, which
/// the host checks `llm_deadline_ms` against at start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptPlan {
    pub timeout_ms: u64,
    pub max_attempts: u32,
    pub deadline_ms: u64,
}

/// The next attempt of an [`AttemptPlan`]: wait, then send with this timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NextAttempt {
    pub backoff_ms: u64,
    pub timeout_ms: u64,
}

impl AttemptPlan {
    /// The plan for `config`; a circuit breaker's trial is one attempt only.
    pub fn new(config: &crate::LlmConfig, trial: bool) -> AttemptPlan {
        AttemptPlan {
            timeout_ms: config.timeout_ms,
            max_attempts: if trial { 1 } else { config.max_retries + 1 },
            deadline_ms: config.deadline_ms,
        }
    }

    /// Attempt number `attempt` (0 = the first), `elapsed_ms` after the call
    /// started; `None` when the attempts are used up or it would not fit.
    pub fn next(&self, attempt: u32, elapsed_ms: u64) -> Option<NextAttempt> {
        if attempt >= self.max_attempts {
            return None;
        }
        let backoff_ms = match attempt {
            0 => 0,
            n => backoff_ms(n - 1),
        };
        let left = self
            .deadline_ms
            .saturating_sub(elapsed_ms)
            .saturating_sub(backoff_ms);
        (left >= MIN_ATTEMPT_MS).then(|| NextAttempt {
            backoff_ms,
            timeout_ms: self.timeout_ms.min(left),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_are_cut_to_fit_the_deadline() {
        let plan = AttemptPlan {
            timeout_ms: 1500,
            max_attempts: 3,
            deadline_ms: 2500,
        };
        let first = plan.next(0, 0).unwrap();
        assert_eq!((first.backoff_ms, first.timeout_ms), (0, 1500));
        // 1500 ms gone, 100 ms backoff: 900 ms left for the second.
        let second = plan.next(1, 1500).unwrap();
        assert_eq!((second.backoff_ms, second.timeout_ms), (100, 900));
        // 2500 ms gone: no third attempt, although a retry is left.
        assert_eq!(plan.next(2, 2500), None);
        assert_eq!(plan.next(3, 0), None);
    }

    #[test]
    fn an_attempt_with_less_than_the_minimum_left_is_not_started() {
        let plan = AttemptPlan {
            timeout_ms: 8000,
            max_attempts: 3,
            deadline_ms: 1000,
        };
        assert_eq!(plan.next(1, 850), None);
        assert_eq!(plan.next(1, 800).map(|a| a.timeout_ms), Some(100));
    }

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
