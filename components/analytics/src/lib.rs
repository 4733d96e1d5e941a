//! The analytics consumer, run by `[[trigger.redis]]` for each message on
//! the events channels (spin-sdk's `#[redis_subscriber]`): reads the event
//! ([`Event`]), finds its bucket and adds it there
//! ([`fbposts_guest_kit::analytics`]) with a compare-and-swap that records
//! the event id in the bucket, so an event delivered again (the outbox
//! replays at least once) is counted once. A message that is not an event
//! of a known type is logged and dropped (redelivering it would not help);
//! a store that is unavailable fails the message, which the host logs.
//! An event counted for the first time is also added to the live feed that
//! `GET /api/analytics/stream` sends ([`fbposts_guest_kit::live`]).

use fbposts_guest_kit::analytics::{Tally, by_variant, counted};
use fbposts_guest_kit::events::event_from_message;
use fbposts_guest_kit::live;
use fbposts_guest_kit::state::StateStore;

/// spin-sdk's `#[redis_subscriber]` export; its generated ABI glue needs
/// `unsafe` (the workspace denies it everywhere else).
#[allow(unsafe_code)]
mod subscriber {
    #[spin_sdk::redis_subscriber]
    async fn on_message(message: Vec<u8>) -> Result<(), String> {
        super::on_message(message).await
    }
}

/// One message: count the event it carries, once.
async fn on_message(message: Vec<u8>) -> Result<(), String> {
    let Some(event) = event_from_message("analytics", &message) else {
        return Ok(());
    };
    let counted = match counted(&event) {
        Ok(counted) => counted,
        Err(why) => {
            eprintln!("analytics: event dropped: {why}");
            return Ok(());
        }
    };
    let state = StateStore::open().await.map_err(|e| e.message)?;
    let (_, applied) = state
        .apply_once(&counted.key, &event.id, |current| {
            Tally::apply(current, counted.fact)
        })
        .await
        .map_err(|e| e.message)?;
    for variant in by_variant(&event) {
        state
            .apply_once(&variant.key, &event.id, |current| {
                Tally::apply(current, variant.fact)
            })
            .await
            .map_err(|e| e.message)?;
    }
    if !applied {
        eprintln!(
            "analytics: {} {} was counted before; not again",
            event.kind, event.id
        );
        return Ok(());
    }
    // The aggregates hold the event; the live feed is for watching, so a
    // failure to add it there is logged, not retried (a retry would be
    // refused as counted before).
    if let Err(err) = live::append(&state, &event).await {
        eprintln!(
            "analytics: {} {} counted but not added to the live feed: {}",
            event.kind, event.id, err.message
        );
    }
    Ok(())
}
