//! The CPU budget of pre-caching: a token bucket of seconds. It fills at
//! `share` seconds per second (the share of one core pre-caching may use)
//! up to [`BURST`]; each computation ahead spends the time it took. A job
//! waits for a non-negative balance, so over any long stretch pre-caching
//! uses at most `share` of a core, however many predictions there are.

use std::time::{Duration, Instant};

/// The most time the bucket holds: what pre-caching may spend at once after
/// an idle stretch.
pub const BURST: Duration = Duration::from_millis(100);

#[derive(Debug)]
pub struct Budget {
    share: f64,
    balance: f64,
    filled_at: Instant,
}

impl Budget {
    /// A full bucket filling at `share` (0 < share ≤ 1) seconds per second.
    pub fn new(share: f64, now: Instant) -> Self {
        Self {
            share,
            balance: BURST.as_secs_f64(),
            filled_at: now,
        }
    }

    fn fill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.filled_at).as_secs_f64();
        self.balance = (self.balance + elapsed * self.share).min(BURST.as_secs_f64());
        self.filled_at = now;
    }

    /// How long to wait, from `now`, until a job may start (zero: now).
    pub fn wait(&mut self, now: Instant) -> Duration {
        self.fill(now);
        if self.balance >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.balance / self.share)
        }
    }

    /// Charges a job that took `cost`.
    pub fn spend(&mut self, cost: Duration, now: Instant) {
        self.fill(now);
        self.balance -= cost.as_secs_f64();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_bucket_lets_a_job_start_at_once() {
        let now = Instant::now();
        assert_eq!(Budget::new(0.2, now).wait(now), Duration::ZERO);
    }

    #[test]
    fn spending_past_the_balance_waits_for_the_share_to_pay_it_back() {
        let now = Instant::now();
        let mut budget = Budget::new(0.25, now);
        budget.spend(BURST + Duration::from_millis(50), now);
        // 50 ms owed at 0.25 s/s: 200 ms.
        let wait = budget.wait(now);
        assert!((wait.as_secs_f64() - 0.2).abs() < 1e-9, "{wait:?}");
        assert_eq!(budget.wait(now + wait), Duration::ZERO);
    }

    #[test]
    fn an_idle_stretch_fills_only_up_to_the_burst() {
        let now = Instant::now();
        let mut budget = Budget::new(1.0, now);
        let later = now + Duration::from_secs(60);
        budget.spend(BURST, later);
        assert_eq!(budget.wait(later), Duration::ZERO);
        budget.spend(Duration::from_millis(1), later);
        assert!(budget.wait(later) > Duration::ZERO);
    }
}
