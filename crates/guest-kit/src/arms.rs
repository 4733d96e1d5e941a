//! Bandit arms in the learning state, updated without losing a count.
//!
//! An arm is two values:
//! - `pulls/<family>/<context>/<arm>`: how often it was assigned, an atomic
//!   counter (`generate` adds 1 per candidate, no read-modify-write);
//! - `arm/<family>/<context>/<arm>`: its `ArmStats` JSON (Beta posterior,
//!   rewards), changed by `feedback` with [`StateStore::apply_once`]: a
//!   compare-and-swap loop that also records the event, so concurrent
//!   credits all land and a retried event is credited once. (Its own
//!   `pulls` field is what older versions counted there; the counter adds
//!   to it.)
//!
//! `arm-index` lists every arm (`<family>/<context>/<arm>`, sorted), so
//! `/api/experiments` reads the arms it shows instead of listing the store.
//! An arm joins the index (compare-and-swap) before its first count.
//!
//! Each is `family` `structure`, `prompt` or `generator`, `context`
//! `<language>.<goal>.<tone>`.

use crate::state::{StateStore, parse_logged};
use fbposts_core::ApiError;
use fbposts_learning::ArmStats;

/// Key of the index of arms.
pub const ARM_INDEX_KEY: &str = "arm-index";

/// One arm's name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ArmId {
    pub family: String,
    pub context: String,
    pub arm: String,
}

impl ArmId {
    pub fn new(family: &str, context: &str, arm: &str) -> Self {
        Self {
            family: family.into(),
            context: context.into(),
            arm: arm.into(),
        }
    }

    /// Key of its statistics (JSON).
    pub fn stats_key(&self) -> String {
        format!("arm/{}/{}/{}", self.family, self.context, self.arm)
    }

    /// Key of its pull counter.
    pub fn pulls_key(&self) -> String {
        format!("pulls/{}/{}/{}", self.family, self.context, self.arm)
    }

    /// Its entry in the index.
    fn index_entry(&self) -> String {
        format!("{}/{}/{}", self.family, self.context, self.arm)
    }

    /// Parses an index entry (`None` when malformed).
    fn from_index_entry(entry: &str) -> Option<Self> {
        let mut parts = entry.splitn(3, '/');
        Some(Self::new(parts.next()?, parts.next()?, parts.next()?))
    }
}

/// An arm's statistics from its two stored values.
fn combine(id: &ArmId, stats: Option<&[u8]>, pulls: Option<&[u8]>) -> ArmStats {
    let mut arm = stats
        .and_then(|b| parse_logged::<ArmStats>(&id.stats_key(), b))
        .filter(ArmStats::is_valid)
        .unwrap_or_default();
    let counted = pulls
        .and_then(|b| std::str::from_utf8(b).ok()?.trim().parse::<u64>().ok())
        .unwrap_or(0);
    arm.pulls += counted;
    arm
}

impl StateStore {
    /// The statistics of `ids`, in order (the prior where an arm has none),
    /// in one batch read.
    pub async fn arms(&self, ids: &[ArmId]) -> Result<Vec<ArmStats>, ApiError> {
        let keys: Vec<String> = ids
            .iter()
            .flat_map(|id| [id.stats_key(), id.pulls_key()])
            .collect();
        let values = self.get_many(&keys).await?;
        Ok(ids
            .iter()
            .zip(values.chunks(2))
            .map(|(id, pair)| combine(id, pair[0].as_deref(), pair[1].as_deref()))
            .collect())
    }

    /// One arm's statistics.
    pub async fn arm(&self, family: &str, context: &str, arm: &str) -> Result<ArmStats, ApiError> {
        let id = ArmId::new(family, context, arm);
        Ok(self.arms(&[id]).await?.pop().unwrap_or_default())
    }

    /// Counts one assignment of each arm (repeats count again) and returns
    /// their statistics afterwards.
    pub async fn record_pulls(&self, ids: &[ArmId]) -> Result<Vec<ArmStats>, ApiError> {
        self.index_arms(ids).await?;
        for id in ids {
            self.increment(&id.pulls_key(), 1).await?;
        }
        self.arms(ids).await
    }

    /// Credits `reward` to an arm for `event`, at most once per event;
    /// returns the statistics afterwards.
    pub async fn credit_reward(
        &self,
        id: &ArmId,
        event: &str,
        reward: f64,
    ) -> Result<ArmStats, ApiError> {
        self.index_arms(std::slice::from_ref(id)).await?;
        let key = id.stats_key();
        let (stored, _) = self
            .apply_once(&key, event, |current| {
                let mut arm = current
                    .and_then(|b| parse_logged::<ArmStats>(&key, b))
                    .filter(ArmStats::is_valid)
                    .unwrap_or_default();
                arm.record_reward(reward);
                serde_json::to_vec(&arm).unwrap_or_default()
            })
            .await?;
        let pulls = self.get_bytes(&id.pulls_key()).await?;
        Ok(combine(id, Some(&stored), pulls.as_deref()))
    }

    /// Every indexed arm, sorted.
    pub async fn indexed_arms(&self) -> Result<Vec<ArmId>, ApiError> {
        let entries: Vec<String> = self.get(ARM_INDEX_KEY).await?.unwrap_or_default();
        Ok(entries
            .iter()
            .filter_map(|e| ArmId::from_index_entry(e))
            .collect())
    }

    /// Adds the arms missing from the index (one read when none is).
    async fn index_arms(&self, ids: &[ArmId]) -> Result<(), ApiError> {
        let known: Vec<String> = self.get(ARM_INDEX_KEY).await?.unwrap_or_default();
        if ids.iter().all(|id| known.contains(&id.index_entry())) {
            return Ok(());
        }
        self.update(ARM_INDEX_KEY, |current| {
            let mut entries: Vec<String> = current
                .and_then(|b| serde_json::from_slice(b).ok())
                .unwrap_or_default();
            let before = entries.len();
            for id in ids {
                let entry = id.index_entry();
                if let Err(at) = entries.binary_search(&entry) {
                    entries.insert(at, entry);
                }
            }
            (entries.len() != before).then(|| serde_json::to_vec(&entries).unwrap_or_default())
        })
        .await
        .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_arm_reads_its_json_plus_its_pull_counter() {
        let id = ArmId::new("structure", "es.engagement.friendly", "question");
        let json = serde_json::to_vec(&ArmStats {
            pulls: 3,
            ..ArmStats::default()
        })
        .unwrap();
        assert_eq!(combine(&id, Some(&json), Some(b"4")).pulls, 7);
        assert_eq!(combine(&id, None, Some(b"4")).pulls, 4);
        assert_eq!(combine(&id, None, None), ArmStats::default());
        assert_eq!(
            combine(&id, Some(b"garbage"), Some(b"x")),
            ArmStats::default()
        );
    }

    #[test]
    fn index_entries_round_trip_even_with_slashes_in_the_arm() {
        let id = ArmId::new("prompt", "en.traffic.urgent", "a/b");
        assert_eq!(ArmId::from_index_entry(&id.index_entry()), Some(id));
        assert_eq!(ArmId::from_index_entry("only/two"), None);
    }
}
