//! The per-page online model: what one page's own outcomes say about how it
//! differs from the global engagement model.
//!
//! Target: `y = ln(1 + observed) − ln(1 + global p50)`, the log-ratio of what
//! a published post got to what the global model predicted for its context.
//! Features ([`PageFeatures`]): intercept, paid, hour of day (sine and
//! cosine), weekend. Model: Bayesian linear regression with a conjugate
//! normal–inverse-gamma prior centred on "the global model is right"
//! (`β = 0`), updated in closed form one observation at a time, so the state
//! stored in KV is just the sufficient statistics (`Λ`, `η = Xᵀy`, `Σy²`, n).
//!
//! Blending: once a page has [`MIN_PAGE_OBSERVATIONS`] observations, the
//! predict step multiplies the global `1 + p10/p50/p90` by `exp(ŷ)`, the
//! posterior mean log-ratio for the requested context. The prior keeps
//! early estimates shrunk towards the global model.
//!
//! Hours: the page's own hour curve (the sine and cosine coefficients) is
//! trusted to rank posting hours once [`PageModel::knows_hours`]: at least
//! [`MIN_HOUR_OBSERVATIONS`] posts whose hours spread over the day
//! ([`PageModel::hour_spread`] ≥ [`MIN_HOUR_SPREAD`]). Why these numbers:
//! the prior puts precision 1/0.5² = 4 on each hour coefficient ("no hour
//! effect"); posts spread over the day add about n/2 to each, so 20 posts
//! give the data about 10/14 ≈ 70 % of the weight — the page's own curve,
//! not the prior's flat line, decides. 20 is also twice the blending
//! threshold (the level needs 1 coefficient, the hour curve 2 more), about
//! three weeks of daily posting. The spread rule keeps a page that always
//! posts at the same time of day from "learning" hours it never tried.

use crate::LearningError;
use serde::{Deserialize, Serialize};

/// Observations a page needs before its model is blended into predictions.
pub const MIN_PAGE_OBSERVATIONS: u64 = 10;

/// Observations before the page's own hour curve ranks posting hours
/// (see the module docs for why 20).
pub const MIN_HOUR_OBSERVATIONS: u64 = 20;

/// Least [`PageModel::hour_spread`] before the page's hour curve ranks
/// hours: the prior's precision on one hour coefficient (1/0.5²), so that
/// along the hours the page tried the data weigh at least as much as the
/// prior.
pub const MIN_HOUR_SPREAD: f64 = 1.0 / (PRIOR_SD_SLOPES * PRIOR_SD_SLOPES);

/// Pages with a ready model ([`PageModel::ready`]) needed before their
/// average becomes the prior of new pages ([`PageModel::pooled_prior`]): with
/// one page, its quirks would become everyone's starting point.
pub const MIN_POOLED_PAGES: usize = 2;

/// Number of features.
pub const DIM: usize = 5;

/// Indices of the hour's sine and cosine in [`PageFeatures`].
const HOUR_SIN: usize = 2;
const HOUR_COS: usize = 3;

/// Prior standard deviation of the intercept (log-ratio scale) and of the
/// other coefficients.
const PRIOR_SD_INTERCEPT: f64 = 1.0;
const PRIOR_SD_SLOPES: f64 = 0.5;
/// Inverse-gamma prior on the noise variance: mean b/(a−1) = 0.5.
const PRIOR_A: f64 = 2.0;
const PRIOR_B: f64 = 0.5;

/// The model's input for one post.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PageFeatures(pub [f64; DIM]);

impl PageFeatures {
    /// `weekday` in the dataset's encoding (1 = Sunday … 7 = Saturday),
    /// `hour` 0–23.
    pub fn new(paid: bool, weekday: u8, hour: u8) -> Self {
        let angle = std::f64::consts::TAU * f64::from(hour % 24) / 24.0;
        let weekend = matches!(weekday, 1 | 7);
        PageFeatures([
            1.0,
            f64::from(u8::from(paid)),
            angle.sin(),
            angle.cos(),
            f64::from(u8::from(weekend)),
        ])
    }
}

/// The prior's precision on coefficient `i` (Λ₀ is diagonal).
fn prior_precision(i: usize) -> f64 {
    let sd = if i == 0 {
        PRIOR_SD_INTERCEPT
    } else {
        PRIOR_SD_SLOPES
    };
    1.0 / (sd * sd)
}

/// Sufficient statistics of the posterior (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageModel {
    pub observations: u64,
    /// Posterior precision Λ = Λ₀ + XᵀX, row-major DIM × DIM.
    precision: Vec<f64>,
    /// η = Xᵀy (the prior mean is 0).
    eta: Vec<f64>,
    /// Σ y².
    sum_y2: f64,
}

impl Default for PageModel {
    fn default() -> Self {
        let mut precision = vec![0.0; DIM * DIM];
        for i in 0..DIM {
            precision[i * DIM + i] = prior_precision(i);
        }
        PageModel {
            observations: 0,
            precision,
            eta: vec![0.0; DIM],
            sum_y2: 0.0,
        }
    }
}

/// The model's answer for one context.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogRatio {
    /// Posterior mean of `ln(1 + actual) − ln(1 + global p50)`.
    pub mean: f64,
    /// Predictive standard deviation (Student-t scale) of a new post's
    /// log-ratio.
    pub sd: f64,
}

/// The sufficient statistics of a [`PageModel`], as plain values: what
/// crosses a WIT boundary (`fbposts:pipeline/forecast`'s `page-model`).
#[derive(Debug, Clone, PartialEq)]
pub struct PageStatistics {
    pub observations: u64,
    /// Λ, row-major DIM × DIM.
    pub precision: Vec<f64>,
    /// η = Xᵀy, DIM values.
    pub eta: Vec<f64>,
    pub sum_y2: f64,
}

impl PageModel {
    /// Reads stored state, checking its dimensions and values.
    pub fn from_json(bytes: &[u8]) -> Result<Self, LearningError> {
        let model: PageModel = serde_json::from_slice(bytes)
            .map_err(|e| LearningError::InvalidState(e.to_string()))?;
        model.checked()
    }

    /// A model from its statistics, checked like stored state.
    pub fn from_statistics(stats: PageStatistics) -> Result<Self, LearningError> {
        PageModel {
            observations: stats.observations,
            precision: stats.precision,
            eta: stats.eta,
            sum_y2: stats.sum_y2,
        }
        .checked()
    }

    /// The model's statistics (see [`PageModel::from_statistics`]).
    pub fn statistics(&self) -> PageStatistics {
        PageStatistics {
            observations: self.observations,
            precision: self.precision.clone(),
            eta: self.eta.clone(),
            sum_y2: self.sum_y2,
        }
    }

    fn checked(self) -> Result<Self, LearningError> {
        let finite = self
            .precision
            .iter()
            .chain(&self.eta)
            .chain(std::iter::once(&self.sum_y2))
            .all(|x| x.is_finite());
        if self.precision.len() != DIM * DIM || self.eta.len() != DIM || !finite {
            return Err(LearningError::InvalidState(
                "page model has the wrong shape or non-finite values".into(),
            ));
        }
        Ok(self)
    }

    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Adds one observed log-ratio (ignored when not finite).
    pub fn observe(&mut self, x: &PageFeatures, log_ratio: f64) {
        if !log_ratio.is_finite() {
            return;
        }
        for i in 0..DIM {
            for j in 0..DIM {
                self.precision[i * DIM + j] += x.0[i] * x.0[j];
            }
            self.eta[i] += x.0[i] * log_ratio;
        }
        self.sum_y2 += log_ratio * log_ratio;
        self.observations += 1;
    }

    /// A model with no observations whose prior is centred on `mean`
    /// instead of 0 (same prior precision). The normal–inverse-gamma update
    /// stays closed-form: η starts at Λ₀μ₀ and Σy² at μ₀ᵀΛ₀μ₀, so
    /// [`predict`](Self::predict)'s `b = b₀ + ½(Σy² − ηᵀβ)` is the posterior
    /// `b₀ + ½(Σy² + μ₀ᵀΛ₀μ₀ − μₙᵀΛₙμₙ)`.
    pub fn centred_on(mean: [f64; DIM]) -> Self {
        let mut model = PageModel::default();
        for i in 0..DIM {
            model.eta[i] = (0..DIM)
                .map(|j| model.precision[i * DIM + j] * mean[j])
                .sum();
        }
        model.sum_y2 = model.eta.iter().zip(mean).map(|(e, m)| e * m).sum();
        model
    }

    /// The prior for new pages learned from every page: centred on the
    /// average posterior mean of the ready pages, when there are at least
    /// [`MIN_POOLED_PAGES`]; `None` otherwise (new pages then start from
    /// "the global model is right").
    pub fn pooled_prior<'a>(pages: impl IntoIterator<Item = &'a PageModel>) -> Option<PageModel> {
        let means: Vec<[f64; DIM]> = pages
            .into_iter()
            .filter(|page| page.ready())
            .filter_map(PageModel::coefficients)
            .collect();
        if means.len() < MIN_POOLED_PAGES {
            return None;
        }
        let mut average = [0.0; DIM];
        for mean in &means {
            for (sum, value) in average.iter_mut().zip(mean) {
                *sum += value / means.len() as f64;
            }
        }
        Some(PageModel::centred_on(average))
    }

    /// Whether the predict step should blend this model in.
    pub fn ready(&self) -> bool {
        self.observations >= MIN_PAGE_OBSERVATIONS
    }

    /// How spread over the day the observed posts' hours are: the trace of
    /// the centred scatter of their (sine, cosine) hour points,
    /// `n · (1 − R̄²)` with `R̄` the length of their mean: 0 when every post
    /// was at one hour, n when the hours balance around the clock (half at
    /// 9 h and half at 21 h, or evenly spread). Read from the statistics:
    /// Λ − Λ₀ = XᵀX.
    pub fn hour_spread(&self) -> f64 {
        let xtx = |i: usize, j: usize| {
            let prior = if i == j { prior_precision(i) } else { 0.0 };
            self.precision[i * DIM + j] - prior
        };
        let n = xtx(0, 0);
        if n <= 0.0 {
            return 0.0;
        }
        let (sum_sin, sum_cos) = (xtx(0, HOUR_SIN), xtx(0, HOUR_COS));
        let centred = xtx(HOUR_SIN, HOUR_SIN) + xtx(HOUR_COS, HOUR_COS)
            - (sum_sin * sum_sin + sum_cos * sum_cos) / n;
        centred.max(0.0)
    }

    /// Whether the page's own hour curve should rank posting hours:
    /// [`MIN_HOUR_OBSERVATIONS`] posts with [`MIN_HOUR_SPREAD`].
    pub fn knows_hours(&self) -> bool {
        self.observations >= MIN_HOUR_OBSERVATIONS && self.hour_spread() >= MIN_HOUR_SPREAD
    }

    /// Posterior mean of the coefficients.
    pub fn coefficients(&self) -> Option<[f64; DIM]> {
        solve(&self.precision, &self.eta)
    }

    /// The posterior predictive log-ratio for a context.
    pub fn predict(&self, x: &PageFeatures) -> Option<LogRatio> {
        let beta = self.coefficients()?;
        let mean: f64 = beta.iter().zip(x.0).map(|(b, x)| b * x).sum();
        let a = PRIOR_A + self.observations as f64 / 2.0;
        let eta_beta: f64 = self.eta.iter().zip(beta).map(|(e, b)| e * b).sum();
        let b = (PRIOR_B + 0.5 * (self.sum_y2 - eta_beta)).max(1e-9);
        let leverage: f64 = {
            let v = solve(&self.precision, &x.0)?;
            v.iter().zip(x.0).map(|(v, x)| v * x).sum()
        };
        let sd = (b / a * (1.0 + leverage)).sqrt();
        Some(LogRatio { mean, sd })
    }

    /// Global `p10, p50, p90` adjusted for this page in context `x`:
    /// `(1 + q) · exp(mean) − 1`, floored at 0. None when the model cannot
    /// answer (numerically singular state).
    pub fn adjust(&self, x: &PageFeatures, quantiles: [f64; 3]) -> Option<[f64; 3]> {
        let factor = self.predict(x)?.mean.exp();
        Some(quantiles.map(|q| ((1.0 + q.max(0.0)) * factor - 1.0).max(0.0)))
    }
}

/// Solves `A x = b` for a symmetric positive-definite DIM × DIM `A`
/// (Cholesky); None when `A` is not positive definite.
fn solve(a: &[f64], b: &[f64]) -> Option<[f64; DIM]> {
    let mut l = [[0.0f64; DIM]; DIM];
    for i in 0..DIM {
        for j in 0..=i {
            let sum: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
            if i == j {
                let d = a[i * DIM + i] - sum;
                if d <= 0.0 || !d.is_finite() {
                    return None;
                }
                l[i][i] = d.sqrt();
            } else {
                l[i][j] = (a[i * DIM + j] - sum) / l[j][j];
            }
        }
    }
    let mut y = [0.0; DIM];
    for i in 0..DIM {
        let sum: f64 = (0..i).map(|k| l[i][k] * y[k]).sum();
        y[i] = (b[i] - sum) / l[i][i];
    }
    let mut x = [0.0; DIM];
    for i in (0..DIM).rev() {
        let sum: f64 = (i + 1..DIM).map(|k| l[k][i] * x[k]).sum();
        x[i] = (y[i] - sum) / l[i][i];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bandit::rng_from_seed;
    use rand_distr::{Distribution, Normal};

    #[test]
    fn a_fresh_model_agrees_with_the_global_one() {
        let m = PageModel::default();
        let x = PageFeatures::new(true, 3, 10);
        let p = m.predict(&x).unwrap();
        assert_eq!(p.mean, 0.0);
        assert_eq!(
            m.adjust(&x, [10.0, 50.0, 90.0]).unwrap(),
            [10.0, 50.0, 90.0]
        );
        assert!(!m.ready());
    }

    #[test]
    fn it_learns_a_page_effect_and_its_hours() {
        // This page does 2.5x the global prediction, 4x on paid posts.
        let noise = Normal::new(0.0, 0.2).unwrap();
        let mut rng = rng_from_seed(5);
        let mut m = PageModel::default();
        for i in 0..60u8 {
            let paid = i % 3 == 0;
            let hour = u8::try_from(u32::from(i) * 5 % 24).unwrap();
            let x = PageFeatures::new(paid, 1 + i % 7, hour);
            let truth = if paid { 4.0f64.ln() } else { 2.5f64.ln() };
            m.observe(&x, truth + noise.sample(&mut rng));
        }
        assert!(m.ready());
        let unpaid = m.predict(&PageFeatures::new(false, 4, 12)).unwrap();
        let paid = m.predict(&PageFeatures::new(true, 4, 12)).unwrap();
        assert!((unpaid.mean.exp() - 2.5).abs() < 0.4, "{unpaid:?}");
        assert!((paid.mean.exp() - 4.0).abs() < 0.7, "{paid:?}");
        assert!(unpaid.sd > 0.1 && unpaid.sd < 0.5, "{unpaid:?}");
    }

    #[test]
    fn the_hour_curve_needs_twenty_posts_spread_over_the_day() {
        let mut evenings_only = PageModel::default();
        let mut mornings_and_evenings = PageModel::default();
        for i in 0..MIN_HOUR_OBSERVATIONS as u8 {
            evenings_only.observe(&PageFeatures::new(false, 1 + i % 7, 19 + i % 3), 0.5);
            let hour = if i % 2 == 0 { 9 } else { 20 };
            mornings_and_evenings.observe(&PageFeatures::new(false, 1 + i % 7, hour), 0.5);
            if u64::from(i) + 1 < MIN_HOUR_OBSERVATIONS {
                assert!(!mornings_and_evenings.knows_hours(), "{i}");
            }
        }
        assert!(mornings_and_evenings.knows_hours());
        // Half at 9 h, half at 20 h (165° apart): n · (1 − cos²(82.5°)).
        let spread = mornings_and_evenings.hour_spread();
        let expected = 20.0 * (1.0 - 82.5f64.to_radians().cos().powi(2));
        assert!((spread - expected).abs() < 1e-9, "{spread} vs {expected}");
        // Posts at 19–21 h only: not enough to compare hours of the day.
        assert!(
            evenings_only.hour_spread() < MIN_HOUR_SPREAD,
            "{}",
            evenings_only.hour_spread()
        );
        assert!(!evenings_only.knows_hours());
        assert_eq!(PageModel::default().hour_spread(), 0.0);
        assert_eq!(MIN_HOUR_SPREAD, 4.0);
    }

    #[test]
    fn the_prior_shrinks_a_few_observations() {
        let mut m = PageModel::default();
        let x = PageFeatures::new(false, 2, 9);
        m.observe(&x, 2.0);
        let p = m.predict(&x).unwrap();
        assert!(p.mean > 0.0 && p.mean < 2.0, "{p:?}");
    }

    #[test]
    fn state_round_trips_and_bad_state_is_rejected() {
        let mut m = PageModel::default();
        m.observe(&PageFeatures::new(true, 7, 20), 0.3);
        assert_eq!(PageModel::from_json(&m.to_json()).unwrap(), m);
        assert!(PageModel::from_json(b"{}").is_err());
        assert!(
            PageModel::from_json(br#"{"observations":1,"precision":[1],"eta":[0],"sum_y2":0}"#)
                .is_err()
        );
        m.observe(&PageFeatures::new(true, 7, 20), f64::NAN);
        assert_eq!(m.observations, 1);
    }

    #[test]
    fn statistics_round_trip_and_bad_statistics_are_rejected() {
        let mut m = PageModel::default();
        m.observe(&PageFeatures::new(false, 2, 9), -0.4);
        assert_eq!(PageModel::from_statistics(m.statistics()).unwrap(), m);
        let mut short = m.statistics();
        short.eta.pop();
        assert!(PageModel::from_statistics(short).is_err());
        let mut infinite = m.statistics();
        infinite.sum_y2 = f64::INFINITY;
        assert!(PageModel::from_statistics(infinite).is_err());
    }

    #[test]
    fn cholesky_solves_a_known_system() {
        let mut a = vec![0.0; DIM * DIM];
        for i in 0..DIM {
            a[i * DIM + i] = 2.0;
        }
        a[1] = 1.0;
        a[DIM] = 1.0;
        let x = solve(&a, &[3.0, 3.0, 2.0, 2.0, 2.0]).unwrap();
        for (got, want) in x.iter().zip([1.0, 1.0, 1.0, 1.0, 1.0]) {
            assert!((got - want).abs() < 1e-12, "{x:?}");
        }
        assert!(solve(&[0.0; DIM * DIM], &[1.0; DIM]).is_none());
    }

    fn page_with_effect(log_ratio: f64, n: u64) -> PageModel {
        let mut model = PageModel::default();
        for k in 0..n {
            let x = PageFeatures::new(k % 3 == 0, 1 + (k % 7) as u8, (k * 5 % 24) as u8);
            model.observe(&x, log_ratio);
        }
        model
    }

    #[test]
    fn a_prior_centred_on_zero_is_the_default_prior() {
        assert_eq!(PageModel::centred_on([0.0; DIM]), PageModel::default());
    }

    #[test]
    fn a_centred_prior_predicts_its_mean_before_any_observation() {
        let prior = PageModel::centred_on([0.4, 0.0, 0.0, 0.0, 0.0]);
        let x = PageFeatures::new(false, 3, 12);
        let answer = prior.predict(&x).unwrap();
        assert!((answer.mean - 0.4).abs() < 1e-9, "{answer:?}");
        let default = PageModel::default().predict(&x).unwrap();
        assert!(
            (answer.sd - default.sd).abs() < 1e-9,
            "the prior's spread is unchanged"
        );
    }

    #[test]
    fn the_pooled_prior_averages_the_ready_pages() {
        let pages = [page_with_effect(0.6, 40), page_with_effect(0.2, 40)];
        let prior = PageModel::pooled_prior(&pages).unwrap();
        let x = PageFeatures::new(false, 3, 12);
        let mean = prior.predict(&x).unwrap().mean;
        assert!((0.3..0.5).contains(&mean), "{mean}");
        assert_eq!(prior.observations, 0);
    }

    #[test]
    fn pages_that_are_not_ready_do_not_shape_the_pooled_prior() {
        let pages = [page_with_effect(0.6, 40), page_with_effect(3.0, 3)];
        assert_eq!(PageModel::pooled_prior(&pages), None);
    }

    #[test]
    fn a_new_page_starting_from_the_pooled_prior_still_learns_its_own_effect() {
        let pages = [page_with_effect(0.6, 40), page_with_effect(0.6, 40)];
        let mut page = PageModel::pooled_prior(&pages).unwrap();
        let x = PageFeatures::new(false, 3, 12);
        for _ in 0..60 {
            page.observe(&x, -0.5);
        }
        let mean = page.predict(&x).unwrap().mean;
        assert!(mean < -0.3, "{mean}");
    }
}
