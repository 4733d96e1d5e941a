//! Events metrics: messages the guests publish through `spin:redis` (by
//! channel and outcome — delivered to at least one subscriber, no
//! subscriber, failed) and messages the Redis trigger hands to its
//! components (by channel, component and outcome, with the handler's time).
//! The outbound-Redis capability records publishes (`publish`, and
//! `execute("PUBLISH", …)`, which is how a guest learns the receiver count);
//! the trigger's subscriber records deliveries.
//!
//! Replays from the app's outbox are publishes like any other here: which
//! message is a replay is the app's knowledge, not the host's.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};
use std::time::Duration;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PublishLabels {
    channel: String,
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ConsumeLabels {
    channel: String,
    component: String,
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ComponentLabels {
    component: String,
}

/// The events families.
#[derive(Clone)]
pub(super) struct EventsFamilies {
    published: Family<PublishLabels, Counter>,
    consumed: Family<ConsumeLabels, Counter>,
    handle_duration: Family<ComponentLabels, Histogram, fn() -> Histogram>,
}

fn handle_histogram() -> Histogram {
    // 50 µs … ~1.6 s
    Histogram::new(exponential_buckets(5e-5, 2.0, 16))
}

impl EventsFamilies {
    pub(super) fn register(registry: &mut Registry) -> Self {
        let families = Self {
            published: Family::default(),
            consumed: Family::default(),
            handle_duration: Family::new_with_constructor(handle_histogram),
        };
        registry.register(
            "events_published",
            "Messages guests published through spin:redis, by channel and outcome (delivered: at least one subscriber; no_subscriber; failed)",
            families.published.clone(),
        );
        registry.register(
            "events_consumed",
            "Messages the Redis trigger handed to a component, by channel, component and outcome (ok, failed)",
            families.consumed.clone(),
        );
        registry.register_with_unit(
            "events_handle_duration",
            "Time a [[trigger.redis]] component took per message (instantiation included)",
            Unit::Seconds,
            families.handle_duration.clone(),
        );
        families
    }
}

/// How a publish ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishOutcome {
    /// At least one subscriber received it.
    Delivered,
    /// Redis took it, but nobody was subscribed.
    NoSubscriber,
    /// No answer, or an error.
    Failed,
}

impl PublishOutcome {
    /// From `PUBLISH`'s answer: the number of receivers, or an error.
    pub fn of<E>(receivers: &Result<i64, E>) -> Self {
        match receivers {
            Ok(n) if *n > 0 => Self::Delivered,
            Ok(_) => Self::NoSubscriber,
            Err(_) => Self::Failed,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::NoSubscriber => "no_subscriber",
            Self::Failed => "failed",
        }
    }
}

/// What outbound Redis and the Redis trigger record events in; a no-op when
/// metrics are off.
#[derive(Clone, Default)]
pub struct EventsMeter {
    families: Option<EventsFamilies>,
}

impl EventsMeter {
    pub(super) fn new(families: Option<EventsFamilies>) -> Self {
        Self { families }
    }

    pub fn published(&self, channel: &str, outcome: PublishOutcome) {
        if let Some(families) = &self.families {
            let labels = PublishLabels {
                channel: channel.to_string(),
                outcome: outcome.label(),
            };
            families.published.get_or_create(&labels).inc();
        }
    }

    pub fn consumed(&self, channel: &str, component: &str, ok: bool, took: Duration) {
        if let Some(families) = &self.families {
            let labels = ConsumeLabels {
                channel: channel.to_string(),
                component: component.to_string(),
                outcome: if ok { "ok" } else { "failed" },
            };
            families.consumed.get_or_create(&labels).inc();
            let component = ComponentLabels {
                component: component.to_string(),
            };
            families
                .handle_duration
                .get_or_create(&component)
                .observe(took.as_secs_f64());
        }
    }
}
