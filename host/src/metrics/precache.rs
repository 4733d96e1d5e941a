//! What predictive pre-caching did (`crate::precache`): requests observed,
//! learned from, dropped unread, predicted, computed ahead, failed, skipped as recent and
//! refrained from while the foreground was busy. The worker counts in plain
//! atomics; this collector reads them at each scrape. The app hands it the
//! counters once it is loaded ([`PrecacheSource::set`]).

use crate::precache::PrecacheCounts;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};

/// Where the pre-caching counters come from; set once, read at each scrape.
#[derive(Debug, Clone, Default)]
pub struct PrecacheSource(Arc<OnceLock<Arc<PrecacheCounts>>>);

impl PrecacheSource {
    /// The app's counters (later calls are ignored).
    pub fn set(&self, counts: Arc<PrecacheCounts>) {
        let _ = self.0.set(counts);
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    outcome: &'static str,
}

#[derive(Debug)]
struct PrecacheCollector(PrecacheSource);

/// Registers the family, fed from the returned source.
pub(super) fn register(registry: &mut Registry) -> PrecacheSource {
    let source = PrecacheSource::default();
    registry.register_collector(Box::new(PrecacheCollector(source.clone())));
    source
}

impl Collector for PrecacheCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some(counts) = self.0.0.get() else {
            return Ok(());
        };
        let family = Family::<Outcome, Counter>::default();
        for (outcome, count) in [
            ("observed", &counts.observed),
            ("learned", &counts.learned),
            ("dropped", &counts.dropped),
            ("predicted", &counts.predicted),
            ("computed", &counts.computed),
            ("failed", &counts.failed),
            ("skipped_recent", &counts.skipped_recent),
            ("refrained_busy", &counts.refrained_busy),
        ] {
            family
                .get_or_create(&Outcome { outcome })
                .inc_by(count.load(Ordering::Relaxed));
        }
        family.encode(encoder.encode_descriptor(
            "precache_requests",
            "Predictive pre-caching, by outcome: answered requests observed, learned from, dropped unread, predictions made, computed ahead, failed, skipped as recent, refrained from while busy",
            None,
            family.metric_type(),
        )?)
    }
}
