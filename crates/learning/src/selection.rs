//! Choosing a generator for one request: Thompson sampling over each
//! generator's reward posterior in the request's context, minus a cost
//! penalty, with the request's budget as a hard limit and unavailable
//! generators (not configured, circuit open) skipped. The choice comes with
//! an explanation a user can read.

use crate::bandit::{ArmStats, Rng};
use serde::Serialize;

/// One generator as the selector sees it.
#[derive(Debug, Clone)]
pub struct GeneratorOption {
    pub id: String,
    pub stats: ArmStats,
    /// Estimated cost of this request with this generator, in USD.
    pub cost_usd: f64,
    /// `Err(reason)` when it cannot be used now.
    pub available: Result<(), String>,
}

/// The decision and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GeneratorChoice {
    pub id: String,
    pub reason: String,
    /// Every option: its draw, penalty and, when skipped, why.
    pub considered: Vec<Considered>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Considered {
    pub id: String,
    pub posterior_mean: f64,
    pub cost_usd: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

/// Picks the option with the best `sample − cost_weight × cost_usd` among
/// those available and within `budget_usd`. Falls back to `fallback_id`
/// (the template engine, which is free and always there) when none is.
pub fn choose_generator(
    options: &[GeneratorOption],
    budget_usd: Option<f64>,
    cost_weight: f64,
    fallback_id: &str,
    rng: &mut Rng,
) -> GeneratorChoice {
    let mut considered = Vec::with_capacity(options.len());
    let mut best: Option<(usize, f64)> = None;
    for (i, option) in options.iter().enumerate() {
        let mut entry = Considered {
            id: option.id.clone(),
            posterior_mean: round4(option.stats.mean()),
            cost_usd: option.cost_usd,
            sample: None,
            score: None,
            skipped: None,
        };
        if let Err(reason) = &option.available {
            entry.skipped = Some(reason.clone());
        } else if budget_usd.is_some_and(|b| option.cost_usd > b) {
            entry.skipped = Some(format!(
                "estimated cost ${:.4} exceeds the budget ${:.4}",
                option.cost_usd,
                budget_usd.unwrap_or_default()
            ));
        } else {
            let sample = option.stats.sample(rng);
            let score = sample - cost_weight * option.cost_usd;
            entry.sample = Some(round4(sample));
            entry.score = Some(round4(score));
            if best.is_none_or(|(_, s)| score > s) {
                best = Some((i, score));
            }
        }
        considered.push(entry);
    }
    let (id, reason) = match best {
        Some((i, _)) => {
            let chosen = &options[i];
            let others: Vec<String> = considered
                .iter()
                .filter(|c| c.id != chosen.id)
                .map(|c| match (&c.skipped, c.score) {
                    (Some(why), _) => format!("{} skipped ({why})", c.id),
                    (None, Some(s)) => format!("{} scored {s:.3}", c.id),
                    _ => c.id.clone(),
                })
                .collect();
            let mut reason = format!(
                "{} had the best Thompson draw after the cost penalty ({:.3}; posterior mean reward {:.3} from {} feedback events, est. cost ${:.4})",
                chosen.id,
                considered[i].score.unwrap_or_default(),
                chosen.stats.mean(),
                chosen.stats.rewards,
                chosen.cost_usd
            );
            if !others.is_empty() {
                reason.push_str("; ");
                reason.push_str(&others.join("; "));
            }
            (chosen.id.clone(), reason)
        }
        None => (
            fallback_id.to_string(),
            format!("no generator was available within the budget; using {fallback_id}"),
        ),
    };
    GeneratorChoice {
        id,
        reason,
        considered,
    }
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bandit::rng_from_seed;

    fn option(id: &str, alpha: f64, beta: f64, cost: f64) -> GeneratorOption {
        GeneratorOption {
            id: id.into(),
            stats: ArmStats {
                alpha,
                beta,
                ..ArmStats::default()
            },
            cost_usd: cost,
            available: Ok(()),
        }
    }

    #[test]
    fn the_budget_is_a_hard_limit() {
        let options = [
            option("template", 1.0, 9.0, 0.0),
            option("llm", 90.0, 10.0, 0.02),
        ];
        let choice = choose_generator(&options, Some(0.01), 1.0, "template", &mut rng_from_seed(1));
        assert_eq!(choice.id, "template");
        assert!(
            choice.reason.contains("exceeds the budget"),
            "{}",
            choice.reason
        );
        let choice = choose_generator(&options, Some(0.05), 1.0, "template", &mut rng_from_seed(1));
        assert_eq!(choice.id, "llm", "{}", choice.reason);
    }

    #[test]
    fn cost_penalty_tips_a_close_call() {
        let options = [
            option("template", 50.0, 50.0, 0.0),
            option("llm", 52.0, 48.0, 0.05),
        ];
        let mut rng = rng_from_seed(9);
        let llm_wins = (0..200)
            .filter(|_| choose_generator(&options, None, 10.0, "template", &mut rng).id == "llm")
            .count();
        assert!(
            llm_wins < 20,
            "llm chosen {llm_wins}/200 despite the penalty"
        );
    }

    #[test]
    fn unavailable_generators_are_skipped_and_explained() {
        let mut llm = option("llm", 90.0, 10.0, 0.0);
        llm.available = Err("circuit breaker open".into());
        let choice = choose_generator(
            &[option("template", 1.0, 1.0, 0.0), llm],
            None,
            1.0,
            "template",
            &mut rng_from_seed(2),
        );
        assert_eq!(choice.id, "template");
        assert!(choice.reason.contains("circuit breaker open"));
        let none = choose_generator(&[], None, 1.0, "template", &mut rng_from_seed(2));
        assert_eq!(none.id, "template");
    }
}
