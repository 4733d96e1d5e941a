//! One monitored series ([`SeriesMonitor`]) and a set of them ([`Monitor`]).
//!
//! Each point goes through three checks, in order:
//! 1. **anomaly**: the robust z-score of the point's one-step-ahead forecast
//!    error against the recent errors; beyond `anomaly_z` an anomaly fires,
//!    then stays quiet for `anomaly_cooldown` points (a step makes several
//!    large errors in a row while the level catches up: one alert);
//! 2. **forecast**: while the series is on the good side of its threshold,
//!    the first step within the horizon whose forecast is beyond the limit;
//!    `confirm` points in a row with such a crossing fire a forecast alert
//!    (only once the anomaly window is half full: a model that has not yet
//!    seen its own noise extrapolates it);
//! 3. **crossed**: the series itself beyond the limit `confirm` points in a
//!    row fires a crossed alert, unless a forecast alert already warned.
//!
//! A threshold alert re-arms once the series and its forecast have been back
//! on the good side for `confirm` points in a row.

use crate::AlertsError;
use crate::forecast::{HoltWinters, Smoothing};
use crate::robust::RobustWindow;
use crate::rule::{Alert, AlertKind, Threshold};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How to watch one series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesConfig {
    pub smoothing: Smoothing,
    /// Points per season, if the series has one.
    pub period: Option<usize>,
    /// Recent forecast errors the anomaly score is measured against.
    pub anomaly_window: usize,
    /// Robust z-score beyond which a point is an anomaly.
    pub anomaly_z: f64,
    /// Points an anomaly alert stays quiet after firing.
    pub anomaly_cooldown: usize,
    pub threshold: Option<Threshold>,
}

impl Default for SeriesConfig {
    fn default() -> Self {
        SeriesConfig {
            smoothing: Smoothing::default(),
            period: None,
            anomaly_window: 60,
            anomaly_z: 6.0,
            anomaly_cooldown: 30,
            threshold: None,
        }
    }
}

/// Where a threshold rule stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum ThresholdState {
    /// Watching; `streak` points in a row predicted or showed a crossing.
    Armed { predicted: usize, crossed: usize },
    /// Fired; `calm` points in a row have been on the good side.
    Fired { calm: usize },
}

/// One series: its model, its recent errors and its rules' state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesMonitor {
    name: String,
    config: SeriesConfig,
    model: HoltWinters,
    errors: RobustWindow,
    point: u64,
    quiet_until: u64,
    threshold_state: ThresholdState,
}

impl SeriesMonitor {
    pub fn new(name: impl Into<String>, config: SeriesConfig) -> Result<Self, AlertsError> {
        Ok(SeriesMonitor {
            name: name.into(),
            model: HoltWinters::new(config.smoothing, config.period)?,
            errors: RobustWindow::new(config.anomaly_window),
            config,
            point: 0,
            quiet_until: 0,
            threshold_state: ThresholdState::Armed {
                predicted: 0,
                crossed: 0,
            },
        })
    }

    /// The series' name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The forecast `steps` points ahead, once the model is warm.
    pub fn forecast(&self, steps: usize) -> Option<f64> {
        self.model.forecast(steps)
    }

    /// Adds the next point; returns the alerts it fires.
    pub fn observe(&mut self, value: f64) -> Vec<Alert> {
        let expected = self.model.forecast(1);
        let error = self.model.observe(value);
        let mut fired = Vec::new();
        if let (Some(error), Some(expected)) = (error, expected) {
            fired.extend(self.check_anomaly(value, expected, error));
            self.errors.push(error);
        }
        fired.extend(self.check_threshold(value));
        self.point += 1;
        fired
    }

    fn check_anomaly(&mut self, value: f64, expected: f64, error: f64) -> Option<Alert> {
        let z = self.errors.z_score(error)?;
        if z.abs() < self.config.anomaly_z || self.point < self.quiet_until {
            return None;
        }
        self.quiet_until = self.point + self.config.anomaly_cooldown as u64;
        let message = format!(
            "{} is {value:.3}, {:.1} robust standard deviations from the {expected:.3} expected",
            self.name,
            z.abs()
        );
        Some(self.alert(AlertKind::Anomaly { z, value, expected }, message))
    }

    fn check_threshold(&mut self, value: f64) -> Option<Alert> {
        let rule = self.config.threshold?;
        let beyond_now = rule.direction.is_beyond(value, rule.limit);
        // No forecast is trusted before the model has seen enough errors to
        // know its own noise.
        let eta = if beyond_now || !self.errors.is_ready() {
            None
        } else {
            self.crossing_eta(&rule)
        };
        let confirm = rule.confirm.max(1);
        match &mut self.threshold_state {
            ThresholdState::Fired { calm } => {
                *calm = if beyond_now || eta.is_some() {
                    0
                } else {
                    *calm + 1
                };
                if *calm >= confirm {
                    self.threshold_state = ThresholdState::Armed {
                        predicted: 0,
                        crossed: 0,
                    };
                }
                None
            }
            ThresholdState::Armed { predicted, crossed } => {
                *predicted = if eta.is_some() { *predicted + 1 } else { 0 };
                *crossed = if beyond_now { *crossed + 1 } else { 0 };
                let kind = if *predicted >= confirm {
                    let (eta_points, forecast) = eta?;
                    AlertKind::Forecast {
                        limit: rule.limit,
                        eta_points,
                        forecast,
                    }
                } else if *crossed >= confirm {
                    AlertKind::Crossed {
                        limit: rule.limit,
                        value,
                    }
                } else {
                    return None;
                };
                self.threshold_state = ThresholdState::Fired { calm: 0 };
                let message = self.threshold_message(&kind);
                Some(self.alert(kind, message))
            }
        }
    }

    /// The first step within the horizon whose forecast is beyond the limit.
    fn crossing_eta(&self, rule: &Threshold) -> Option<(usize, f64)> {
        (1..=rule.horizon).find_map(|step| {
            let forecast = self.model.forecast(step)?;
            rule.direction
                .is_beyond(forecast, rule.limit)
                .then_some((step, forecast))
        })
    }

    fn threshold_message(&self, kind: &AlertKind) -> String {
        match kind {
            AlertKind::Forecast {
                limit, eta_points, ..
            } => format!(
                "{} will pass {limit} within {eta_points} points at the current trend",
                self.name
            ),
            AlertKind::Crossed { limit, value } => {
                format!("{} is {value:.3}, past {limit}", self.name)
            }
            _ => String::new(),
        }
    }

    fn alert(&self, kind: AlertKind, message: String) -> Alert {
        Alert {
            series: self.name.clone(),
            point: self.point,
            kind,
            message,
        }
    }
}

/// A set of named series.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Monitor {
    series: BTreeMap<String, SeriesMonitor>,
}

impl Monitor {
    /// Starts watching `name` (replacing any series of that name).
    pub fn watch(&mut self, name: &str, config: SeriesConfig) -> Result<(), AlertsError> {
        self.series
            .insert(name.to_string(), SeriesMonitor::new(name, config)?);
        Ok(())
    }

    /// Whether `name` is watched.
    pub fn watches(&self, name: &str) -> bool {
        self.series.contains_key(name)
    }

    /// Adds the next point of `name`; returns the alerts it fires.
    pub fn observe(&mut self, name: &str, value: f64) -> Result<Vec<Alert>, AlertsError> {
        let series = self
            .series
            .get_mut(name)
            .ok_or_else(|| AlertsError::UnknownSeries(name.to_string()))?;
        Ok(series.observe(value))
    }

    /// One series, for its forecast.
    pub fn series(&self, name: &str) -> Option<&SeriesMonitor> {
        self.series.get(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::Direction;

    fn with_threshold(limit: f64, horizon: usize) -> SeriesConfig {
        SeriesConfig {
            threshold: Some(Threshold {
                limit,
                direction: Direction::Above,
                horizon,
                confirm: 2,
            }),
            ..SeriesConfig::default()
        }
    }

    #[test]
    fn a_series_already_past_its_limit_fires_crossed_once() {
        let mut m = SeriesMonitor::new("x", with_threshold(10.0, 5)).unwrap();
        let alerts: Vec<Alert> = (0..20).flat_map(|_| m.observe(50.0)).collect();
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        assert!(matches!(alerts[0].kind, AlertKind::Crossed { .. }));
    }

    #[test]
    fn a_threshold_alert_rearms_after_the_series_calms_down() {
        let mut m = SeriesMonitor::new("x", with_threshold(10.0, 1)).unwrap();
        let mut fired = 0;
        for value in [50.0; 5].into_iter().chain([1.0; 40]).chain([50.0; 5]) {
            fired += m
                .observe(value)
                .iter()
                .filter(|a| !matches!(a.kind, AlertKind::Anomaly { .. }))
                .count();
        }
        assert_eq!(fired, 2, "once per excursion past the limit");
    }

    #[test]
    fn an_unknown_series_is_an_error_not_a_new_series() {
        let mut monitor = Monitor::default();
        monitor.watch("a", SeriesConfig::default()).unwrap();
        assert!(monitor.observe("a", 1.0).unwrap().is_empty());
        assert_eq!(
            monitor.observe("b", 1.0).unwrap_err(),
            AlertsError::UnknownSeries("b".into())
        );
    }
}
