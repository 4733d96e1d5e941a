//! Beta–Bernoulli bandit arms with fractional rewards, Thompson sampling, and
//! the Monte-Carlo probability that each arm is the best. The same arm type
//! serves prompt variants, template structures and generators.

use rand::SeedableRng;
use rand_distr::{Beta, Distribution};
use serde::{Deserialize, Serialize};

/// The random generator used everywhere here: Xoshiro256++, portable and
/// reproducible from a seed on every platform.
pub type Rng = rand::rngs::Xoshiro256PlusPlus;

/// A generator seeded with `seed`.
pub fn rng_from_seed(seed: u64) -> Rng {
    Rng::seed_from_u64(seed)
}

/// What is known about one arm: a Beta(alpha, beta) posterior over its mean
/// reward (uniform prior Beta(1, 1)), how often it was assigned (`pulls`) and
/// how many rewards were credited to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArmStats {
    pub alpha: f64,
    pub beta: f64,
    pub pulls: u64,
    pub rewards: u64,
    pub reward_sum: f64,
}

impl Default for ArmStats {
    fn default() -> Self {
        ArmStats {
            alpha: 1.0,
            beta: 1.0,
            pulls: 0,
            rewards: 0,
            reward_sum: 0.0,
        }
    }
}

impl ArmStats {
    /// Counts one assignment of the arm.
    pub fn record_pull(&mut self) {
        self.pulls += 1;
    }

    /// Credits a reward in 0..=1 (clamped; NaN counts as 0): a fractional
    /// Bernoulli observation, `alpha += r`, `beta += 1 - r`.
    pub fn record_reward(&mut self, reward: f64) {
        let r = if reward.is_nan() {
            0.0
        } else {
            reward.clamp(0.0, 1.0)
        };
        self.alpha += r;
        self.beta += 1.0 - r;
        self.rewards += 1;
        self.reward_sum += r;
    }

    /// Posterior mean of the reward.
    pub fn mean(&self) -> f64 {
        self.alpha / (self.alpha + self.beta)
    }

    /// Mean of the credited rewards (None before the first).
    pub fn mean_reward(&self) -> Option<f64> {
        (self.rewards > 0).then(|| self.reward_sum / self.rewards as f64)
    }

    /// One draw from the posterior.
    pub fn sample(&self, rng: &mut Rng) -> f64 {
        // Parameters stay >= 1 by construction; guard stored state anyway.
        match Beta::new(self.alpha.max(1e-6), self.beta.max(1e-6)) {
            Ok(beta) => beta.sample(rng),
            Err(_) => self.mean(),
        }
    }

    /// Whether the numbers can be used (finite, positive parameters).
    pub fn is_valid(&self) -> bool {
        self.alpha.is_finite() && self.beta.is_finite() && self.alpha > 0.0 && self.beta > 0.0
    }
}

/// Picks `count` arms by Thompson sampling: for each pick, one posterior draw
/// per arm, the best draw among arms not yet picked wins (arms repeat only
/// once all were picked). Returns indices into `arms`.
pub fn assign_distinct(arms: &[&ArmStats], count: usize, rng: &mut Rng) -> Vec<usize> {
    let mut picked: Vec<usize> = Vec::with_capacity(count);
    if arms.is_empty() {
        return picked;
    }
    for _ in 0..count {
        let draws: Vec<f64> = arms.iter().map(|a| a.sample(rng)).collect();
        // Arms already picked in the current round of `arms.len()` picks.
        let round = &picked[picked.len() - picked.len() % arms.len()..];
        let best = (0..arms.len())
            .filter(|i| !round.contains(i))
            .max_by(|&a, &b| draws[a].total_cmp(&draws[b]))
            .unwrap_or(0);
        picked.push(best);
    }
    picked
}

/// Monte-Carlo estimate (with `draws` joint samples) of the probability that
/// each arm has the highest mean reward.
pub fn probability_best(arms: &[&ArmStats], draws: usize, rng: &mut Rng) -> Vec<f64> {
    let mut wins = vec![0usize; arms.len()];
    if arms.is_empty() || draws == 0 {
        return vec![0.0; arms.len()];
    }
    for _ in 0..draws {
        let best = (0..arms.len())
            .map(|i| (i, arms[i].sample(rng)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(i, _)| i)
            .unwrap_or(0);
        wins[best] += 1;
    }
    wins.into_iter().map(|w| w as f64 / draws as f64).collect()
}

/// An arm as `GET /api/experiments` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArmSummary {
    pub id: String,
    pub pulls: u64,
    pub rewards: u64,
    /// Mean of the credited rewards; null before the first.
    pub mean_reward: Option<f64>,
    /// Posterior mean (prior Beta(1, 1)).
    pub posterior_mean: f64,
    pub probability_best: f64,
}

impl ArmSummary {
    /// Summaries of `arms` with their probability of being best (seeded, so
    /// the same state always shows the same numbers).
    pub fn summarize(arms: &[(String, ArmStats)], draws: usize, seed: u64) -> Vec<ArmSummary> {
        let refs: Vec<&ArmStats> = arms.iter().map(|(_, a)| a).collect();
        let p_best = probability_best(&refs, draws, &mut rng_from_seed(seed));
        arms.iter()
            .zip(p_best)
            .map(|((id, a), p)| ArmSummary {
                id: id.clone(),
                pulls: a.pulls,
                rewards: a.rewards,
                mean_reward: a.mean_reward().map(round4),
                posterior_mean: round4(a.mean()),
                probability_best: round4(p),
            })
            .collect()
    }
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewards_move_the_posterior() {
        let mut a = ArmStats::default();
        assert_eq!(a.mean(), 0.5);
        a.record_reward(1.0);
        a.record_reward(0.5);
        assert!((a.mean() - 2.5 / 4.0).abs() < 1e-12);
        assert_eq!(a.mean_reward(), Some(0.75));
        a.record_reward(f64::NAN);
        a.record_reward(7.0);
        assert_eq!(a.rewards, 4);
        assert!(a.is_valid());
    }

    #[test]
    fn sampling_is_reproducible_from_the_seed() {
        let a = ArmStats {
            alpha: 3.0,
            beta: 5.0,
            ..ArmStats::default()
        };
        let draws = |seed| {
            let mut rng = rng_from_seed(seed);
            (0..5).map(|_| a.sample(&mut rng)).collect::<Vec<_>>()
        };
        assert_eq!(draws(7), draws(7));
        assert_ne!(draws(7), draws(8));
        assert!(draws(7).iter().all(|x| (0.0..=1.0).contains(x)));
    }

    #[test]
    fn distinct_assignment_uses_every_arm_before_repeating() {
        let arms = vec![ArmStats::default(); 4];
        let refs: Vec<&ArmStats> = arms.iter().collect();
        let mut rng = rng_from_seed(1);
        let picks = assign_distinct(&refs, 6, &mut rng);
        assert_eq!(picks.len(), 6);
        let mut first: Vec<usize> = picks[..4].to_vec();
        first.sort();
        assert_eq!(first, vec![0, 1, 2, 3]);
        let mut rest: Vec<usize> = picks[4..].to_vec();
        rest.dedup();
        assert_eq!(rest.len(), 2, "{picks:?}");
    }

    #[test]
    fn a_clearly_better_arm_is_probably_best() {
        let good = ArmStats {
            alpha: 80.0,
            beta: 20.0,
            ..ArmStats::default()
        };
        let bad = ArmStats {
            alpha: 50.0,
            beta: 50.0,
            ..ArmStats::default()
        };
        let p = probability_best(&[&bad, &good], 2000, &mut rng_from_seed(3));
        assert!(p[1] > 0.99, "{p:?}");
        assert!((p[0] + p[1] - 1.0).abs() < 1e-9);
    }

    /// The learning loop in miniature: 1,000 rounds, arm 2 truly better; by
    /// the end Thompson sampling assigns it most of the time.
    #[test]
    fn thompson_sampling_finds_the_better_arm() {
        let truth = [0.40, 0.45, 0.60, 0.42];
        let mut arms = vec![ArmStats::default(); truth.len()];
        let mut rng = rng_from_seed(42);
        let mut late = [0usize; 4];
        for round in 0..1000 {
            let refs: Vec<&ArmStats> = arms.iter().collect();
            let i = assign_distinct(&refs, 1, &mut rng)[0];
            arms[i].record_pull();
            let reward = Beta::new(truth[i] * 20.0, (1.0 - truth[i]) * 20.0)
                .unwrap()
                .sample(&mut rng);
            arms[i].record_reward(reward);
            if round >= 800 {
                late[i] += 1;
            }
        }
        assert!(late[2] > 150, "late assignments {late:?}");
    }
}
