//! Observed engagement → a bandit reward in 0..=1.
//!
//! Raw counts are not comparable across pages and contexts (a post on a page
//! of 10 million followers gets more of everything), so the reward compares
//! what happened with what the global model expected for the same context:
//! `r = (1 + observed) / (2 + observed + expected)`, the logistic of the
//! log-ratio `ln(1 + observed) − ln(1 + expected)`. As predicted → 0.5;
//! twice the prediction → ≈ 0.67; half → ≈ 0.33.

/// Reward of `observed` interactions against `expected` (the global model's
/// p50 for the same context). Negative or non-finite inputs count as 0.
pub fn engagement_reward(observed: f64, expected: f64) -> f64 {
    let clean = |x: f64| if x.is_finite() { x.max(0.0) } else { 0.0 };
    let (o, e) = (clean(observed), clean(expected));
    (1.0 + o) / (2.0 + o + e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reward_is_the_logistic_of_the_log_ratio() {
        assert!((engagement_reward(100.0, 100.0) - 0.5).abs() < 1e-12);
        let twice = engagement_reward(201.0, 100.0);
        assert!((twice - 2.0 / 3.0).abs() < 1e-12, "{twice}");
        assert!(engagement_reward(0.0, 1e6) < 0.01);
        assert!(engagement_reward(1e6, 0.0) > 0.99);
        assert_eq!(engagement_reward(f64::NAN, -3.0), 0.5);
    }
}
