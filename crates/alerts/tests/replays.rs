//! Replays of synthetic series through the monitor: a ramp that must alert
//! before it crosses, steady noise that must (almost) never alert, a step
//! that must be caught within a few points, and a seasonal series whose
//! daily rise is not a trend. One point stands for 10 s of metrics, so 360
//! points are an hour. Every replay is seeded: the figures are reproducible.

use fbposts_alerts::{Alert, AlertKind, Direction, SeriesConfig, SeriesMonitor, Threshold};
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};

type Rng = rand::rngs::Xoshiro256PlusPlus;
const POINTS_PER_HOUR: f64 = 360.0;

fn p99_rule(limit: f64) -> SeriesConfig {
    SeriesConfig {
        threshold: Some(Threshold {
            limit,
            direction: Direction::Above,
            // Ten minutes ahead.
            horizon: 60,
            confirm: 3,
        }),
        ..SeriesConfig::default()
    }
}

fn replay(config: SeriesConfig, series: impl Iterator<Item = f64>) -> Vec<Alert> {
    let mut monitor = SeriesMonitor::new("p99_ms:/api/generate", config).unwrap();
    series.flat_map(|x| monitor.observe(x)).collect()
}

fn noisy(seed: u64, sd: f64, mean: impl Fn(usize) -> f64) -> impl Iterator<Item = f64> {
    let mut rng = Rng::seed_from_u64(seed);
    let noise = Normal::new(0.0, sd).unwrap();
    (0..).map(move |t| mean(t) + noise.sample(&mut rng))
}

#[test]
fn a_latency_ramp_alerts_before_it_crosses_the_limit() {
    // p99 steady at 50 ms, then from point 300 rising 1.5 ms per point: the
    // mean reaches 200 ms at point 400 (16 min 40 s into the ramp).
    let crossing = 400;
    for seed in 1..=20 {
        let ramp = |t: usize| 50.0 + 1.5 * t.saturating_sub(300) as f64;
        let alerts = replay(p99_rule(200.0), noisy(seed, 5.0, ramp).take(500));
        let first = alerts
            .iter()
            .find(|a| matches!(a.kind, AlertKind::Forecast { .. }))
            .unwrap_or_else(|| panic!("seed {seed}: no forecast alert: {alerts:?}"));
        let lead = crossing - first.point as i64;
        eprintln!(
            "ramp seed {seed}: forecast alert at point {}, {lead} points (≈{} s) before the crossing",
            first.point,
            lead * 10
        );
        assert!(
            first.point > 300,
            "seed {seed}: alert before the ramp: {first:?}"
        );
        assert!(
            lead >= 10,
            "seed {seed}: lead of {lead} points is too short"
        );
        assert!(first.message.contains("will pass 200"), "{}", first.message);
    }
}

#[test]
fn steady_noise_raises_almost_no_alerts_over_a_long_replay() {
    // 100 hours of a p99 around 100 ms with 10 ms of noise; the limit sits
    // at 200 ms (10 standard deviations).
    let hours = 100.0;
    let points = (hours * POINTS_PER_HOUR) as usize;
    let mut false_alarms = 0;
    for seed in 1..=3 {
        let alerts = replay(p99_rule(200.0), noisy(seed, 10.0, |_| 100.0).take(points));
        false_alarms += alerts.len();
    }
    let per_hour = false_alarms as f64 / (3.0 * hours);
    eprintln!(
        "noise: {false_alarms} false alarms in {} h: {per_hour:.4} per hour",
        3.0 * hours
    );
    assert!(
        per_hour <= 0.02,
        "{false_alarms} false alarms in {} h",
        3.0 * hours
    );
}

#[test]
fn a_step_change_is_flagged_within_three_points_each_way() {
    for seed in 1..=20 {
        for jump in [50.0, -50.0] {
            let step = move |t: usize| if t >= 1000 { 100.0 + jump } else { 100.0 };
            let alerts = replay(SeriesConfig::default(), noisy(seed, 5.0, step).take(1200));
            let anomalies: Vec<&Alert> = alerts
                .iter()
                .filter(|a| matches!(a.kind, AlertKind::Anomaly { .. }))
                .collect();
            let first = anomalies
                .first()
                .unwrap_or_else(|| panic!("seed {seed}, jump {jump}: no anomaly"));
            assert!(
                (1000..=1003).contains(&first.point),
                "seed {seed}, jump {jump}: first anomaly at {}: {anomalies:?}",
                first.point
            );
            assert_eq!(anomalies.len(), 1, "one alert per step: {anomalies:?}");
        }
    }
}

#[test]
fn a_seasonal_rise_is_not_a_trend_once_the_season_is_learnt() {
    // A 10-minute cycle (60 points) peaking at 140 ms; the limit is 170 ms.
    let period = 60;
    let wave = |t: usize| 100.0 + 40.0 * (t as f64 * std::f64::consts::TAU / 60.0).sin();
    let points = 20 * POINTS_PER_HOUR as usize;
    let seasonal = SeriesConfig {
        period: Some(period),
        ..p99_rule(170.0)
    };
    let with_season = replay(seasonal, noisy(7, 5.0, wave).take(points));
    let without_season = replay(p99_rule(170.0), noisy(7, 5.0, wave).take(points));
    eprintln!(
        "seasonal: {} alerts with the season, {} without, in 20 h",
        with_season.len(),
        without_season.len()
    );
    assert!(with_season.is_empty(), "{with_season:?}");
    assert!(
        without_season.len() > 10,
        "without the season every rise looks like a trend"
    );
}
