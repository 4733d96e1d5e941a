//! Key-value lookups by tier: for each label with an in-process first tier
//! (`crate::key_value::tiered`), how many `get`s L1 answered, how many the
//! backend answered (then promoted), how many missed both, and how many
//! waited for another request's computation of the same key (single-flight).
//!
//! Also, for each label that buffers its writes
//! (`crate::key_value::write_behind`), the batches written, the entries they
//! held and the batches the backend refused; for each label behind a shared
//! Redis tier (`crate::key_value::shared_tier`), its hits, misses and the
//! Redis errors it went on without.
//!
//! The tiers count in plain atomics on their hot path; this collector reads
//! them at each scrape. The key-value capability hands it the tiers at
//! `prepare` ([`TierSource::set`]), once the stores are open.

use crate::key_value::shared_tier::L2Counts;
use crate::key_value::tiered::TierCounts;
use crate::key_value::write_behind::WriteBehindCounts;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};

/// The counters of every tiered label, write-behind buffer and shared tier.
#[derive(Debug, Default)]
pub struct Tiers {
    pub lookups: Vec<(String, Arc<TierCounts>)>,
    pub buffers: Vec<(String, Arc<WriteBehindCounts>)>,
    pub shared: Vec<(String, Arc<L2Counts>)>,
}

/// Where the tiers' counters come from; set once, read at each scrape.
#[derive(Debug, Clone, Default)]
pub struct TierSource(Arc<OnceLock<Tiers>>);

impl TierSource {
    /// The counters of the opened stores (later calls are ignored: the
    /// stores are opened once).
    pub fn set(&self, tiers: Tiers) {
        let _ = self.0.set(tiers);
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TierLabels {
    label: String,
    /// `l1`, `backend` or `miss`.
    tier: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LabelOnly {
    label: String,
}

#[derive(Debug)]
struct TierCollector(TierSource);

/// Registers the tier families, fed from the returned source.
pub(super) fn register(registry: &mut Registry) -> TierSource {
    let source = TierSource::default();
    registry.register_collector(Box::new(TierCollector(source.clone())));
    source
}

impl Collector for TierCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some(tiers) = self.0.0.get() else {
            return Ok(());
        };
        let lookups = Family::<TierLabels, Counter>::default();
        let waits = Family::<LabelOnly, Counter>::default();
        for (label, counts) in &tiers.lookups {
            for (tier, count) in [
                ("l1", &counts.l1_hits),
                ("backend", &counts.backend_hits),
                ("miss", &counts.misses),
            ] {
                let labels = TierLabels {
                    label: label.clone(),
                    tier,
                };
                lookups
                    .get_or_create(&labels)
                    .inc_by(count.load(Ordering::Relaxed));
            }
            waits
                .get_or_create(&LabelOnly {
                    label: label.clone(),
                })
                .inc_by(counts.flight_waits.load(Ordering::Relaxed));
        }
        lookups.encode(encoder.encode_descriptor(
            "kv_tier_lookups",
            "Key-value gets of tiered labels, by label and the tier that answered (l1, backend) or miss",
            None,
            lookups.metric_type(),
        )?)?;
        waits.encode(encoder.encode_descriptor(
            "kv_single_flight_waits",
            "Key-value gets that missed while another request computed the same key, and waited for its set",
            None,
            waits.metric_type(),
        )?)?;
        encode_buffers(&tiers.buffers, &mut encoder)?;
        encode_shared(&tiers.shared, &mut encoder)
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    label: String,
    /// `hit` or `miss`.
    outcome: &'static str,
}

/// `fbposts_kv_l2_lookups{label,outcome}` and `fbposts_kv_l2_errors{label}`.
fn encode_shared(
    shared: &[(String, Arc<L2Counts>)],
    encoder: &mut DescriptorEncoder,
) -> Result<(), std::fmt::Error> {
    let lookups = Family::<OutcomeLabels, Counter>::default();
    let errors = Family::<LabelOnly, Counter>::default();
    for (label, counts) in shared {
        for (outcome, count) in [("hit", &counts.hits), ("miss", &counts.misses)] {
            lookups
                .get_or_create(&OutcomeLabels {
                    label: label.clone(),
                    outcome,
                })
                .inc_by(count.load(Ordering::Relaxed));
        }
        errors
            .get_or_create(&LabelOnly {
                label: label.clone(),
            })
            .inc_by(counts.errors.load(Ordering::Relaxed));
    }
    lookups.encode(encoder.encode_descriptor(
        "kv_l2_lookups",
        "Lookups of labels behind a shared Redis tier, by label and whether Redis had the key",
        None,
        lookups.metric_type(),
    )?)?;
    errors.encode(encoder.encode_descriptor(
        "kv_l2_errors",
        "Redis commands of a shared tier that failed; the call went on without Redis",
        None,
        errors.metric_type(),
    )?)
}

/// `fbposts_kv_write_behind_{batches,entries,failures}` by label.
fn encode_buffers(
    buffers: &[(String, Arc<WriteBehindCounts>)],
    encoder: &mut DescriptorEncoder,
) -> Result<(), std::fmt::Error> {
    let families = [
        (
            "kv_write_behind_batches",
            "Write-behind batches committed to the backend, by label",
        ),
        (
            "kv_write_behind_entries",
            "Entries written by those batches, by label",
        ),
        (
            "kv_write_behind_failures",
            "Write-behind batches the backend refused (kept and retried), by label",
        ),
    ];
    for (index, (name, help)) in families.into_iter().enumerate() {
        let family = Family::<LabelOnly, Counter>::default();
        for (label, counts) in buffers {
            let count = [&counts.batches, &counts.entries, &counts.failures][index];
            family
                .get_or_create(&LabelOnly {
                    label: label.clone(),
                })
                .inc_by(count.load(Ordering::Relaxed));
        }
        family.encode(encoder.encode_descriptor(name, help, None, family.metric_type())?)?;
    }
    Ok(())
}
