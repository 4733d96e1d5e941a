//! Predictive monitoring: for each metric series a forecast and an anomaly
//! detector, and the alerts they raise before a limit is crossed.
//!
//! - [`forecast`]: Holt–Winters smoothing (level, damped trend, optional
//!   additive season), one point at a time;
//! - [`robust`]: robust z-scores (median and MAD of a rolling window);
//! - [`rule`]: thresholds with a horizon, streaks, and the [`Alert`] type;
//! - [`monitor`]: one series' model, anomaly window and rule state
//!   ([`SeriesMonitor`]), and a set of named series ([`Monitor`]).
//!
//! Pure and deterministic (no clock, no I/O): the host samples its metrics
//! and feeds the points; the tests replay synthetic ramps, steps and noise.

pub mod forecast;
pub mod monitor;
pub mod robust;
pub mod rule;

pub use forecast::{HoltWinters, Smoothing};
pub use monitor::{Monitor, SeriesConfig, SeriesMonitor};
pub use robust::RobustWindow;
pub use rule::{Alert, AlertKind, Direction, Streak, Threshold};

/// Invalid monitoring settings.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AlertsError {
    #[error("smoothing weight `{name}` must be in (0, 1], got {value}")]
    InvalidSmoothing { name: &'static str, value: f64 },
    #[error("series `{0}` is not monitored")]
    UnknownSeries(String),
}
