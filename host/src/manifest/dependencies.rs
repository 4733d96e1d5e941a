//! Component dependencies (`[component.<id>.dependencies]`): how a
//! component-model import is satisfied, read from a version string or a
//! table with Spin's rules — exactly one source per dependency, and which
//! keys go with which source. The rules that need the dependency's name
//! (plain names need a package, whole packages cannot pick an export) are
//! [`DependencyDef::check_name`]; those that need the component are in
//! [`super::lower`].

use std::path::PathBuf;

use serde::Deserialize;
use serde::de::{self, Deserializer};

use super::ids::DependencyNameKind;
use super::schema::StringOr;

/// How a component dependency (a component-model import) is satisfied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DependencyDef {
    /// A registry package: `"x:y" = "^1.0"` or `{ version, registry, package, export }`.
    Package {
        /// Semver requirement.
        version: String,
        /// Registry host; the default registry if `None`.
        registry: Option<String>,
        /// Package name; the import's package if `None`.
        package: Option<String>,
        /// Export to use; the import name if `None`.
        export: Option<String>,
        /// Configuration inherited from the depending component.
        inherit: InheritConfig,
    },
    /// `{ path = "dep.wasm", export = ... }`; `path` resolved against the manifest directory.
    Local {
        /// The Wasm file implementing the dependency.
        path: PathBuf,
        /// Export to use; the import name if `None`.
        export: Option<String>,
        /// Configuration inherited from the depending component.
        inherit: InheritConfig,
    },
    /// `{ url = "...", digest = "sha256:..." }`.
    Http {
        /// Where to download the Wasm.
        url: String,
        /// Expected `sha256:` digest.
        digest: String,
        /// Export to use; the import name if `None`.
        export: Option<String>,
        /// Configuration inherited from the depending component.
        inherit: InheritConfig,
    },
    /// `{ component = "other-id" }`: another component of this app (its
    /// `source` is composed in). Checked to exist and to have no resources or
    /// permissions of its own, as Spin does.
    Component {
        /// The id of the component providing the dependency.
        component: String,
        /// Export to use; the import name if `None`.
        export: Option<String>,
        /// Configuration inherited from the depending component.
        inherit: InheritConfig,
    },
}

impl DependencyDef {
    /// What the dependency inherits from the component it is composed into.
    pub fn inherit(&self) -> &InheritConfig {
        match self {
            DependencyDef::Package { inherit, .. }
            | DependencyDef::Local { inherit, .. }
            | DependencyDef::Http { inherit, .. }
            | DependencyDef::Component { inherit, .. } => inherit,
        }
    }

    /// The dependency's export chosen with `export = "..."`, if any.
    pub fn export(&self) -> Option<&str> {
        match self {
            DependencyDef::Package { export, .. }
            | DependencyDef::Local { export, .. }
            | DependencyDef::Http { export, .. }
            | DependencyDef::Component { export, .. } => export.as_deref(),
        }
    }

    /// Sets what the dependency inherits (`dependencies_inherit_configuration = true`).
    pub fn set_inherit(&mut self, value: InheritConfig) {
        match self {
            DependencyDef::Package { inherit, .. }
            | DependencyDef::Local { inherit, .. }
            | DependencyDef::Http { inherit, .. }
            | DependencyDef::Component { inherit, .. } => *inherit = value,
        }
    }
}

/// A dependency's `inherit_configuration` (after folding in the component's
/// `dependencies_inherit_configuration`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum InheritConfig {
    /// Absent or `false`: the dependency gets no permissions.
    #[default]
    Nothing,
    /// `true`: everything the parent component has.
    All,
    /// `["key_value_stores", ...]`: only these configuration keys.
    Only(Vec<String>),
}

/// The keys `inherit_configuration` may list: Spin's, plus `wasi_nn` for
/// this host's wasi-nn (stock Spin has no wasi-nn and ignores names it does
/// not know, so a manifest granting it still runs there).
pub const INHERIT_KEYS: &[&str] = &[
    "ai_models",
    "allowed_outbound_hosts",
    "environment",
    "files",
    "key_value_stores",
    "sqlite_databases",
    "variables",
    "wasi_nn",
];

impl InheritConfig {
    /// Whether the dependency may use the capability `key` (one of
    /// [`INHERIT_KEYS`]) of the component it is composed into.
    pub fn allows(&self, key: &str) -> bool {
        match self {
            InheritConfig::Nothing => false,
            InheritConfig::All => true,
            InheritConfig::Only(keys) => keys.iter().any(|k| k == key),
        }
    }

    /// The first listed key that is not one of [`INHERIT_KEYS`].
    pub fn unknown_key(&self) -> Option<&str> {
        match self {
            InheritConfig::Only(keys) => keys
                .iter()
                .map(String::as_str)
                .find(|k| !INHERIT_KEYS.contains(k)),
            InheritConfig::Nothing | InheritConfig::All => None,
        }
    }
}

/// A dependency table as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DependencyTable {
    version: Option<String>,
    registry: Option<String>,
    package: Option<String>,
    path: Option<PathBuf>,
    url: Option<String>,
    digest: Option<String>,
    component: Option<String>,
    export: Option<String>,
    inherit_configuration: Option<InheritSchema>,
}

#[derive(Debug, Deserialize)]
#[serde(
    untagged,
    expecting = "`true`, `false` or an array of configuration keys"
)]
enum InheritSchema {
    All(bool),
    Only(Vec<String>),
}

/// The keys each kind of dependency table may have.
const PACKAGE_KEYS: &[&str] = &[
    "version",
    "registry",
    "package",
    "export",
    "inherit_configuration",
];
const LOCAL_KEYS: &[&str] = &["path", "export", "inherit_configuration"];
const HTTP_KEYS: &[&str] = &["url", "digest", "export", "inherit_configuration"];
const COMPONENT_KEYS: &[&str] = &["component", "export", "inherit_configuration"];

impl<'de> Deserialize<'de> for DependencyDef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match StringOr::<DependencyTable>::deserialize(deserializer)? {
            StringOr::String(version) => Ok(DependencyDef::Package {
                version,
                registry: None,
                package: None,
                export: None,
                inherit: InheritConfig::Nothing,
            }),
            StringOr::Table(table) => table.into_dependency(),
        }
    }
}

impl DependencyTable {
    fn into_dependency<E: de::Error>(self) -> Result<DependencyDef, E> {
        let present = [
            ("registry", self.registry.is_some()),
            ("package", self.package.is_some()),
            ("digest", self.digest.is_some()),
        ];
        let allowed = match (&self.version, &self.path, &self.url, &self.component) {
            (Some(_), None, None, None) => PACKAGE_KEYS,
            (None, Some(_), None, None) => LOCAL_KEYS,
            (None, None, Some(_), None) => HTTP_KEYS,
            (None, None, None, Some(_)) => COMPONENT_KEYS,
            _ => {
                return Err(E::custom(
                    "a dependency table needs exactly one of `version` (registry package), `path` (local Wasm file), `url` (download) or `component` (another component of this app)",
                ));
            }
        };
        if let Some((extra, _)) = present.iter().find(|(k, set)| *set && !allowed.contains(k)) {
            return Err(E::unknown_field(extra, allowed));
        }
        let export = self.export;
        let inherit = match self.inherit_configuration {
            None | Some(InheritSchema::All(false)) => InheritConfig::Nothing,
            Some(InheritSchema::All(true)) => InheritConfig::All,
            Some(InheritSchema::Only(keys)) => InheritConfig::Only(keys),
        };
        Ok(match (self.version, self.path, self.url, self.component) {
            (Some(version), ..) => DependencyDef::Package {
                version,
                registry: self.registry,
                package: self.package,
                export,
                inherit,
            },
            (_, Some(path), ..) => DependencyDef::Local {
                path,
                export,
                inherit,
            },
            (_, _, Some(url), _) => DependencyDef::Http {
                url,
                digest: self.digest.ok_or_else(|| E::missing_field("digest"))?,
                export,
                inherit,
            },
            (.., component) => DependencyDef::Component {
                component: component.unwrap_or_default(),
                export,
                inherit,
            },
        })
    }
}

impl DependencyDef {
    /// Spin's rules tying a dependency to its name: a plain name must say
    /// which package it is, and a whole package cannot pick one export.
    pub fn check_name(&self, name: &str) -> Result<(), String> {
        let exports = matches!(
            self,
            DependencyDef::Package {
                export: Some(_),
                ..
            } | DependencyDef::Local {
                export: Some(_),
                ..
            }
        );
        match DependencyNameKind::of(name) {
            DependencyNameKind::Plain
                if matches!(self, DependencyDef::Package { package: None, .. }) =>
            {
                Err(format!(
                    "dependency {name:?} must specify a package name (`package = \"ns:name\"`)"
                ))
            }
            DependencyNameKind::Package if exports => Err(format!(
                "using an export to satisfy the package dependency {name:?} is not permitted"
            )),
            _ => Ok(()),
        }
    }
}
