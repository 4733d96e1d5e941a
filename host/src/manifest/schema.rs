//! The shape of `spin.toml` (manifest version 2) as serde types: what keys
//! exist, their types, and which names are valid ([`super::ids`]). Every
//! table denies unknown keys, so a typo is an error naming the key. Keys this
//! host refuses (`files`, `sqlite_databases`, ...) are kept as spanned raw
//! values for [`super::lower`] to refuse with their position; values that
//! later checks must point at are [`Spanned`].

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::path::PathBuf;

use serde::de::{self, IgnoredAny, MapAccess, Visitor, value::MapAccessDeserializer};
use serde::{Deserialize, Deserializer};
use toml::Spanned;

use super::dependencies::DependencySchema;
use super::error::unsupported;
use super::ids::{ComponentId, DependencyName, StoreLabel, VariableName};
use super::profile::ProfileSchema;
use super::{BuildDef, VariableDef};

/// The whole manifest.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestSchema {
    /// Checked before deserializing (it decides which schema applies).
    #[serde(rename = "spin_manifest_version")]
    pub _version: IgnoredAny,
    pub application: ApplicationSchema,
    #[serde(default)]
    pub variables: BTreeMap<VariableName, Spanned<VariableDef>>,
    pub trigger: BTreeMap<HttpOnly, Vec<HttpTriggerSchema>>,
    #[serde(default)]
    pub component: BTreeMap<ComponentId, ComponentSchema>,
}

/// `[application]`. Only the name and version are used; the rest is checked.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplicationSchema {
    pub name: String,
    pub version: Option<String>,
    #[serde(rename = "description")]
    pub _description: Option<String>,
    #[serde(default, rename = "authors")]
    pub _authors: Vec<String>,
    /// Deployment targets only matter to `spin build`'s environment checks.
    #[serde(rename = "targets")]
    pub _targets: Option<Vec<IgnoredAny>>,
    /// `[application.tool.*]` is for other tools; Spin ignores it too.
    #[serde(rename = "tool")]
    pub _tool: Option<BTreeMap<String, IgnoredAny>>,
    #[serde(default)]
    pub trigger: BTreeMap<HttpOnly, AppHttpSettings>,
}

/// `[application.trigger.http]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppHttpSettings {
    /// The deprecated route prefix; only its default `/` is accepted.
    pub base: Option<Spanned<String>>,
}

/// A trigger type key; only `http` is served by this host.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct HttpOnly;

impl<'de> Deserialize<'de> for HttpOnly {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let kind = String::deserialize(deserializer)?;
        if kind == "http" {
            Ok(HttpOnly)
        } else {
            Err(unsupported(format_args!(
                "`{kind}` triggers (only HTTP triggers, `[[trigger.http]]`, are supported)"
            )))
        }
    }
}

/// One `[[trigger.http]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpTriggerSchema {
    pub id: Option<String>,
    pub route: Spanned<StringOr<PrivateRoute>>,
    /// A component id; an inline component table is refused.
    pub component: Spanned<StringOr<IgnoredAny, ComponentId>>,
    pub executor: Option<Spanned<Executor>>,
    pub static_response: Option<Spanned<IgnoredAny>>,
    pub components: Option<Spanned<BTreeMap<String, IgnoredAny>>>,
    pub dependencies: Option<Spanned<BTreeMap<String, IgnoredAny>>>,
}

/// `route = { private = ... }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivateRoute {
    pub private: bool,
}

/// `executor = { type = ... }`.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum Executor {
    Http {},
    Spin {},
    Wagi(BTreeMap<String, IgnoredAny>),
}

/// A `[component.<id>]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentSchema {
    pub source: Spanned<SourceSchema>,
    pub description: Option<String>,
    #[serde(default)]
    pub variables: BTreeMap<VariableName, Spanned<String>>,
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    pub files: Option<Spanned<Vec<IgnoredAny>>>,
    #[serde(default, rename = "exclude_files")]
    pub _exclude_files: Vec<String>,
    pub allowed_http_hosts: Option<Spanned<Vec<IgnoredAny>>>,
    #[serde(default)]
    pub allowed_outbound_hosts: Vec<Spanned<String>>,
    #[serde(default)]
    pub key_value_stores: Vec<StoreLabel>,
    pub sqlite_databases: Option<Spanned<Vec<IgnoredAny>>>,
    pub ai_models: Option<Spanned<Vec<IgnoredAny>>>,
    #[serde(rename = "targets")]
    pub _targets: Option<Vec<IgnoredAny>>,
    #[serde(rename = "tool")]
    pub _tool: Option<BTreeMap<String, IgnoredAny>>,
    pub build: Option<BuildDef>,
    pub dependencies_inherit_configuration: Option<bool>,
    #[serde(default)]
    pub dependencies: BTreeMap<DependencyName, Spanned<DependencySchema>>,
    #[serde(default)]
    pub profile: BTreeMap<String, ProfileSchema>,
}

/// A component `source`: a local path, or a table (remote or registry
/// source, both refused).
pub type SourceSchema = StringOr<BTreeMap<String, IgnoredAny>>;

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
