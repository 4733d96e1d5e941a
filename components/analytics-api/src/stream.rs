//! `GET /api/analytics/stream?seconds=&last_event_id=`: the events the
//! `analytics` consumer counts, live, as Server-Sent Events
//! (`text/event-stream`), read from the feed in the `default` store
//! ([`fbposts_guest_kit::live`]).
//!
//! What a client gets:
//! - `retry: 1000` first, so a browser's `EventSource` reconnects after a
//!   second, sending the `Last-Event-ID` it saw; the stream resumes after it
//!   (`last_event_id` in the query does the same for clients that cannot set
//!   the header);
//! - each event as `id: <n>`, `event: post.analyzed` (its type), `data:
//!   <the event as JSON>`, within one poll ([`POLL_MS`]) of being counted;
//! - `event: dropped` with the running count when the reader fell more than
//!   the feed's ring behind (slow reader or an old `Last-Event-ID`): the
//!   oldest events are dropped, never the connection;
//! - `event: summary` every [`SUMMARY_EVERY_MS`]: the last hour's totals;
//! - `event: end` when the stream's time is up — `seconds`, at most the
//!   `analytics_stream_seconds` variable (fractions allowed), which stays under the host's
//!   request deadline so the stream ends cleanly, not cut — or when the
//!   store fails; the browser reconnects and resumes.
//!
//! The response body is a bounded channel ([`SEND_BUFFER`] messages) fed by
//! a task that keeps running after the handler returns the head (WASI P3);
//! a client that goes away closes the channel and the task stops.

use crate::summary;
use bytes::Bytes;
use fbposts_core::ApiError;
use fbposts_guest_kit::analytics::Filter;
use fbposts_guest_kit::error_response;
use fbposts_guest_kit::events::now_ms;
use fbposts_guest_kit::live::{self, Cursor, LiveEntry, Slot, StreamAsk, sse_message};
use fbposts_guest_kit::state::StateStore;
use futures::channel::mpsc;
use futures::{SinkExt, StreamExt};
use http_body::Frame;
use spin_sdk::http::{BoxBody, Request, Response, box_body};
use std::convert::Infallible;

/// How often the feed's head is read.
const POLL_MS: u64 = 100;
/// How often a summary is sent.
const SUMMARY_EVERY_MS: u64 = 5_000;
/// Messages waiting for a slow client before the task waits too.
const SEND_BUFFER: usize = 16;
/// The variable bounding a stream's life, and its value when unset.
const SECONDS_VARIABLE: &str = "analytics_stream_seconds";
const DEFAULT_SECONDS: f64 = 25.0;

/// Validates the request and starts the stream; a bad request or an
/// unavailable store is a JSON error before any event is sent.
pub async fn open(req: &Request) -> Response<BoxBody> {
    let started = match start(req).await {
        Ok(started) => started,
        Err(err) => return error_response(&err).map(box_body),
    };
    let (tx, rx) = mpsc::channel::<String>(SEND_BUFFER);
    let body = http_body_util::StreamBody::new(
        rx.map(|text| Ok::<_, Infallible>(Frame::data(Bytes::from(text)))),
    );
    spin_sdk::wasip3::spawn(run(started, tx));
    Response::builder()
        .status(200)
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-store")
        .header("x-accel-buffering", "no")
        .body(box_body(body))
        .expect("static headers are valid")
}

/// A stream ready to run.
struct Started {
    state: StateStore,
    cursor: Cursor,
    until_ms: u64,
}

async fn start(req: &Request) -> Result<Started, ApiError> {
    let max_seconds = max_seconds().await;
    let header = req
        .headers()
        .get("last-event-id")
        .map(|v| v.to_str().unwrap_or("\u{fffd}").to_string());
    let ask = StreamAsk::parse(
        req.uri().query().unwrap_or(""),
        header.as_deref(),
        max_seconds,
    )?;
    let state = StateStore::open().await?;
    let head = live::head(&state).await?;
    Ok(Started {
        state,
        cursor: Cursor::start(ask.last_event_id, head),
        until_ms: now_ms() + (ask.seconds * 1000.0) as u64,
    })
}

async fn max_seconds() -> f64 {
    spin_sdk::variables::get(SECONDS_VARIABLE)
        .await
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .unwrap_or(DEFAULT_SECONDS)
}

/// Sends until time is up, the client leaves or the store fails.
async fn run(mut stream: Started, mut tx: mpsc::Sender<String>) {
    let mut next_summary_ms = now_ms();
    let mut dropped_sent = 0;
    if tx.send("retry: 1000\n\n".to_string()).await.is_err() {
        return;
    }
    let reason = loop {
        if now_ms() >= stream.until_ms {
            break "time_up";
        }
        let entries = match due_entries(&stream.state, &mut stream.cursor).await {
            Ok(entries) => entries,
            Err(_) => break "store_unavailable",
        };
        let mut messages = Vec::new();
        if stream.cursor.dropped > dropped_sent {
            dropped_sent = stream.cursor.dropped;
            messages.push(sse_message(
                None,
                "dropped",
                &format!("{{\"dropped\":{dropped_sent}}}"),
            ));
        }
        messages.extend(entries.iter().map(event_message));
        if now_ms() >= next_summary_ms {
            next_summary_ms = now_ms() + SUMMARY_EVERY_MS;
            messages.push(summary_message().await);
        }
        for message in messages {
            if tx.send(message).await.is_err() {
                return;
            }
        }
        spin_sdk::wasip3::clocks::monotonic_clock::wait_for(POLL_MS * 1_000_000).await;
    };
    let end = format!(
        "{{\"reason\":\"{reason}\",\"last_event_id\":{},\"dropped\":{}}}",
        stream.cursor.next.saturating_sub(1),
        stream.cursor.dropped
    );
    let _ = tx.send(sse_message(None, "end", &end)).await;
}

/// The events the cursor has not sent, in order, read in one batch.
async fn due_entries(state: &StateStore, cursor: &mut Cursor) -> Result<Vec<LiveEntry>, ApiError> {
    let head = live::head(state).await?;
    let due: Vec<u64> = cursor.due(head).collect();
    let keys: Vec<String> = due.iter().map(|&seq| live::slot_key(seq)).collect();
    let values = state.get_many(&keys).await?;
    let mut entries = Vec::new();
    for (seq, value) in due.into_iter().zip(values) {
        let stored = value.and_then(|bytes| serde_json::from_slice::<LiveEntry>(&bytes).ok());
        match cursor.accept(seq, stored) {
            Slot::Deliver(entry) => entries.push(entry),
            Slot::Overwritten => {}
            Slot::NotYetWritten => break,
        }
    }
    Ok(entries)
}

fn event_message(entry: &LiveEntry) -> String {
    let data = serde_json::to_string(&entry.event).unwrap_or_else(|_| "{}".into());
    sse_message(Some(entry.seq), &entry.event.kind, &data)
}

/// The last hour's totals (or why there are none).
async fn summary_message() -> String {
    let since = now_ms() / 1000 - 3600;
    let filter = Filter {
        page: None,
        since: Some(since),
    };
    let data = match summary(&filter).await {
        Ok(summary) => serde_json::json!({"since": since, "totals": summary.totals}),
        Err(err) => serde_json::json!({"since": since, "error": err.code}),
    };
    sse_message(None, "summary", &data.to_string())
}
