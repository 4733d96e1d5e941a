//! Robust z-scores: how unusual a value is against a rolling window of the
//! previous ones, measured with the median and the median absolute deviation
//! (MAD) instead of the mean and the standard deviation, so the outliers it
//! is meant to find do not inflate the yardstick that finds them.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// MAD × this ≈ the standard deviation of normally distributed data.
const MAD_TO_SIGMA: f64 = 1.4826;

/// A rolling window of recent values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RobustWindow {
    capacity: usize,
    values: VecDeque<f64>,
}

impl RobustWindow {
    /// A window of the last `capacity` values (at least 5).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(5);
        RobustWindow {
            capacity,
            values: VecDeque::with_capacity(capacity),
        }
    }

    /// Whether the window is full enough to judge (half of its capacity).
    pub fn is_ready(&self) -> bool {
        self.values.len() * 2 >= self.capacity
    }

    /// How many robust standard deviations `x` lies from the window's median,
    /// or `None` while the window fills. A window with no spread at all
    /// judges against a tiny floor, so a constant series followed by any
    /// change scores high.
    pub fn z_score(&self, x: f64) -> Option<f64> {
        if !self.is_ready() {
            return None;
        }
        let median = median(self.values.iter().copied());
        let mad = median_of_abs_dev(&self.values, median);
        let sigma = (mad * MAD_TO_SIGMA).max(f64::EPSILON * median.abs().max(1.0));
        Some((x - median) / sigma)
    }

    /// The spread of the window as a standard deviation estimate.
    pub fn sigma(&self) -> Option<f64> {
        if !self.is_ready() {
            return None;
        }
        let median = median(self.values.iter().copied());
        Some(median_of_abs_dev(&self.values, median) * MAD_TO_SIGMA)
    }

    /// Adds `x`, dropping the oldest value when full.
    pub fn push(&mut self, x: f64) {
        if self.values.len() == self.capacity {
            self.values.pop_front();
        }
        self.values.push_back(x);
    }
}

fn median_of_abs_dev(values: &VecDeque<f64>, median_value: f64) -> f64 {
    median(values.iter().map(|v| (v - median_value).abs()))
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut sorted: Vec<f64> = values.collect();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n == 0 {
        return 0.0;
    }
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_outlier_in_the_window_does_not_change_the_yardstick() {
        let mut calm = RobustWindow::new(11);
        let mut spoiled = RobustWindow::new(11);
        for i in 0..11 {
            let x = [1.0, -1.0][i % 2];
            calm.push(x);
            spoiled.push(if i == 5 { 1000.0 } else { x });
        }
        let (a, b) = (calm.z_score(5.0).unwrap(), spoiled.z_score(5.0).unwrap());
        assert!((a - b).abs() < 1e-9, "{a} vs {b}");
    }

    #[test]
    fn a_value_far_from_the_median_scores_high_and_a_near_one_low() {
        let mut w = RobustWindow::new(20);
        for i in 0..20 {
            w.push(100.0 + (i % 5) as f64);
        }
        assert!(w.z_score(102.0).unwrap().abs() < 1.0);
        assert!(w.z_score(130.0).unwrap() > 10.0);
        assert!(w.z_score(70.0).unwrap() < -10.0);
    }

    #[test]
    fn nothing_is_judged_until_half_the_window_is_filled() {
        let mut w = RobustWindow::new(10);
        for _ in 0..4 {
            w.push(1.0);
            assert_eq!(w.z_score(1.0), None);
        }
        w.push(1.0);
        assert_eq!(w.z_score(1.0), Some(0.0));
    }
}
