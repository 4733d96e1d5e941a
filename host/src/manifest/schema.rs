//! The shape of `spin.toml` (manifest version 2) as serde types, and the
//! conversions that run while deserializing: names checked by the newtypes
//! in [`super::ids`], local sources and routes read, the features this host
//! refuses refused. Every table denies unknown keys, so a typo is an error
//! naming the key; since all of this happens inside serde, each error gets
//! its TOML path and position for free ([`super::error`]).

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::path::PathBuf;

use serde::de::{self, IgnoredAny, MapAccess, Visitor, value::MapAccessDeserializer};
use serde::{Deserialize, Deserializer};

use super::error::unsupported;
use super::ids::{ComponentId, VariableName};
use super::{ComponentDef, CronTrigger, HttpRoute, HttpTrigger, RedisTrigger, VariableDef};

/// The whole manifest.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    /// Checked before deserializing (it decides which schema applies).
    #[serde(rename = "spin_manifest_version")]
    pub _version: IgnoredAny,
    pub application: Application,
    #[serde(default)]
    pub variables: BTreeMap<VariableName, VariableDef>,
    pub trigger: Triggers,
    #[serde(default)]
    pub component: BTreeMap<ComponentId, ComponentDef>,
}

/// `[application]`. Only the name and version are kept.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Application {
    pub name: String,
    pub version: Option<String>,
    #[serde(rename = "description")]
    _description: Option<String>,
    #[serde(rename = "authors")]
    _authors: Option<Vec<String>>,
    /// Deployment targets only matter to `spin build`'s environment checks.
    #[serde(rename = "targets")]
    _targets: Option<Vec<IgnoredAny>>,
    /// `[application.tool.*]` is for other tools; Spin ignores it too.
    #[serde(rename = "tool")]
    _tool: Option<BTreeMap<String, IgnoredAny>>,
    #[serde(default)]
    pub trigger: AppTriggerSettings,
}

/// `[application.trigger.<kind>]`: the trigger types with application-level
/// settings here.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppTriggerSettings {
    #[serde(rename = "http")]
    _http: Option<AppHttpSettings>,
    pub redis: Option<AppRedisSettings>,
}

/// `[application.trigger.redis]`: the Redis server `[[trigger.redis]]`
/// entries subscribe on unless they name their own `address`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppRedisSettings {
    /// May use `{{ variable }}` templates (rendered at start-up).
    pub address: String,
}

/// `[application.trigger.http]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AppHttpSettings {
    #[serde(default, rename = "base", deserialize_with = "http_base")]
    _base: (),
}

/// The deprecated HTTP `base`: only its default `/` is accepted.
fn http_base<'de, D: Deserializer<'de>>(d: D) -> Result<(), D::Error> {
    if String::deserialize(d)? != "/" {
        return Err(unsupported(
            "the deprecated HTTP `base`: prepend it to each `[[trigger.http]]` route instead",
        ));
    }
    tracing::warn!(
        "spin.toml sets the deprecated `application.trigger.http.base` to \"/\"; remove it"
    );
    Ok(())
}

/// `[trigger]`: the entries of each trigger type this host runs.
#[derive(Debug, Default)]
pub struct Triggers {
    pub http: Vec<HttpTrigger>,
    pub cron: Vec<CronTrigger>,
    pub redis: Vec<RedisTrigger>,
}

impl<'de> Deserialize<'de> for Triggers {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ByKind;
        impl<'de> Visitor<'de> for ByKind {
            type Value = Triggers;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a table of trigger types (`[[trigger.http]]`, `[[trigger.cron]]`, `[[trigger.redis]]`)",
                )
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Triggers, A::Error> {
                let mut triggers = Triggers::default();
                while let Some(kind) = map.next_key::<TriggerKind>()? {
                    match kind {
                        TriggerKind::Http => triggers.http = map.next_value()?,
                        TriggerKind::Cron => triggers.cron = map.next_value()?,
                        TriggerKind::Redis => triggers.redis = map.next_value()?,
                    }
                }
                Ok(triggers)
            }
        }
        deserializer.deserialize_map(ByKind)
    }
}

/// A `[trigger.<kind>]` key: the trigger types this host runs.
enum TriggerKind {
    Http,
    Cron,
    Redis,
}

impl<'de> Deserialize<'de> for TriggerKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match String::deserialize(deserializer)?.as_str() {
            "http" => Ok(TriggerKind::Http),
            "cron" => Ok(TriggerKind::Cron),
            "redis" => Ok(TriggerKind::Redis),
            kind => Err(unsupported(format_args!(
                "`{kind}` triggers (this host runs `[[trigger.http]]`, `[[trigger.cron]]` and `[[trigger.redis]]`)"
            ))),
        }
    }
}

/// One `[[trigger.http]]` entry as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpTriggerSchema {
    id: Option<String>,
    #[serde(deserialize_with = "route")]
    route: HttpRoute,
    #[serde(deserialize_with = "component_reference")]
    component: String,
    #[serde(default, rename = "executor", deserialize_with = "executor")]
    _executor: (),
    #[serde(
        default,
        rename = "static_response",
        deserialize_with = "refuse_static_response"
    )]
    _static_response: (),
    #[serde(
        default,
        rename = "components",
        deserialize_with = "refuse_trigger_components"
    )]
    _components: (),
    #[serde(
        default,
        rename = "dependencies",
        deserialize_with = "refuse_trigger_dependencies"
    )]
    _dependencies: (),
}

impl From<HttpTriggerSchema> for HttpTrigger {
    fn from(t: HttpTriggerSchema) -> Self {
        HttpTrigger {
            id: t.id,
            route: t.route,
            component: t.component,
        }
    }
}

/// One `[[trigger.cron]]` entry as written (the format of Spin's
/// `trigger-cron` plugin).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CronTriggerSchema {
    id: Option<String>,
    #[serde(deserialize_with = "component_reference")]
    component: String,
    #[serde(deserialize_with = "cron_expression")]
    cron_expression: String,
}

impl From<CronTriggerSchema> for CronTrigger {
    fn from(t: CronTriggerSchema) -> Self {
        CronTrigger {
            id: t.id,
            component: t.component,
            cron_expression: t.cron_expression,
        }
    }
}

/// One `[[trigger.redis]]` entry as written (Spin's format).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisTriggerSchema {
    id: Option<String>,
    #[serde(deserialize_with = "component_reference")]
    component: String,
    channel: String,
    address: Option<String>,
}

impl From<RedisTriggerSchema> for RedisTrigger {
    fn from(t: RedisTriggerSchema) -> Self {
        RedisTrigger {
            id: t.id,
            component: t.component,
            channel: t.channel,
            address: t.address,
        }
    }
}

/// A cron expression with seconds (`sec min hour day-of-month month
/// day-of-week [year]`), as the plugin's scheduler reads it.
fn cron_expression<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let expression = String::deserialize(d)?;
    match expression.parse::<cron::Schedule>() {
        Ok(_) => Ok(expression),
        Err(err) => Err(de::Error::custom(format_args!(
            "{expression:?} is not a cron expression with seconds (`sec min hour day month weekday`, e.g. \"0 0 * * * *\" for every hour): {err}"
        ))),
    }
}

fn route<'de, D: Deserializer<'de>>(d: D) -> Result<HttpRoute, D::Error> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Private {
        private: bool,
    }
    match StringOr::<Private>::deserialize(d)? {
        StringOr::String(pattern) => Ok(HttpRoute::Path(pattern)),
        StringOr::Table(Private { private: true }) => Ok(HttpRoute::Private),
        StringOr::Table(_) => Err(de::Error::custom(
            "a route must be a string pattern or `{ private = true }`",
        )),
    }
}

fn component_reference<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match StringOr::<IgnoredAny, ComponentId>::deserialize(d)? {
        StringOr::String(id) => Ok(id.into()),
        StringOr::Table(_) => Err(unsupported(
            "an inline component (`component = { source = ... }`); define it as `[component.<id>]` and use `component = \"<id>\"`",
        )),
    }
}

fn executor<'de, D: Deserializer<'de>>(d: D) -> Result<(), D::Error> {
    #[derive(Deserialize)]
    #[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
    enum Executor {
        Http {},
        Spin {},
        Wagi,
    }
    match Executor::deserialize(d)? {
        Executor::Wagi => Err(unsupported(
            "the Wagi executor (`executor = { type = \"wagi\" }`)",
        )),
        Executor::Http {} | Executor::Spin {} => Ok(()),
    }
}

/// A component `source`: a local Wasm file (relative to the manifest).
pub fn local_source<'de, D: Deserializer<'de>>(d: D) -> Result<PathBuf, D::Error> {
    let table = match StringOr::<BTreeMap<String, IgnoredAny>>::deserialize(d)? {
        StringOr::String(path) => return Ok(path.into()),
        StringOr::Table(table) => table,
    };
    Err(if table.contains_key("url") {
        unsupported(
            "a remote component source (`{ url = ..., digest = ... }`); download the Wasm file and give its local path",
        )
    } else if table.contains_key("package") || table.contains_key("registry") {
        unsupported(
            "a registry component source (`{ registry = ..., package = ..., version = ... }`); give a local Wasm file path",
        )
    } else {
        de::Error::custom("must be a path to a local Wasm file")
    })
}

/// A profile's `source`.
pub fn optional_local_source<'de, D: Deserializer<'de>>(d: D) -> Result<Option<PathBuf>, D::Error> {
    local_source(d).map(Some)
}

/// `allowed_outbound_hosts`: each has a scheme, or is a template checked later.
pub fn outbound_hosts<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    struct Host(String);
    impl<'de> Deserialize<'de> for Host {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let host = String::deserialize(d)?;
            if host.contains("{{") || host.trim().contains("://") {
                return Ok(Host(host));
            }
            Err(de::Error::custom(format_args!(
                "{host:?} does not contain a scheme; hosts must look like `<scheme>://<host>[:<port>]` (e.g. \"https://example.com\", \"*://*:*\")"
            )))
        }
    }
    Ok(Vec::<Host>::deserialize(d)?
        .into_iter()
        .map(|h| h.0)
        .collect())
}

/// Build commands: Spin allows one string or an array of strings.
pub fn commands<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(
        untagged,
        expecting = "a command string or an array of command strings"
    )]
    enum Commands {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Commands::deserialize(deserializer)? {
        Commands::One(command) => vec![command],
        Commands::Many(commands) => commands,
    })
}

/// A build `workdir`: relative to the manifest directory.
pub fn relative_dir<'de, D: Deserializer<'de>>(d: D) -> Result<Option<PathBuf>, D::Error> {
    let dir = PathBuf::from(String::deserialize(d)?);
    if dir.has_root() {
        return Err(de::Error::custom(
            "the build workdir must be relative to the manifest directory",
        ));
    }
    Ok(Some(dir))
}

/// A list of checked names (`N`), kept as strings.
pub fn names<'de, D: Deserializer<'de>, N: Deserialize<'de> + Into<String>>(
    d: D,
) -> Result<Vec<String>, D::Error> {
    Ok(Vec::<N>::deserialize(d)?
        .into_iter()
        .map(Into::into)
        .collect())
}

/// A table keyed by checked names (`K`), kept with string keys.
pub fn keyed<'de, D, K, V>(d: D) -> Result<BTreeMap<String, V>, D::Error>
where
    D: Deserializer<'de>,
    K: Deserialize<'de> + Into<String> + Ord,
    V: Deserialize<'de>,
{
    let table = BTreeMap::<K, V>::deserialize(d)?;
    Ok(table.into_iter().map(|(k, v)| (k.into(), v)).collect())
}

/// A key that is checked to be a `T` but not kept.
pub fn check<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<(), D::Error> {
    T::deserialize(d).map(drop)
}

/// Defines `deserialize_with` functions for keys this host refuses unless
/// their value is empty (`[]` or `{}`).
macro_rules! refuse_unless_empty {
    ($($name:ident => $what:literal,)*) => {$(
        pub fn $name<'de, D: Deserializer<'de>>(d: D) -> Result<(), D::Error> {
            match toml::Value::deserialize(d)? {
                toml::Value::Array(items) if items.is_empty() => Ok(()),
                toml::Value::Table(table) if table.is_empty() => Ok(()),
                _ => Err(unsupported($what)),
            }
        }
    )*};
}

refuse_unless_empty! {
    refuse_files => "`files` (mounting host files into the component)",
    refuse_allowed_http_hosts => "the deprecated `allowed_http_hosts`; use `allowed_outbound_hosts = [\"https://example.com\"]`",
    refuse_sqlite_databases => "`sqlite_databases` (Spin SQLite)",
    refuse_ai_models => "`ai_models` (Spin serverless AI)",
    refuse_static_response => "`static_response` (routes answered by the host without a component)",
    refuse_trigger_components => "trigger-level `components`",
    refuse_trigger_dependencies => "trigger-level `dependencies`",
}

/// A value Spin lets one write as a string (`S`) or as a table (`T`).
/// Deserialized without buffering, so errors inside the table keep their
/// key path and position.
#[derive(Debug)]
pub enum StringOr<T, S = String> {
    String(S),
    Table(T),
}

impl<'de, T: Deserialize<'de>, S: Deserialize<'de>> Deserialize<'de> for StringOr<T, S> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Either<T, S>(PhantomData<(T, S)>);
        impl<'de, T: Deserialize<'de>, S: Deserialize<'de>> Visitor<'de> for Either<T, S> {
            type Value = StringOr<T, S>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a table")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                S::deserialize(de::value::StrDeserializer::<E>::new(s)).map(StringOr::String)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(StringOr::Table)
            }
        }
        deserializer.deserialize_any(Either(PhantomData))
    }
}
