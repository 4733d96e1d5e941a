//! The events the pipeline steps publish (`post.analyzed`, `post.published`,
//! `post.enhanced`, `post.generated`, `post.predicted`)
//! on Redis channels named in variables, through `spin:redis` — and the
//! outbox that keeps them from being lost.
//!
//! Variables (each publishing component maps them from the app's):
//! - `events_redis_address`: the Redis server; empty means events are off
//!   (nothing is published or kept; the host says so at start-up);
//! - `events_channel_<analyzed|published|enhanced|generated|predicted>`:
//!   the channels.
//!
//! # The outbox
//!
//! Redis pub/sub keeps nothing: a message published while no subscriber
//! listens is gone. So [`Publisher::publish`] `PUBLISH`es the event and
//! counts it delivered only when Redis says at least one subscriber
//! received it; otherwise (Redis down, no consumer) it writes the event
//! under `events/outbox/<id>` in the `default` store and sets the flag
//! `events/outbox-pending`, all before the step answers. The next delivered
//! publish — by any step — sees the flag and republishes what is pending
//! ([`Publisher::replay_pending`]), removing each event once delivered; so
//! does the scheduled learning loop. Writing the outbox only on failure
//! loses nothing a client was told about: the step answers after the event
//! was delivered or kept, and if the host dies before either, the request
//! fails too. Delivery is at least once; consumers count each event id once.
//!
//! # Requests computed ahead
//!
//! A request the fbposts host replays to fill the cache before anyone asks
//! (its pre-caching) carries [`COMPUTED_AHEAD_HEADER`]; nobody was answered,
//! so the steps publish no event for it ([`crate::post::PostRequest::computed_ahead`]). The host
//! removes the header from every request that comes from a client.

use crate::state::StateStore;
use serde::{Deserialize, Serialize};
use spin_sdk::redis::{Connection, RedisParameter, RedisResult};

/// The variable naming the Redis server.
pub const ADDRESS_VARIABLE: &str = "events_redis_address";
/// Where undelivered events wait, by id.
pub const OUTBOX_PREFIX: &str = "events/outbox/";
/// Set while the outbox may hold events.
pub const PENDING_FLAG: &str = "events/outbox-pending";

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// `/api/analyze` scored a post.
    Analyzed,
    /// `/api/feedback` reported a published post's outcome.
    Published,
    /// `/api/enhance` rewrote a post.
    Enhanced,
    /// `/api/generate` wrote candidates from a brief.
    Generated,
    /// `/api/predict` forecast a post's engagement.
    Predicted,
}

impl EventKind {
    /// The `type` of the event (`post.analyzed`, …).
    pub fn name(self) -> &'static str {
        match self {
            EventKind::Analyzed => "post.analyzed",
            EventKind::Published => "post.published",
            EventKind::Enhanced => "post.enhanced",
            EventKind::Generated => "post.generated",
            EventKind::Predicted => "post.predicted",
        }
    }

    /// The variable naming its channel.
    pub fn channel_variable(self) -> &'static str {
        match self {
            EventKind::Analyzed => "events_channel_analyzed",
            EventKind::Published => "events_channel_published",
            EventKind::Enhanced => "events_channel_enhanced",
            EventKind::Generated => "events_channel_generated",
            EventKind::Predicted => "events_channel_predicted",
        }
    }
}

/// One event as published (JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Unique per event; a replay carries the same id.
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// When it happened, in milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// The step's facts (see `crate::analytics` for what is read).
    pub data: serde_json::Value,
}

impl Event {
    /// The number `field` of the event's data; `Err` names what is missing.
    pub fn number(&self, field: &str) -> Result<f64, String> {
        self.data
            .get(field)
            .and_then(serde_json::Value::as_f64)
            .ok_or_else(|| format!("{} {}: no number '{field}'", self.kind, self.id))
    }

    /// The non-empty string `field` of the event's data.
    pub fn text(&self, field: &str) -> Option<&str> {
        self.data
            .get(field)
            .and_then(serde_json::Value::as_str)
            .filter(|s| !s.is_empty())
    }
}

/// What the outbox holds for one event.
#[derive(Debug, Serialize, Deserialize)]
struct OutboxEntry {
    channel: String,
    event: Event,
}

/// Whether an event reached a consumer now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// At least one subscriber received it.
    Delivered,
    /// Kept in the outbox, for this reason.
    Pending(String),
}

/// A consumer's message as an event; a message that is not one is logged
/// under `consumer`'s name and is `None` (redelivering it would not help).
/// The header the fbposts host sets on the requests its pre-caching replays.
pub const COMPUTED_AHEAD_HEADER: &str = "fbposts-precache";

pub fn event_from_message(consumer: &str, message: &[u8]) -> Option<Event> {
    serde_json::from_slice(message)
        .map_err(|err| eprintln!("{consumer}: a message that is not an event was dropped: {err}"))
        .ok()
}

/// The current time in milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

/// A fresh event id: a prefix and 32 random hex digits.
pub fn new_event_id(prefix: &str) -> String {
    use spin_sdk::wasip3::random::random::get_random_u64;
    format!(
        "{prefix}-{:016x}{:016x}",
        get_random_u64(),
        get_random_u64()
    )
}

/// Publishes events, with the outbox in the `default` store.
pub struct Publisher {
    address: String,
    state: StateStore,
}

impl Publisher {
    /// The publisher, or `None` when events are off (no address).
    pub async fn from_variables() -> Option<Self> {
        let address = crate::instance::variable(ADDRESS_VARIABLE)
            .await
            .map(|a| a.trim().to_string())
            .filter(|a| !a.is_empty())?;
        match StateStore::open().await {
            Ok(state) => Some(Self { address, state }),
            Err(err) => {
                eprintln!(
                    "events: the outbox store is unavailable ({}); events are not published",
                    err.message
                );
                None
            }
        }
    }

    /// Publishes `kind` with `data` under `id` (kept in the outbox if no
    /// subscriber got it); on delivery, also what an earlier publish left
    /// pending.
    pub async fn publish(&self, kind: EventKind, id: String, data: serde_json::Value) -> Delivery {
        let channel = match crate::instance::variable(kind.channel_variable()).await {
            Some(channel) if !channel.trim().is_empty() => channel.trim().to_string(),
            _ => {
                eprintln!(
                    "events: {} is not set; {} not published",
                    kind.channel_variable(),
                    kind.name()
                );
                return Delivery::Pending("no channel".into());
            }
        };
        let entry = OutboxEntry {
            channel,
            event: Event {
                id,
                kind: kind.name().to_string(),
                at_ms: now_ms(),
                data,
            },
        };
        let delivery = self.deliver(&entry, false).await;
        if delivery == Delivery::Delivered
            && self.pending_flag().await
            && let Err(reason) = self.replay_pending().await
        {
            eprintln!("events: replaying the outbox failed: {reason}");
        }
        delivery
    }

    /// One event: published; kept in the outbox when no subscriber got it
    /// (`in_outbox`: it is there already, from an earlier attempt).
    async fn deliver(&self, entry: &OutboxEntry, in_outbox: bool) -> Delivery {
        let key = format!("{OUTBOX_PREFIX}{}", entry.event.id);
        let payload = serde_json::to_vec(&entry.event).unwrap_or_default();
        let reason = match self.send(&entry.channel, payload).await {
            Ok(receivers) if receivers > 0 => {
                if in_outbox && self.state.delete(&key).await.is_err() {
                    eprintln!(
                        "events: {key} delivered but not removed; a replay will send it again"
                    );
                }
                return Delivery::Delivered;
            }
            Ok(_) => format!("no subscriber on {}", entry.channel),
            Err(err) => err,
        };
        let kept = in_outbox
            || match serde_json::to_vec(entry) {
                Ok(encoded) => self.state.set_bytes(&key, encoded).await.is_ok(),
                Err(_) => false,
            };
        if kept
            && self
                .state
                .set_bytes(PENDING_FLAG, b"1".to_vec())
                .await
                .is_ok()
        {
            eprintln!(
                "events: {} {} kept in the outbox: {reason}",
                entry.event.kind, entry.event.id
            );
        } else {
            eprintln!(
                "events: {} {} LOST (outbox unavailable): {reason}",
                entry.event.kind, entry.event.id
            );
        }
        Delivery::Pending(reason)
    }

    async fn pending_flag(&self) -> bool {
        matches!(self.state.get_bytes(PENDING_FLAG).await, Ok(Some(_)))
    }

    /// Republishes every event in the outbox (oldest first); returns how
    /// many were delivered. The flag is cleared first, so an event that
    /// fails again sets it again.
    pub async fn replay_pending(&self) -> Result<usize, String> {
        self.state
            .delete(PENDING_FLAG)
            .await
            .map_err(|e| e.message)?;
        let keys = self
            .state
            .keys_with_prefix(OUTBOX_PREFIX)
            .await
            .map_err(|e| e.message)?;
        let mut entries = Vec::new();
        for key in keys {
            if let Ok(Some(bytes)) = self.state.get_bytes(&key).await
                && let Ok(entry) = serde_json::from_slice::<OutboxEntry>(&bytes)
            {
                entries.push(entry);
            }
        }
        entries.sort_by_key(|entry| entry.event.at_ms);
        let mut delivered = 0;
        for entry in &entries {
            if self.deliver(entry, true).await == Delivery::Delivered {
                delivered += 1;
            }
        }
        if !entries.is_empty() {
            eprintln!(
                "events: replayed {delivered} of {} pending events",
                entries.len()
            );
        }
        Ok(delivered)
    }

    /// `PUBLISH`: how many subscribers received the payload.
    async fn send(&self, channel: &str, payload: Vec<u8>) -> Result<i64, String> {
        let connection = Connection::open(&self.address)
            .await
            .map_err(|e| format!("cannot reach Redis: {e:?}"))?;
        let answer = connection
            .execute(
                "PUBLISH",
                [
                    RedisParameter::Binary(channel.as_bytes().to_vec()),
                    RedisParameter::Binary(payload),
                ],
            )
            .await
            .map_err(|e| format!("PUBLISH failed: {e:?}"))?;
        match answer.first() {
            Some(RedisResult::Int64(receivers)) => Ok(*receivers),
            other => Err(format!("unexpected PUBLISH answer {other:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_its_type_and_channel_variable() {
        assert_eq!(EventKind::Analyzed.name(), "post.analyzed");
        assert_eq!(EventKind::Published.name(), "post.published");
        assert_eq!(
            EventKind::Published.channel_variable(),
            "events_channel_published"
        );
    }

    #[test]
    fn an_event_is_json_with_a_type_field() {
        let event = Event {
            id: "a-1".into(),
            kind: "post.analyzed".into(),
            at_ms: 5,
            data: serde_json::json!({"score": 0.5}),
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["type"], "post.analyzed");
        assert_eq!(serde_json::from_value::<Event>(json).unwrap(), event);
    }
}
