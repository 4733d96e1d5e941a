//! Circuit breaker shared by every component instance: its state is a small
//! JSON document the caller keeps in Spin KV ([`Breaker::from_json`],
//! [`Breaker::to_json`]). Times are unix seconds passed in by the caller;
//! nothing here reads the clock.
//!
//! Closed → Open after [`FAILURE_THRESHOLD`] consecutive failed requests (a
//! request = all its retries). Open → HalfOpen once [`OPEN_SECONDS`] have
//! passed: exactly one trial request is allowed; its success closes the
//! breaker, its failure re-opens it for another [`OPEN_SECONDS`]. A trial
//! that never reports back (instance killed) is replaced by a new one after
//! [`OPEN_SECONDS`]. The caller stores the HalfOpen state *before* it sends
//! the trial, so a concurrent request reads "trial in progress" and falls
//! back instead of becoming a second trial ([`Breaker::is_trial`]).

use serde::{Deserialize, Serialize};

/// Consecutive failed requests that open the breaker.
pub const FAILURE_THRESHOLD: u32 = 3;
/// Seconds the breaker stays open before allowing a trial request.
pub const OPEN_SECONDS: u64 = 30;

/// Breaker state.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum BreakerState {
    #[default]
    Closed,
    Open,
    /// One trial request has been allowed and has not reported yet.
    HalfOpen,
}

/// The breaker's stored state.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct Breaker {
    pub consecutive_failures: u32,
    /// When it opened (Open) or when the trial was allowed (HalfOpen).
    pub opened_at: Option<u64>,
    pub state: BreakerState,
}

impl Breaker {
    /// Whether a request may be sent now. Call before the request and store
    /// the breaker afterwards (it may move Open → HalfOpen). `Err` carries a
    /// reason for logs/responses, e.g. "circuit breaker open for another
    /// 12 s after 3 consecutive failures".
    pub fn allow(&mut self, now: u64) -> Result<(), String> {
        match self.state {
            BreakerState::Closed => Ok(()),
            BreakerState::Open | BreakerState::HalfOpen => {
                // A missing time is treated as long expired; a time in the
                // future (clock skew between instances) as "just now".
                let since = self.opened_at.unwrap_or(0).min(now);
                self.opened_at = Some(since);
                let remaining = (since + OPEN_SECONDS).saturating_sub(now);
                if remaining == 0 {
                    self.state = BreakerState::HalfOpen;
                    self.opened_at = Some(now);
                    Ok(())
                } else if self.state == BreakerState::HalfOpen {
                    Err(format!(
                        "circuit breaker half-open: a trial request is in progress after {} consecutive failures",
                        self.consecutive_failures
                    ))
                } else {
                    Err(format!(
                        "circuit breaker open for another {remaining} s after {} consecutive failures",
                        self.consecutive_failures
                    ))
                }
            }
        }
    }

    /// Whether a request that [`allow`](Breaker::allow) let through is the
    /// half-open trial (store the breaker before sending it).
    pub fn is_trial(&self) -> bool {
        self.state == BreakerState::HalfOpen
    }

    /// A request succeeded: closed, failure count reset.
    pub fn record_success(&mut self) {
        *self = Breaker::default();
    }

    /// A request failed (after all its retries).
    pub fn record_failure(&mut self, now: u64) {
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        match self.state {
            BreakerState::HalfOpen => self.open(now),
            BreakerState::Closed if self.consecutive_failures >= FAILURE_THRESHOLD => {
                self.open(now);
            }
            // Closed below the threshold; or Open already (a request started
            // before it opened): the open period is not extended.
            BreakerState::Closed | BreakerState::Open => {}
        }
    }

    fn open(&mut self, now: u64) {
        self.state = BreakerState::Open;
        self.opened_at = Some(now);
    }

    /// Reads the stored JSON; missing, empty or garbage → a closed breaker.
    pub fn from_json(bytes: &[u8]) -> Breaker {
        serde_json::from_slice(bytes).unwrap_or_default()
    }

    /// The JSON to store.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_700_000_000;

    fn opened() -> Breaker {
        let mut b = Breaker::default();
        for _ in 0..FAILURE_THRESHOLD {
            b.record_failure(T0);
        }
        b
    }

    #[test]
    fn closed_allows_and_opens_after_three_failures() {
        let mut b = Breaker::default();
        assert_eq!(b.allow(T0), Ok(()));
        b.record_failure(T0);
        b.record_failure(T0 + 1);
        assert_eq!(b.state, BreakerState::Closed);
        assert_eq!(b.allow(T0 + 1), Ok(()));
        b.record_failure(T0 + 2);
        assert_eq!(b.state, BreakerState::Open);
        assert_eq!(b.opened_at, Some(T0 + 2));
        assert_eq!(b.consecutive_failures, 3);
    }

    #[test]
    fn success_resets_the_count() {
        let mut b = Breaker::default();
        b.record_failure(T0);
        b.record_failure(T0);
        b.record_success();
        b.record_failure(T0);
        b.record_failure(T0);
        assert_eq!(b.state, BreakerState::Closed);
    }

    #[test]
    fn stays_open_for_thirty_seconds() {
        let mut b = opened();
        assert_eq!(
            b.allow(T0 + 18),
            Err("circuit breaker open for another 12 s after 3 consecutive failures".to_string())
        );
        assert!(b.allow(T0).is_err());
        assert!(b.allow(T0 + 29).is_err());
        assert_eq!(b.state, BreakerState::Open);
        // A failure reported while open does not extend it.
        b.record_failure(T0 + 29);
        assert_eq!(b.opened_at, Some(T0));
        assert_eq!(b.allow(T0 + 30), Ok(()));
        assert_eq!(b.state, BreakerState::HalfOpen);
    }

    #[test]
    fn half_open_allows_one_trial() {
        let mut b = opened();
        assert_eq!(b.allow(T0 + 31), Ok(()));
        let err = b.allow(T0 + 32).unwrap_err();
        assert!(err.contains("half-open"), "{err}");
        assert!(b.allow(T0 + 60).is_err());
        // The trial never reported: another one after OPEN_SECONDS.
        assert_eq!(b.allow(T0 + 61), Ok(()));
    }

    #[test]
    fn trial_success_closes() {
        let mut b = opened();
        b.allow(T0 + 30).unwrap();
        b.record_success();
        assert_eq!(b, Breaker::default());
        assert_eq!(b.allow(T0 + 31), Ok(()));
    }

    #[test]
    fn trial_failure_reopens() {
        let mut b = opened();
        b.allow(T0 + 40).unwrap();
        b.record_failure(T0 + 41);
        assert_eq!(b.state, BreakerState::Open);
        assert_eq!(b.opened_at, Some(T0 + 41));
        let err = b.allow(T0 + 50).unwrap_err();
        assert_eq!(
            err,
            "circuit breaker open for another 21 s after 4 consecutive failures"
        );
        assert_eq!(b.allow(T0 + 71), Ok(()));
    }

    #[test]
    fn clock_skew_and_missing_time() {
        let mut b = opened();
        // opened_at in the future: counted from now.
        assert!(b.allow(T0 - 100).is_err());
        assert_eq!(b.opened_at, Some(T0 - 100));
        assert_eq!(b.allow(T0 - 70), Ok(()));
        let mut b = Breaker {
            state: BreakerState::Open,
            ..Breaker::default()
        };
        assert_eq!(b.allow(T0), Ok(()));
    }

    #[test]
    fn json_round_trip_and_garbage() {
        let b = opened();
        let json = b.to_json();
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&json).unwrap(),
            serde_json::json!({"consecutive_failures": 3, "opened_at": T0, "state": "open"})
        );
        assert_eq!(Breaker::from_json(&json), b);
        let half = Breaker {
            state: BreakerState::HalfOpen,
            ..Breaker::default()
        };
        assert!(
            String::from_utf8(half.to_json())
                .unwrap()
                .contains("\"half-open\"")
        );
        assert_eq!(Breaker::from_json(&half.to_json()), half);
        assert_eq!(Breaker::from_json(b""), Breaker::default());
        assert_eq!(Breaker::from_json(b"not json"), Breaker::default());
        assert_eq!(
            Breaker::from_json(br#"{"state": "melted"}"#),
            Breaker::default()
        );
        assert_eq!(
            Breaker::from_json(br#"{"state": "open"}"#).state,
            BreakerState::Open
        );
    }
}
