//! The Redis trigger: `[[trigger.redis]]` entries (`channel`, `component`,
//! optional `address`) and the app's `[application.trigger.redis] address`,
//! in Spin's format. One subscriber per server address subscribes to its
//! channels and hands each message to a fresh instance of every component
//! of that channel (`spin:redis/inbound-redis@3.0.0` `handle-message`), with
//! the same store as an HTTP request — every capability, the memory cap and
//! the request deadline. Messages are delivered one at a time, in order, as
//! Spin does; a failing handler is logged and the next message goes on.
//!
//! When the connection drops (or cannot be made), the subscriber reconnects
//! with exponential back-off ([`Backoff`]) until the host stops. Redis
//! pub/sub keeps nothing for a subscriber that is away: what the app must
//! not lose it keeps in its own outbox (see README, "Events").

use super::RedisTriggerPre;
use super::bindings::spin::redis::redis::Error as HandlerError;
use crate::host_state::{HostState, StoreTemplate};
use crate::metrics::EventsMeter;
use anyhow::{Context, Result, anyhow};
use futures::StreamExt;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use wasmtime::component::{Component, Linker};

/// The first wait before reconnecting.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Exponential back-off between reconnection attempts, reset once subscribed.
#[derive(Debug)]
pub struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            next: FIRST_BACKOFF,
        }
    }
}

impl Backoff {
    /// The wait before the next attempt; doubles up to [`MAX_BACKOFF`].
    pub fn next_wait(&mut self) -> Duration {
        let wait = self.next;
        self.next = (self.next * 2).min(MAX_BACKOFF);
        wait
    }

    pub fn reset(&mut self) {
        self.next = FIRST_BACKOFF;
    }
}

/// One component of a `[[trigger.redis]]` entry, ready to handle messages.
pub struct RedisHandler {
    pub component_id: String,
    pre: RedisTriggerPre<HostState>,
    stores: StoreTemplate,
    timeout: Duration,
}

impl RedisHandler {
    /// Checks that `compiled` exports `inbound-redis` and pre-instantiates it.
    pub fn new(
        component_id: &str,
        linker: &Linker<HostState>,
        compiled: &Component,
        stores: StoreTemplate,
        timeout: Duration,
    ) -> Result<Self> {
        let pre = linker
            .instantiate_pre(compiled)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("component {component_id:?}: unsatisfied imports"))?;
        let pre = RedisTriggerPre::new(pre)
            .map_err(anyhow::Error::from)
            .with_context(|| {
                format!(
                    "component {component_id:?} is a `[[trigger.redis]]` component but does not export `spin:redis/inbound-redis@3.0.0` (spin-sdk's #[redis_subscriber])"
                )
            })?;
        Ok(Self {
            component_id: component_id.to_string(),
            pre,
            stores,
            timeout,
        })
    }

    /// One message: a fresh instance, `handle-message(payload)`, within the
    /// request deadline.
    pub async fn handle(&self, payload: Vec<u8>) -> Result<()> {
        match tokio::time::timeout(self.timeout, self.call(payload)).await {
            Ok(result) => result,
            Err(_) => Err(anyhow!(
                "the handler exceeded its deadline of {:?} and was stopped",
                self.timeout
            )),
        }
    }

    async fn call(&self, payload: Vec<u8>) -> Result<()> {
        let mut store = self.stores.new_store_with_dependencies().await?;
        let guest = self.pre.instantiate_async(&mut store).await?;
        let result = store
            .run_concurrent(async move |accessor| {
                guest
                    .spin_redis_inbound_redis()
                    .call_handle_message(accessor, payload)
                    .await
            })
            .await??;
        result.map_err(|err| anyhow!("the component failed: {}", describe(&err)))
    }
}

fn describe(err: &HandlerError) -> String {
    match err {
        HandlerError::InvalidAddress => "invalid address".into(),
        HandlerError::TooManyConnections => "too many connections".into(),
        HandlerError::TypeError => "type error".into(),
        HandlerError::Other(message) => message.clone(),
    }
}

/// Every channel of one Redis server and the handlers of each.
pub struct Subscriber {
    address: String,
    channels: BTreeMap<String, Vec<Arc<RedisHandler>>>,
    events: EventsMeter,
}

impl Subscriber {
    pub fn new(address: String, events: EventsMeter) -> Self {
        Self {
            address,
            channels: BTreeMap::new(),
            events,
        }
    }

    pub fn add(&mut self, channel: String, handler: Arc<RedisHandler>) {
        self.channels.entry(channel).or_default().push(handler);
    }

    /// Subscribes and delivers until the task is dropped, reconnecting with
    /// back-off whenever the connection is lost.
    pub async fn run(self) {
        let shown = super::redacted(&self.address);
        let mut backoff = Backoff::default();
        loop {
            match self.listen(&shown, &mut backoff).await {
                Ok(()) => {
                    tracing::warn!(target: "fbposts::redis", server = %shown, "Redis trigger: connection closed")
                }
                Err(err) => {
                    tracing::warn!(target: "fbposts::redis", server = %shown, error = %format!("{err:#}"), "Redis trigger: not connected")
                }
            }
            let wait = backoff.next_wait();
            tracing::info!(target: "fbposts::redis", server = %shown, wait_ms = wait.as_millis() as u64, "Redis trigger: reconnecting");
            tokio::time::sleep(wait).await;
        }
    }

    /// One connection: subscribe to every channel, then deliver messages
    /// until the stream ends.
    async fn listen(&self, shown: &str, backoff: &mut Backoff) -> Result<()> {
        let client = redis::Client::open(self.address.as_str())?;
        let mut pubsub = tokio::time::timeout(Duration::from_secs(5), client.get_async_pubsub())
            .await
            .context("connecting timed out")??;
        for (channel, handlers) in &self.channels {
            pubsub.subscribe(channel).await?;
            let components: Vec<&str> = handlers.iter().map(|h| h.component_id.as_str()).collect();
            tracing::info!(target: "fbposts::redis", server = %shown, %channel, ?components, "Redis trigger subscribed");
        }
        backoff.reset();
        let mut messages = pubsub.on_message();
        while let Some(message) = messages.next().await {
            self.deliver(message.get_channel_name(), message.get_payload_bytes())
                .await;
        }
        Ok(())
    }

    /// Hands one message to every handler of its channel, one after another.
    async fn deliver(&self, channel: &str, payload: &[u8]) {
        let Some(handlers) = self.channels.get(channel) else {
            tracing::warn!(target: "fbposts::redis", %channel, "message from a channel nobody subscribed to");
            return;
        };
        for handler in handlers {
            let started = std::time::Instant::now();
            let outcome = handler.handle(payload.to_vec()).await;
            let took = started.elapsed();
            self.events
                .consumed(channel, &handler.component_id, outcome.is_ok(), took);
            let ms = (took.as_secs_f64() * 1e6).round() / 1e3;
            match outcome {
                Ok(()) => {
                    tracing::debug!(target: "fbposts::redis", component = %handler.component_id, %channel, duration_ms = ms, "message handled")
                }
                Err(err) => {
                    tracing::warn!(target: "fbposts::redis", component = %handler.component_id, %channel, duration_ms = ms, error = %format!("{err:#}"), "message handler failed")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_up_to_its_cap_and_resets() {
        let mut backoff = Backoff::default();
        let waits: Vec<u64> = (0..7)
            .map(|_| backoff.next_wait().as_millis() as u64)
            .collect();
        assert_eq!(waits, [100, 200, 400, 800, 1600, 2000, 2000]);
        backoff.reset();
        assert_eq!(backoff.next_wait(), FIRST_BACKOFF);
    }
}
