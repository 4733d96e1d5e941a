//! Alert rules and the alerts they raise.
//!
//! A [`Threshold`] says which side of a limit is bad and how far ahead to
//! look; a [`Streak`] counts consecutive bad outcomes (three posts in a row
//! below their predicted p10). Both keep their own state so that an alert
//! fires once when its condition starts, not at every point it holds.

use serde::{Deserialize, Serialize};

/// Which side of the limit is bad.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Values above the limit are bad (latency, error rate).
    Above,
    /// Values below the limit are bad (engagement, hit rate).
    Below,
}

impl Direction {
    /// Whether `value` is on the bad side of `limit`.
    pub fn is_beyond(self, value: f64, limit: f64) -> bool {
        match self {
            Direction::Above => value > limit,
            Direction::Below => value < limit,
        }
    }
}

/// A limit the series should stay on the good side of.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    pub limit: f64,
    pub direction: Direction,
    /// How many points ahead a forecast crossing is worth an alert.
    pub horizon: usize,
    /// Consecutive points a condition must hold before its alert fires.
    pub confirm: usize,
}

/// What an alert is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AlertKind {
    /// The forecast crosses the limit `eta_points` from now; the series has
    /// not crossed yet.
    Forecast {
        limit: f64,
        eta_points: usize,
        forecast: f64,
    },
    /// The series itself is beyond the limit (and no forecast warned).
    Crossed { limit: f64, value: f64 },
    /// A point far from what the model expected: a robust z-score of its
    /// one-step-ahead error.
    Anomaly { z: f64, value: f64, expected: f64 },
    /// `count` outcomes in a row fell below their predicted floor.
    Streak { count: usize },
}

/// One alert as it fires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// The series' name, e.g. `p99_ms:/api/generate`.
    pub series: String,
    /// The index of the point that fired it (0-based).
    pub point: u64,
    #[serde(flatten)]
    pub kind: AlertKind,
    /// One sentence for people.
    pub message: String,
}

/// Consecutive outcomes below their own floor (e.g. observed engagement
/// under the predicted p10); fires at `count` in a row, then again only
/// after an outcome at or above its floor has broken the streak.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Streak {
    count: usize,
    run: usize,
}

impl Streak {
    /// A streak rule firing at `count` (≥ 1) in a row.
    pub fn new(count: usize) -> Self {
        Streak {
            count: count.max(1),
            run: 0,
        }
    }

    /// Adds one outcome; `Some(count)` when this one completes the streak.
    pub fn observe(&mut self, observed: f64, floor: f64) -> Option<usize> {
        if observed < floor {
            self.run += 1;
            (self.run == self.count).then_some(self.count)
        } else {
            self.run = 0;
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_streak_fires_once_at_its_count_and_rearms_after_a_good_outcome() {
        let mut s = Streak::new(3);
        let fired: Vec<_> = [1.0, 1.0, 1.0, 1.0, 9.0, 1.0, 1.0, 1.0]
            .iter()
            .map(|&x| s.observe(x, 5.0))
            .collect();
        assert_eq!(
            fired,
            [None, None, Some(3), None, None, None, None, Some(3)]
        );
    }

    #[test]
    fn directions_say_which_side_is_bad() {
        assert!(Direction::Above.is_beyond(2.0, 1.0));
        assert!(!Direction::Above.is_beyond(1.0, 1.0));
        assert!(Direction::Below.is_beyond(0.5, 1.0));
    }
}
