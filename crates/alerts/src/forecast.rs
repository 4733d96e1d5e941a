//! Holt–Winters exponential smoothing: level, damped trend and an optional
//! additive season, updated one point at a time in O(period) memory.
//!
//! This is what turns a metric series into "where it will be in `h` points".
//! The trend is damped (each step ahead counts `phi` times the previous one)
//! so that a short run of noise does not extrapolate into a crossing far
//! away; the season, when the series has one (requests by hour of the day),
//! keeps a daily rise from reading as a trend.

use crate::AlertsError;
use serde::{Deserialize, Serialize};

/// Smoothing weights, each in (0, 1]; larger follows the data faster.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Smoothing {
    /// Weight of the newest point in the level (α).
    pub level: f64,
    /// Weight of the newest level change in the trend (β).
    pub trend: f64,
    /// Weight of the newest deviation in its season slot (γ).
    pub season: f64,
    /// Trend damping per step ahead (φ), in (0, 1]; 1 is Holt's linear trend.
    pub damping: f64,
}

impl Default for Smoothing {
    fn default() -> Self {
        Smoothing {
            level: 0.3,
            trend: 0.05,
            season: 0.1,
            damping: 0.98,
        }
    }
}

impl Smoothing {
    fn validate(&self) -> Result<(), AlertsError> {
        let weights = [
            ("level", self.level),
            ("trend", self.trend),
            ("season", self.season),
            ("damping", self.damping),
        ];
        for (name, value) in weights {
            if !(value > 0.0 && value <= 1.0) {
                return Err(AlertsError::InvalidSmoothing { name, value });
            }
        }
        Ok(())
    }
}

/// The fitted state once the warm-up is over.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Fitted {
    level: f64,
    trend: f64,
    /// One additive offset per slot of the period (empty without a season).
    season: Vec<f64>,
}

/// A Holt–Winters model of one series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HoltWinters {
    smoothing: Smoothing,
    /// Points per season (e.g. 360 for an hour of 10 s points); `None` or 1:
    /// no season.
    period: Option<usize>,
    /// Points seen so far.
    seen: u64,
    /// The first period's points, until there are enough to start.
    warm_up: Vec<f64>,
    fitted: Option<Fitted>,
}

impl HoltWinters {
    /// A model with these weights and season length.
    pub fn new(smoothing: Smoothing, period: Option<usize>) -> Result<Self, AlertsError> {
        smoothing.validate()?;
        let period = period.filter(|&p| p > 1);
        Ok(HoltWinters {
            smoothing,
            period,
            seen: 0,
            warm_up: Vec::new(),
            fitted: None,
        })
    }

    /// Points needed before the model forecasts: two, or two full seasons.
    pub fn warm_up_points(&self) -> usize {
        self.period.map_or(2, |p| 2 * p)
    }

    /// Whether the model forecasts yet.
    pub fn is_ready(&self) -> bool {
        self.fitted.is_some()
    }

    /// Adds one point; returns the one-step-ahead error (`x` minus what the
    /// model forecast for it) once the model is ready.
    pub fn observe(&mut self, x: f64) -> Option<f64> {
        let slot = self.slot(0);
        self.seen += 1;
        let Some(fitted) = self.fitted.as_mut() else {
            self.warm_up.push(x);
            if self.warm_up.len() >= self.warm_up_points() {
                self.fitted = Some(start(&self.warm_up, self.period));
                self.warm_up = Vec::new();
            }
            return None;
        };
        let s = self.smoothing;
        let seasonal = fitted.season.get(slot).copied().unwrap_or(0.0);
        let expected = fitted.level + s.damping * fitted.trend + seasonal;
        let previous_level = fitted.level;
        fitted.level = s.level * (x - seasonal)
            + (1.0 - s.level) * (previous_level + s.damping * fitted.trend);
        fitted.trend =
            s.trend * (fitted.level - previous_level) + (1.0 - s.trend) * s.damping * fitted.trend;
        if let Some(offset) = fitted.season.get_mut(slot) {
            *offset = s.season * (x - fitted.level) + (1.0 - s.season) * *offset;
        }
        Some(x - expected)
    }

    /// The forecast `steps` points after the last one (`steps` ≥ 1).
    pub fn forecast(&self, steps: usize) -> Option<f64> {
        let fitted = self.fitted.as_ref()?;
        let phi = self.smoothing.damping;
        // φ + φ² + … + φ^steps
        let damped: f64 = (1..=steps).map(|i| phi.powi(i as i32)).sum();
        let seasonal = fitted
            .season
            .get(self.slot(steps.saturating_sub(1)))
            .copied()
            .unwrap_or(0.0);
        Some(fitted.level + damped * fitted.trend + seasonal)
    }

    /// The current level with its season, the model's view of "now".
    pub fn level(&self) -> Option<f64> {
        let fitted = self.fitted.as_ref()?;
        let slot = self
            .slot(0)
            .checked_sub(1)
            .unwrap_or_else(|| self.period.map_or(0, |p| p - 1));
        Some(fitted.level + fitted.season.get(slot).copied().unwrap_or(0.0))
    }

    /// The season slot of the point `ahead` points after the next one.
    fn slot(&self, ahead: usize) -> usize {
        self.period
            .map_or(0, |p| ((self.seen + ahead as u64) % p as u64) as usize)
    }
}

/// Level, trend and season from the warm-up points: the level is the mean
/// of the last season (or the last point), the trend the mean change per
/// point between the two seasons (or none), the season each
/// slot's mean deviation from its season's mean.
fn start(points: &[f64], period: Option<usize>) -> Fitted {
    let Some(p) = period else {
        // Two points say nothing about a trend but their noise: start flat.
        return Fitted {
            level: points[points.len() - 1],
            trend: 0.0,
            season: Vec::new(),
        };
    };
    let mean = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len() as f64;
    let (first, second) = points.split_at(p);
    let (m1, m2) = (mean(first), mean(&second[..p]));
    let season = (0..p)
        .map(|i| ((first[i] - m1) + (second[i] - m2)) / 2.0)
        .collect();
    // The level at the last point, not at the middle of the season.
    let trend = (m2 - m1) / p as f64;
    Fitted {
        level: m2 + trend * (p as f64 - 1.0) / 2.0,
        trend,
        season,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(period: Option<usize>) -> HoltWinters {
        HoltWinters::new(Smoothing::default(), period).unwrap()
    }

    #[test]
    fn a_constant_series_is_forecast_as_itself() {
        let mut m = model(None);
        for _ in 0..50 {
            m.observe(42.0);
        }
        assert!((m.forecast(10).unwrap() - 42.0).abs() < 1e-9);
    }

    #[test]
    fn a_straight_line_is_extrapolated_close_to_the_line() {
        let mut m = HoltWinters::new(
            Smoothing {
                damping: 1.0,
                ..Smoothing::default()
            },
            None,
        )
        .unwrap();
        for t in 0..200 {
            m.observe(10.0 + 2.0 * t as f64);
        }
        // The next point is t = 200: 410; ten ahead, t = 209: 428 (the
        // flat start is forgotten by now).
        assert!((m.forecast(1).unwrap() - 410.0).abs() < 1e-3);
        assert!((m.forecast(10).unwrap() - 428.0).abs() < 1e-3);
    }

    #[test]
    fn a_pure_season_is_forecast_slot_by_slot_without_a_trend() {
        let period = 12;
        let wave = |t: usize| 100.0 + 20.0 * (t as f64 * std::f64::consts::TAU / 12.0).sin();
        let mut m = model(Some(period));
        for t in 0..240 {
            m.observe(wave(t));
        }
        for ahead in 1..=period {
            let expected = wave(240 + ahead - 1);
            let got = m.forecast(ahead).unwrap();
            assert!((got - expected).abs() < 0.5, "{ahead}: {got} vs {expected}");
        }
    }

    #[test]
    fn nothing_is_forecast_during_the_warm_up() {
        let mut m = model(Some(5));
        for t in 0..9 {
            assert_eq!(m.observe(t as f64), None);
            assert_eq!(m.forecast(1), None);
        }
        assert_eq!(
            m.observe(9.0),
            None,
            "the tenth point completes the warm-up"
        );
        assert!(m.forecast(1).is_some());
        assert!(m.observe(10.0).is_some());
    }

    #[test]
    fn weights_outside_zero_to_one_are_refused() {
        let bad = Smoothing {
            trend: 0.0,
            ..Smoothing::default()
        };
        assert_eq!(
            HoltWinters::new(bad, None).unwrap_err(),
            AlertsError::InvalidSmoothing {
                name: "trend",
                value: 0.0
            }
        );
    }
}
