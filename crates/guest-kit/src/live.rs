//! The live feed behind `GET /api/analytics/stream`: the last [`RING`]
//! events the `analytics` consumer counted, numbered in order, in the
//! `default` store — and a reader's [`Cursor`] over them.
//!
//! Why a ring in the store: a Spin HTTP component cannot subscribe to Redis
//! (`spin:redis` has no `SUBSCRIBE`), and the consumer and the stream run in
//! different instances. So the consumer, after counting an event for the
//! first time, takes the next number from the atomic counter `live/head` and
//! writes the event under `live/event/<number mod RING>`; each stream polls
//! the head and reads what it has not sent. The ring is the bounded buffer
//! of the spec: a reader that falls more than [`RING`] events behind (a slow
//! client, or a `Last-Event-ID` from long ago) loses the oldest ones, and its
//! cursor counts them so the stream can say how many it dropped.

use crate::events::Event;
use crate::state::StateStore;
use fbposts_core::ApiError;
use serde::{Deserialize, Serialize};
use std::ops::RangeInclusive;

/// Events kept for readers.
pub const RING: u64 = 256;
/// The number of the last event written (an atomic counter; 0: none yet).
pub const HEAD_KEY: &str = "live/head";
/// Polls a reader waits for a numbered slot that is still unwritten (its
/// writer took the number, then failed) before it skips it as dropped.
pub const STALLED_POLLS: u32 = 10;

/// One event in the ring.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveEntry {
    pub seq: u64,
    pub event: Event,
}

/// The store key of the slot that holds event `seq`.
pub fn slot_key(seq: u64) -> String {
    format!("live/event/{}", seq % RING)
}

/// Adds a counted event to the feed; returns its number.
pub async fn append(state: &StateStore, event: &Event) -> Result<u64, ApiError> {
    let seq = state.increment(HEAD_KEY, 1).await?.max(0) as u64;
    let entry = LiveEntry {
        seq,
        event: event.clone(),
    };
    state.set(&slot_key(seq), &entry).await?;
    Ok(seq)
}

/// The number of the newest event (0: none yet).
pub async fn head(state: &StateStore) -> Result<u64, ApiError> {
    Ok(state.increment(HEAD_KEY, 0).await?.max(0) as u64)
}

/// What a reader does with the slot it read for one number.
#[derive(Debug, Clone, PartialEq)]
pub enum Slot {
    /// Send it.
    Deliver(LiveEntry),
    /// The ring moved past it; counted as dropped.
    Overwritten,
    /// Not written yet: stop this round and read it again at the next poll.
    NotYetWritten,
}

/// Where one reader is in the feed.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    /// The number of the next event to send.
    pub next: u64,
    /// Events this reader missed because the ring overwrote them.
    pub dropped: u64,
    stalled_polls: u32,
}

impl Cursor {
    /// A reader that last saw `last_event_id` (a reconnecting browser's
    /// `Last-Event-ID`), or a new one that starts after `head`. An id ahead
    /// of the feed (the store was reset) starts after `head` too.
    pub fn start(last_event_id: Option<u64>, head: u64) -> Cursor {
        let next = match last_event_id {
            Some(id) if id <= head => id + 1,
            _ => head + 1,
        };
        Cursor {
            next,
            dropped: 0,
            stalled_polls: 0,
        }
    }

    /// The numbers to read now that the newest is `head`; the ones the ring
    /// no longer holds are counted as dropped and skipped.
    pub fn due(&mut self, head: u64) -> RangeInclusive<u64> {
        let oldest_kept = head.saturating_sub(RING - 1).max(1);
        if self.next < oldest_kept {
            self.dropped += oldest_kept - self.next;
            self.next = oldest_kept;
        }
        self.next..=head
    }

    /// Takes what the slot of number `seq` (the cursor's next) holds.
    pub fn accept(&mut self, seq: u64, stored: Option<LiveEntry>) -> Slot {
        match stored {
            Some(entry) if entry.seq == seq => {
                self.advance();
                Slot::Deliver(entry)
            }
            Some(entry) if entry.seq > seq => {
                self.dropped += 1;
                self.advance();
                Slot::Overwritten
            }
            _ if self.stalled_polls + 1 >= STALLED_POLLS => {
                self.dropped += 1;
                self.advance();
                Slot::Overwritten
            }
            _ => {
                self.stalled_polls += 1;
                Slot::NotYetWritten
            }
        }
    }

    fn advance(&mut self) {
        self.next += 1;
        self.stalled_polls = 0;
    }
}

/// What a stream's client asked: how long to stream (`seconds`, more than 0
/// and at most the server's bound, fractions allowed; default the bound) and the event to resume after (the
/// `Last-Event-ID` header wins over the `last_event_id` query parameter).
#[derive(Debug, Clone, PartialEq)]
pub struct StreamAsk {
    pub seconds: f64,
    pub last_event_id: Option<u64>,
}

impl StreamAsk {
    /// Reads the query and the header; anything else is a 400
    /// (`invalid_query`, `invalid_last_event_id`).
    pub fn parse(
        query: &str,
        last_event_id_header: Option<&str>,
        max_seconds: f64,
    ) -> Result<StreamAsk, ApiError> {
        let mut ask = StreamAsk {
            seconds: max_seconds,
            last_event_id: None,
        };
        let mut from_query = None;
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            match key.as_ref() {
                "seconds" => ask.seconds = parse_seconds(&value, max_seconds)?,
                "last_event_id" => from_query = Some(value.into_owned()),
                other => {
                    return Err(invalid_query(format!(
                        "unknown query parameter '{other}'; use 'seconds' and/or 'last_event_id'"
                    )));
                }
            }
        }
        if let Some(id) = last_event_id_header.map(str::to_string).or(from_query) {
            ask.last_event_id = Some(parse_event_id(id.trim())?);
        }
        Ok(ask)
    }
}

fn invalid_query(message: String) -> ApiError {
    ApiError::new(400, "invalid_query", message)
}

fn parse_seconds(value: &str, max_seconds: f64) -> Result<f64, ApiError> {
    value
        .parse::<f64>()
        .ok()
        .filter(|s| *s > 0.0 && *s <= max_seconds)
        .ok_or_else(|| {
            invalid_query(format!(
                "'seconds' must be a number above 0 and at most {max_seconds}, not '{value}'"
            ))
        })
}

fn parse_event_id(id: &str) -> Result<u64, ApiError> {
    id.parse::<u64>().map_err(|_| {
        ApiError::new(
            400,
            "invalid_last_event_id",
            format!("the last event id must be a number this stream sent, not '{id}'"),
        )
    })
}

/// One Server-Sent Events message. `data` must be one line (compact JSON is).
pub fn sse_message(id: Option<u64>, event: &str, data: &str) -> String {
    let id = id.map(|id| format!("id: {id}\n")).unwrap_or_default();
    format!("{id}event: {event}\ndata: {data}\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: u64) -> LiveEntry {
        LiveEntry {
            seq,
            event: Event {
                id: format!("e{seq}"),
                kind: "post.analyzed".into(),
                at_ms: 0,
                data: serde_json::json!({"score": 0.5}),
            },
        }
    }

    #[test]
    fn a_new_reader_starts_after_the_newest_event() {
        let mut cursor = Cursor::start(None, 41);
        assert_eq!(cursor.due(41).count(), 0);
        assert_eq!(cursor.due(43), 42..=43);
    }

    #[test]
    fn a_reconnecting_reader_resumes_after_its_last_event_id() {
        let mut cursor = Cursor::start(Some(10), 15);
        assert_eq!(cursor.due(15), 11..=15);
        assert_eq!(cursor.accept(11, Some(entry(11))), Slot::Deliver(entry(11)));
        assert_eq!(cursor.next, 12);
    }

    #[test]
    fn an_id_ahead_of_the_feed_starts_after_the_newest_event() {
        assert_eq!(Cursor::start(Some(99), 5).next, 6);
    }

    #[test]
    fn a_reader_further_behind_than_the_ring_counts_what_it_missed() {
        let mut cursor = Cursor::start(Some(0), 1000);
        let due = cursor.due(1000);
        assert_eq!(*due.start(), 1000 - RING + 1);
        assert_eq!(cursor.dropped, 1000 - RING);
        assert_eq!(due.count() as u64, RING);
    }

    #[test]
    fn a_slot_overwritten_while_reading_is_counted_and_skipped() {
        let mut cursor = Cursor::start(Some(4), 10);
        assert_eq!(cursor.accept(5, Some(entry(5 + RING))), Slot::Overwritten);
        assert_eq!((cursor.next, cursor.dropped), (6, 1));
    }

    #[test]
    fn an_unwritten_slot_is_waited_for_then_given_up() {
        let mut cursor = Cursor::start(Some(4), 5);
        for _ in 0..STALLED_POLLS - 1 {
            assert_eq!(cursor.accept(5, None), Slot::NotYetWritten);
            assert_eq!(cursor.next, 5);
        }
        assert_eq!(cursor.accept(5, Some(entry(5 - 1))), Slot::Overwritten);
        assert_eq!((cursor.next, cursor.dropped), (6, 1));
        assert_eq!(cursor.accept(6, None), Slot::NotYetWritten);
    }

    #[test]
    fn the_header_wins_over_the_query() {
        let ask = StreamAsk::parse("last_event_id=3&seconds=2.5", Some("9"), 25.0).unwrap();
        let expected = StreamAsk {
            seconds: 2.5,
            last_event_id: Some(9),
        };
        assert_eq!(ask, expected);
        let ask = StreamAsk::parse("last_event_id=3", None, 25.0).unwrap();
        assert_eq!((ask.seconds, ask.last_event_id), (25.0, Some(3)));
    }

    #[test]
    fn seconds_outside_one_to_the_bound_are_refused() {
        for bad in [
            "seconds=25.5",
            "seconds=0",
            "seconds=-1",
            "seconds=NaN",
            "seconds=soon",
        ] {
            let err = StreamAsk::parse(bad, None, 25.0).unwrap_err();
            assert_eq!((err.status, err.code), (400, "invalid_query"), "{bad}");
        }
        let err = StreamAsk::parse("page=x", None, 25.0).unwrap_err();
        assert_eq!((err.status, err.code), (400, "invalid_query"));
    }

    #[test]
    fn a_last_event_id_that_is_not_a_number_is_refused() {
        let err = StreamAsk::parse("", Some("abc"), 25.0).unwrap_err();
        assert_eq!((err.status, err.code), (400, "invalid_last_event_id"));
        let err = StreamAsk::parse("last_event_id=-1", None, 25.0).unwrap_err();
        assert_eq!(err.code, "invalid_last_event_id");
    }

    #[test]
    fn messages_follow_the_event_stream_format() {
        assert_eq!(
            sse_message(Some(7), "post.analyzed", "{\"a\":1}"),
            "id: 7\nevent: post.analyzed\ndata: {\"a\":1}\n\n"
        );
        assert_eq!(sse_message(None, "end", "{}"), "event: end\ndata: {}\n\n");
    }
}
