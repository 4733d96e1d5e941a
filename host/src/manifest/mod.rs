//! The application manifest: loading and validating `spin.toml`.
//!
//! This module owns the host's model of a Spin application manifest
//! (`spin_manifest_version = 2`) and nothing else. The model types below
//! deserialize directly with serde: [`schema`] holds the document's shape and
//! the conversions that run while deserializing (unknown keys rejected, names
//! checked by the newtypes in [`ids`], the Spin features this host cannot
//! honour — remote sources, triggers other than HTTP, cron and Redis, file mounts,
//! ... — refused);
//! [`dependencies`] reads component dependencies; [`lower`] resolves paths,
//! checks the rules that span keys (triggers and dependencies name defined
//! components, templates name defined variables, ...) and applies a
//! component [`profile`]. It does not touch wasmtime; the runtime, the router
//! and `fbposts build` consume the result.
//!
//! Every error names the TOML path (`component.api.build.command`) and the
//! line/column it comes from ([`error`]).

mod dependencies;
mod error;
mod ids;
mod lower;
mod profile;
mod schema;
#[cfg(test)]
mod tests;
mod tool;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::IgnoredAny;
use toml::de::{DeTable, DeValue};

use ids::{DependencyName, StoreLabel, VariableName};

pub use dependencies::{DependencyDef, InheritConfig};
pub use error::{Location, ManifestError};
pub use profile::ProfileOverride;
pub use tool::FbpostsTool;

/// The only manifest schema version this host understands.
pub const MANIFEST_VERSION: i64 = 2;

/// A parsed and validated Spin application manifest.
#[derive(Debug, Clone)]
pub struct AppManifest {
    /// `[application].name`.
    pub name: String,
    /// `[application].version`, if set and non-empty.
    // Part of the manifest model even while no runtime feature reads it.
    #[allow(dead_code)]
    pub version: Option<String>,
    /// Application variables (`[variables]`), by name. Component variable
    /// templates have been checked to refer only to these.
    pub variables: BTreeMap<String, VariableDef>,
    /// The `[[trigger.http]]` entries, in manifest order.
    pub http_triggers: Vec<HttpTrigger>,
    /// The `[[trigger.cron]]` entries, in manifest order.
    pub cron_triggers: Vec<CronTrigger>,
    /// The `[[trigger.redis]]` entries, in manifest order.
    pub redis_triggers: Vec<RedisTrigger>,
    /// `[application.trigger.redis] address`, as written (may be a template).
    pub redis_address: Option<String>,
    /// The `[component.<id>]` tables, by id, with the selected profile applied.
    pub components: BTreeMap<String, ComponentDef>,
    /// Component ids in the order they appear in the manifest (the order
    /// `spin build` uses).
    pub component_order: Vec<String>,
    /// The directory containing `spin.toml`; relative paths resolve against it.
    pub base_dir: PathBuf,
    /// The profile applied to the components, if any.
    pub profile: Option<String>,
    /// Every profile some component defines.
    pub defined_profiles: BTreeSet<String>,
}

/// An application variable (`[variables] name = { ... }`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariableDef {
    /// The value used when no provider supplies one. Absent iff `required`.
    pub default: Option<String>,
    /// A value must be supplied at runtime.
    #[serde(default)]
    pub required: bool,
    /// The value is sensitive and should not be logged.
    #[serde(default)]
    pub secret: bool,
    /// Human-readable description.
    pub description: Option<String>,
}

/// One `[[trigger.http]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "schema::HttpTriggerSchema")]
pub struct HttpTrigger {
    /// The optional trigger `id`.
    pub id: Option<String>,
    /// Where the trigger is mounted.
    pub route: HttpRoute,
    /// The id of the component handling requests (always a defined component).
    pub component: String,
}

/// One `[[trigger.cron]]` entry: run `component` on a schedule.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "schema::CronTriggerSchema")]
pub struct CronTrigger {
    /// The optional trigger `id`.
    pub id: Option<String>,
    /// The id of the component to run (always a defined component).
    pub component: String,
    /// When to run it: a cron expression with seconds, checked to parse.
    pub cron_expression: String,
}

/// One `[[trigger.redis]]` entry: deliver the messages of `channel` to
/// `component`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "schema::RedisTriggerSchema")]
pub struct RedisTrigger {
    /// The optional trigger `id`.
    pub id: Option<String>,
    /// The id of the component to run (always a defined component).
    pub component: String,
    /// The channel, as written (may be a `{{ variable }}` template).
    pub channel: String,
    /// This entry's own server, as written; else the application's.
    pub address: Option<String>,
}

/// The `route` of an HTTP trigger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpRoute {
    /// A route pattern such as `/api/...` or `/users/:id`, exactly as written.
    Path(String),
    /// `route = { private = true }`: reachable only by service chaining, never routed.
    Private,
}

impl fmt::Display for HttpRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpRoute::Path(p) => f.write_str(p),
            HttpRoute::Private => f.write_str("{ private = true }"),
        }
    }
}

/// A `[component.<id>]` table. The `()` fields are keys that are checked
/// (and refused when this host cannot honour them) but not kept.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentDef {
    /// The component id (kebab-case).
    #[serde(skip)]
    pub id: String,
    /// The Wasm file, resolved against the manifest directory.
    #[serde(deserialize_with = "schema::local_source")]
    pub source: PathBuf,
    /// `allowed_outbound_hosts`, as written (may contain `{{ variable }}` templates).
    #[serde(default, deserialize_with = "schema::outbound_hosts")]
    pub allowed_outbound_hosts: Vec<String>,
    /// Key-value store labels the component may open.
    #[serde(default, deserialize_with = "schema::names::<_, StoreLabel>")]
    pub key_value_stores: Vec<String>,
    /// Component variables: name to template (`"{{ app_var }}"` or literal).
    #[serde(default, deserialize_with = "schema::keyed::<_, VariableName, _>")]
    pub variables: BTreeMap<String, String>,
    /// Environment variables for the guest.
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// `[component.<id>.build]`, if any.
    pub build: Option<BuildDef>,
    /// `[component.<id>.dependencies]`: import name to how it is satisfied.
    #[serde(default, deserialize_with = "schema::keyed::<_, DependencyName, _>")]
    pub dependencies: BTreeMap<String, DependencyDef>,
    /// Human-readable description.
    pub description: Option<String>,
    /// `[component.<id>.profile.<name>]`: the overrides of each profile.
    #[serde(default, rename = "profile")]
    pub profiles: BTreeMap<String, ProfileOverride>,
    /// `dependencies_inherit_configuration`, folded into each dependency.
    #[serde(rename = "dependencies_inherit_configuration")]
    inherit_all: Option<bool>,
    #[serde(default, deserialize_with = "schema::refuse_files")]
    files: (),
    #[serde(default, deserialize_with = "schema::refuse_allowed_http_hosts")]
    allowed_http_hosts: (),
    #[serde(default, deserialize_with = "schema::refuse_sqlite_databases")]
    sqlite_databases: (),
    #[serde(default, deserialize_with = "schema::refuse_ai_models")]
    ai_models: (),
    #[serde(default, deserialize_with = "schema::check::<_, Vec<String>>")]
    exclude_files: (),
    #[serde(default, deserialize_with = "schema::check::<_, Vec<IgnoredAny>>")]
    targets: (),
    /// `[component.<id>.tool.fbposts]`: how this host serves the component
    /// (other tools' tables are checked and ignored, as Spin ignores them all).
    #[serde(default, rename = "tool", deserialize_with = "tool::fbposts_tool")]
    pub fbposts: FbpostsTool,
}

/// A component's `build` table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildDef {
    /// Commands to run in order (Spin allows one string or an array of strings).
    #[serde(deserialize_with = "schema::commands")]
    pub command: Vec<String>,
    /// Working directory, relative to the manifest directory (checked to be relative).
    #[serde(default, deserialize_with = "schema::relative_dir")]
    pub workdir: Option<PathBuf>,
    /// `spin watch` globs, relative to the working directory.
    #[serde(default)]
    pub watch: Vec<String>,
}

impl BuildDef {
    /// The absolute directory the commands run in: `workdir` under `base_dir`,
    /// or `base_dir` itself.
    pub fn workdir_in(&self, base_dir: &Path) -> PathBuf {
        match &self.workdir {
            Some(w) => base_dir.join(w),
            None => base_dir.to_path_buf(),
        }
    }
}

impl AppManifest {
    /// Reads and validates a manifest file, with `profile`'s overrides
    /// applied. `path` may also be a directory containing `spin.toml`.
    /// `base_dir` becomes the file's (canonical) parent.
    pub fn from_file(path: &Path, profile: Option<&str>) -> Result<Self, ManifestError> {
        let file = if path.is_dir() {
            path.join("spin.toml")
        } else {
            path.to_path_buf()
        };
        let read_error = |path: &Path| {
            let path = path.to_path_buf();
            move |source| ManifestError::Read { path, source }
        };
        let text = std::fs::read_to_string(&file).map_err(read_error(&file))?;
        let parent = match file.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let base_dir = parent.canonicalize().map_err(read_error(&parent))?;
        Self::parse(&text, &base_dir, profile)
    }

    /// Parses and validates manifest text; relative paths resolve against
    /// `base_dir`; `profile`'s overrides are applied when given.
    pub fn parse(
        toml: &str,
        base_dir: &Path,
        profile: Option<&str>,
    ) -> Result<Self, ManifestError> {
        let root = DeTable::parse(toml).map_err(|e| ManifestError::Syntax(Box::new(e)))?;
        check_version(toml, &root)?;
        let deserializer =
            toml::de::Deserializer::parse(toml).map_err(|e| ManifestError::Syntax(Box::new(e)))?;
        let document = serde_path_to_error::deserialize(deserializer)
            .map_err(|e| ManifestError::from_serde(e, toml))?;
        lower::Lowering::new(toml, base_dir, &root).manifest(document, profile)
    }

    /// Every key-value store label some component uses.
    pub fn labels_in_use(&self) -> BTreeSet<String> {
        self.components
            .values()
            .flat_map(|c| c.key_value_stores.iter().cloned())
            .collect()
    }

    /// Components in manifest order.
    pub fn components_in_order(&self) -> impl Iterator<Item = &ComponentDef> {
        self.component_order
            .iter()
            .filter_map(|id| self.components.get(id))
    }

    /// The Wasm file a dependency resolves to, when it is local: the `path` of
    /// a `{ path = ... }` dependency or the `source` of a `{ component = ... }` one.
    pub fn dependency_path<'a>(&'a self, dep: &'a DependencyDef) -> Option<&'a Path> {
        match dep {
            DependencyDef::Local { path, .. } => Some(path),
            DependencyDef::Component { component, .. } => {
                self.components.get(component).map(|c| c.source.as_path())
            }
            DependencyDef::Package { .. } | DependencyDef::Http { .. } => None,
        }
    }
}

/// The version comes first, so an old manifest gets the version message
/// rather than a list of unknown keys.
fn check_version(src: &str, root: &toml::Spanned<DeTable<'_>>) -> Result<(), ManifestError> {
    let Some(version) = root.get_ref().get("spin_manifest_version") else {
        return Err(ManifestError::MissingKey {
            path: "spin_manifest_version".into(),
            location: Location::of(src, root.span()),
        });
    };
    let is_two = match version.get_ref() {
        DeValue::Integer(i) => {
            i64::from_str_radix(&i.as_str().replace('_', ""), i.radix()) == Ok(MANIFEST_VERSION)
        }
        _ => false,
    };
    if is_two {
        return Ok(());
    }
    Err(ManifestError::UnsupportedVersion {
        found: src[version.span()].to_string(),
        location: Location::of(src, version.span()),
    })
}
