//! Redis, the way Spin offers it: outbound `spin:redis/redis@3.0.0` (what
//! spin-sdk 7's `spin_sdk::redis` imports) as the [`OutboundRedis`]
//! capability, and the Redis trigger (`[[trigger.redis]]`, [`trigger`]),
//! which delivers each message of a channel to a fresh instance of its
//! component (`spin:redis/inbound-redis@3.0.0`, spin-sdk's
//! `#[redis_subscriber]`).
//!
//! Outbound connections obey the component's `allowed_outbound_hosts`, like
//! Spin: `redis://host:port` must be listed (wildcards as for HTTP, see
//! [`crate::outbound_http`]); anything else is `invalid-address` before a
//! connection is made. Opening an address hands out a clone of one shared
//! [`ConnectionManager`] per address (a multiplexed connection that
//! reconnects by itself), so a request that publishes one event costs one
//! round trip, not a TCP handshake. Every command has a deadline, so a Redis
//! that hangs fails the call rather than the request.

pub mod trigger;

use crate::capability::{AppContext, Capability, ComponentContext, HasState};
use crate::host_state::HostState;
use crate::metrics::{EventsMeter, Metrics, PublishOutcome};
use crate::outbound_http::{OutboundPolicy, policy_from_templates};
use crate::variables::Variables;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use wasmtime::component::{Accessor, HasData, Linker, Resource};

mod bindings {
    wasmtime::component::bindgen!({
        path: "wit/spin-redis.wit",
        world: "redis-trigger",
        imports: { default: async | trappable },
        exports: { default: async | store },
        trappable_error_type: {
            "spin:redis/redis@3.0.0.error" => Error,
        },
    });
    pub use spin::redis::redis::*;
}

pub use bindings::RedisTriggerPre;
use bindings::{
    Connection, Error as WitError, Host, HostConnection, HostConnectionWithStore, RedisParameter,
    RedisResult,
};

/// The most connections one instance may hold open at once.
const MAX_OPEN_CONNECTIONS: usize = 64;
/// How long connecting to a Redis server may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one command may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);

/// One shared connection per address, for the whole app.
#[derive(Clone, Default)]
struct Pool {
    connections: Arc<tokio::sync::Mutex<HashMap<String, ConnectionManager>>>,
}

impl Pool {
    /// The connection to `address`, connecting on first use.
    async fn get(&self, address: &str) -> Result<ConnectionManager, WitError> {
        let mut connections = self.connections.lock().await;
        if let Some(connection) = connections.get(address) {
            return Ok(connection.clone());
        }
        let client = redis::Client::open(address).map_err(|_| WitError::InvalidAddress)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(CONNECT_TIMEOUT)
            .set_response_timeout(COMMAND_TIMEOUT)
            .set_number_of_retries(1)
            .set_max_delay(500);
        let connection = tokio::time::timeout(
            CONNECT_TIMEOUT * 2,
            ConnectionManager::new_with_config(client, config),
        )
        .await
        .map_err(|_| other(format!("connecting to {} timed out", redacted(address))))?
        .map_err(|e| other(format!("connecting to {}: {e}", redacted(address))))?;
        connections.insert(address.to_string(), connection.clone());
        Ok(connection)
    }
}

/// An address without its password, for messages.
pub fn redacted(address: &str) -> String {
    match redis::IntoConnectionInfo::into_connection_info(address) {
        Ok(info) => match info.addr {
            redis::ConnectionAddr::Tcp(host, port) => format!("redis://{host}:{port}"),
            redis::ConnectionAddr::TcpTls { host, port, .. } => format!("rediss://{host}:{port}"),
            redis::ConnectionAddr::Unix(path) => format!("redis+unix://{}", path.display()),
        },
        Err(_) => "an invalid address".to_string(),
    }
}

fn other(message: String) -> WitError {
    WitError::Other(message)
}

/// The outbound-Redis capability: the shared connections; also the
/// bindings' marker (their data is `&mut RedisHost`).
pub struct OutboundRedis {
    pool: Pool,
}

impl HasData for OutboundRedis {
    type Data<'a> = &'a mut RedisHost;
}

/// One component's policy, with the app's connections.
pub struct RedisGrant {
    policy: OutboundPolicy,
    pool: Pool,
    events: EventsMeter,
}

/// Per-instance outbound-Redis state: the policy and the open connections.
pub struct RedisHost {
    policy: OutboundPolicy,
    pool: Pool,
    open: Vec<Option<ConnectionManager>>,
    events: EventsMeter,
}

impl RedisHost {
    fn push(&mut self, connection: ConnectionManager) -> Result<u32, WitError> {
        if let Some(slot) = self.open.iter().position(Option::is_none) {
            self.open[slot] = Some(connection);
            return Ok(slot as u32);
        }
        if self.open.len() >= MAX_OPEN_CONNECTIONS {
            return Err(WitError::TooManyConnections);
        }
        self.open.push(Some(connection));
        Ok((self.open.len() - 1) as u32)
    }

    fn connection(&self, rep: u32) -> Result<ConnectionManager, WitError> {
        self.open
            .get(rep as usize)
            .and_then(Option::clone)
            .ok_or_else(|| other("no such connection".into()))
    }
}

impl Capability for OutboundRedis {
    type Prepared = RedisGrant;
    type InstanceState = RedisHost;

    /// Adds `spin:redis/redis@3.0.0`.
    fn link(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
        bindings::spin::redis::redis::add_to_linker::<HostState, OutboundRedis>(
            linker,
            <HostState as HasState<Self>>::state,
        )
    }

    async fn configure_app(_ctx: &AppContext<'_>) -> anyhow::Result<Self> {
        Ok(Self {
            pool: Pool::default(),
        })
    }

    /// The component's `allowed_outbound_hosts`, rendered (the same list
    /// outbound HTTP checks; `redis://` entries are the ones that apply).
    fn prepare(&self, ctx: &ComponentContext<'_>) -> anyhow::Result<RedisGrant> {
        let variables = ctx.capability::<Variables>().app();
        let policy = policy_from_templates(variables, &ctx.component.allowed_outbound_hosts)
            .map_err(anyhow::Error::msg)?;
        Ok(RedisGrant {
            policy,
            pool: self.pool.clone(),
            events: ctx.capability::<Metrics>().events(),
        })
    }

    fn instance(grant: &RedisGrant) -> RedisHost {
        RedisHost {
            policy: grant.policy.clone(),
            pool: grant.pool.clone(),
            open: Vec::new(),
            events: grant.events.clone(),
        }
    }
}

/// Whether `policy` lets a component reach `address`.
fn allowed(policy: &OutboundPolicy, address: &str) -> Result<(), WitError> {
    let info = redis::IntoConnectionInfo::into_connection_info(address)
        .map_err(|_| WitError::InvalidAddress)?;
    let (scheme, host, port) = match &info.addr {
        redis::ConnectionAddr::Tcp(host, port) => ("redis", host.as_str(), *port),
        redis::ConnectionAddr::TcpTls { host, port, .. } => ("rediss", host.as_str(), *port),
        redis::ConnectionAddr::Unix(_) => return Err(WitError::InvalidAddress),
    };
    if policy.allows(scheme, host, port) {
        return Ok(());
    }
    tracing::warn!(%scheme, %host, port, "outbound Redis denied: not in allowed_outbound_hosts");
    Err(WitError::InvalidAddress)
}

/// Runs one command within [`COMMAND_TIMEOUT`].
async fn run<T>(
    future: impl Future<Output = redis::RedisResult<T>>,
    what: &str,
) -> Result<T, WitError> {
    match tokio::time::timeout(COMMAND_TIMEOUT, future).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) if err.kind() == redis::ErrorKind::TypeError => Err(WitError::TypeError),
        Ok(Err(err)) => Err(other(format!("redis {what}: {err}"))),
        Err(_) => Err(other(format!(
            "redis {what}: no answer within {COMMAND_TIMEOUT:?}"
        ))),
    }
}

fn connection_of<T>(
    accessor: &Accessor<T, OutboundRedis>,
    connection: &Resource<Connection>,
) -> Result<ConnectionManager, WitError> {
    let rep = connection.rep();
    accessor.with(|mut access| access.get().connection(rep))
}

/// The channel of an `execute("PUBLISH", [channel, message])`.
fn publish_channel(command: &str, arguments: &[RedisParameter]) -> Option<String> {
    if !command.eq_ignore_ascii_case("PUBLISH") {
        return None;
    }
    match arguments.first() {
        Some(RedisParameter::Binary(bytes)) => Some(String::from_utf8_lossy(bytes).into_owned()),
        Some(RedisParameter::Int64(n)) => Some(n.to_string()),
        None => None,
    }
}

/// Counts one publish in the events metrics.
fn record_publish<T, E>(
    accessor: &Accessor<T, OutboundRedis>,
    channel: &str,
    receivers: &Result<i64, E>,
) {
    let meter = accessor.with(|mut access| access.get().events.clone());
    meter.published(channel, PublishOutcome::of(receivers));
}

/// A command's answer as `redis-result`s; arrays are flattened (as Spin does).
fn results(value: redis::Value, out: &mut Vec<RedisResult>) {
    use redis::Value;
    match value {
        Value::Nil => out.push(RedisResult::Nil),
        Value::Int(i) => out.push(RedisResult::Int64(i)),
        Value::BulkString(bytes) => out.push(RedisResult::Binary(bytes)),
        Value::SimpleString(s) => out.push(RedisResult::Status(s)),
        Value::Okay => out.push(RedisResult::Status("OK".into())),
        Value::Boolean(b) => out.push(RedisResult::Int64(i64::from(b))),
        Value::Array(items) | Value::Set(items) => {
            items.into_iter().for_each(|item| results(item, out))
        }
        other => out.push(RedisResult::Status(format!("{other:?}"))),
    }
}

impl Host for RedisHost {
    fn convert_error(&mut self, err: WitError) -> wasmtime::Result<WitError> {
        Ok(err)
    }
}

impl HostConnection for RedisHost {
    async fn drop(&mut self, connection: Resource<Connection>) -> wasmtime::Result<()> {
        if let Some(slot) = self.open.get_mut(connection.rep() as usize) {
            *slot = None;
        }
        Ok(())
    }
}

impl<T> HostConnectionWithStore<T> for OutboundRedis {
    async fn open(
        accessor: &Accessor<T, Self>,
        address: String,
    ) -> Result<Resource<Connection>, WitError> {
        let (policy, pool) = accessor.with(|mut access| {
            let host = access.get();
            (host.policy.clone(), host.pool.clone())
        });
        allowed(&policy, &address)?;
        let connection = pool.get(&address).await?;
        let rep = accessor.with(|mut access| access.get().push(connection))?;
        Ok(Resource::new_own(rep))
    }

    async fn publish(
        accessor: &Accessor<T, Self>,
        connection: Resource<Connection>,
        channel: String,
        payload: Vec<u8>,
    ) -> Result<(), WitError> {
        let mut conn = connection_of(accessor, &connection)?;
        let receivers: Result<i64, WitError> = run(
            redis::cmd("PUBLISH")
                .arg(&channel)
                .arg(payload)
                .query_async(&mut conn),
            "PUBLISH",
        )
        .await;
        record_publish(accessor, &channel, &receivers);
        receivers.map(|_| ())
    }

    async fn get(
        accessor: &Accessor<T, Self>,
        connection: Resource<Connection>,
        key: String,
    ) -> Result<Option<Vec<u8>>, WitError> {
        let mut conn = connection_of(accessor, &connection)?;
        run(redis::cmd("GET").arg(key).query_async(&mut conn), "GET").await
    }

    async fn set(
        accessor: &Accessor<T, Self>,
        connection: Resource<Connection>,
        key: String,
        value: Vec<u8>,
    ) -> Result<(), WitError> {
        let mut conn = connection_of(accessor, &connection)?;
        run(
            redis::cmd("SET").arg(key).arg(value).query_async(&mut conn),
            "SET",
        )
        .await
    }

    async fn incr(
        accessor: &Accessor<T, Self>,
        connection: Resource<Connection>,
        key: String,
    ) -> Result<i64, WitError> {
        let mut conn = connection_of(accessor, &connection)?;
        run(redis::cmd("INCR").arg(key).query_async(&mut conn), "INCR").await
    }

    async fn del(
        accessor: &Accessor<T, Self>,
        connection: Resource<Connection>,
        keys: Vec<String>,
    ) -> Result<u32, WitError> {
        let mut conn = connection_of(accessor, &connection)?;
        run(redis::cmd("DEL").arg(keys).query_async(&mut conn), "DEL").await
    }

    async fn sadd(
        accessor: &Accessor<T, Self>,
        connection: Resource<Connection>,
        key: String,
        values: Vec<String>,
    ) -> Result<u32, WitError> {
        let mut conn = connection_of(accessor, &connection)?;
        run(
            redis::cmd("SADD")
                .arg(key)
                .arg(values)
                .query_async(&mut conn),
            "SADD",
        )
        .await
    }

    async fn smembers(
        accessor: &Accessor<T, Self>,
        connection: Resource<Connection>,
        key: String,
    ) -> Result<Vec<String>, WitError> {
        let mut conn = connection_of(accessor, &connection)?;
        run(
            redis::cmd("SMEMBERS").arg(key).query_async(&mut conn),
            "SMEMBERS",
        )
        .await
    }

    async fn srem(
        accessor: &Accessor<T, Self>,
        connection: Resource<Connection>,
        key: String,
        values: Vec<String>,
    ) -> Result<u32, WitError> {
        let mut conn = connection_of(accessor, &connection)?;
        run(
            redis::cmd("SREM")
                .arg(key)
                .arg(values)
                .query_async(&mut conn),
            "SREM",
        )
        .await
    }

    async fn execute(
        accessor: &Accessor<T, Self>,
        connection: Resource<Connection>,
        command: String,
        arguments: Vec<RedisParameter>,
    ) -> Result<Vec<RedisResult>, WitError> {
        let mut conn = connection_of(accessor, &connection)?;
        let published_channel = publish_channel(&command, &arguments);
        let mut cmd = redis::cmd(&command);
        for argument in arguments {
            match argument {
                RedisParameter::Int64(i) => cmd.arg(i),
                RedisParameter::Binary(bytes) => cmd.arg(bytes),
            };
        }
        let value: Result<redis::Value, WitError> = run(cmd.query_async(&mut conn), &command).await;
        if let Some(channel) = published_channel {
            let receivers = value.as_ref().map(|v| match v {
                redis::Value::Int(n) => *n,
                _ => 0,
            });
            record_publish(accessor, &channel, &receivers);
        }
        let mut out = Vec::new();
        results(value?, &mut out);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(entries: &[&str]) -> OutboundPolicy {
        OutboundPolicy::parse(&entries.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn a_listed_redis_address_is_allowed() {
        let p = policy(&["redis://127.0.0.1:*"]);
        assert!(allowed(&p, "redis://127.0.0.1:6390").is_ok());
        assert!(allowed(&p, "redis://127.0.0.1").is_ok());
    }

    #[test]
    fn an_unlisted_redis_address_is_an_invalid_address() {
        let p = policy(&["redis://127.0.0.1:6379", "https://api.example.com"]);
        assert!(matches!(
            allowed(&p, "redis://10.0.0.1:6379"),
            Err(WitError::InvalidAddress)
        ));
        assert!(matches!(
            allowed(&p, "redis://127.0.0.1:6380"),
            Err(WitError::InvalidAddress)
        ));
        assert!(matches!(
            allowed(&policy(&[]), "redis://127.0.0.1:6379"),
            Err(WitError::InvalidAddress)
        ));
    }

    #[test]
    fn an_address_that_does_not_parse_is_an_invalid_address() {
        let p = policy(&["*://*:*"]);
        assert!(matches!(
            allowed(&p, "not an address"),
            Err(WitError::InvalidAddress)
        ));
    }

    #[test]
    fn a_password_never_shows_in_a_redacted_address() {
        assert_eq!(
            redacted("redis://:hunter2@cache.internal:6380"),
            "redis://cache.internal:6380"
        );
    }

    #[test]
    fn nested_answers_are_flattened_into_results() {
        let mut out = Vec::new();
        results(
            redis::Value::Array(vec![
                redis::Value::Int(3),
                redis::Value::Nil,
                redis::Value::BulkString(b"x".to_vec()),
                redis::Value::Okay,
            ]),
            &mut out,
        );
        assert_eq!(out.len(), 4);
        assert!(matches!(out[0], RedisResult::Int64(3)));
        assert!(matches!(out[1], RedisResult::Nil));
        assert!(matches!(&out[2], RedisResult::Binary(b) if b == b"x"));
        assert!(matches!(&out[3], RedisResult::Status(s) if s == "OK"));
    }
}
