//! Component dependencies (`[component.<id>.dependencies]`): how a
//! component-model import is satisfied, and Spin's rules about them — exactly
//! one source per dependency, which keys go with which source, plain names
//! need a package, whole packages cannot pick an export, and
//! `dependencies_inherit_configuration` excludes per-dependency
//! `inherit_configuration`. References to other components are handed back
//! to be checked once every component is known.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::error::{Location, ManifestError, join};
use super::ids::{DependencyName, DependencyNameKind};
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
    /// The dependency's export chosen with `export = "..."`, if any.
    pub fn export(&self) -> Option<&str> {
        match self {
            DependencyDef::Package { export, .. }
            | DependencyDef::Local { export, .. }
            | DependencyDef::Http { export, .. }
            | DependencyDef::Component { export, .. } => export.as_deref(),
        }
    }

    fn set_inherit(&mut self, value: InheritConfig) {
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

/// A dependency as written: a version requirement or a table.
pub type DependencySchema = StringOr<DependencyTable>;

/// A dependency table; which keys may appear together is checked in [`lower`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DependencyTable {
    version: Option<String>,
    registry: Option<String>,
    package: Option<String>,
    path: Option<String>,
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

/// A `{ component = "..." }` dependency, checked once every component is known.
#[derive(Debug)]
pub struct ComponentReference {
    /// The component that depends on it.
    pub depender: String,
    /// The TOML path of the `component` key.
    pub path: String,
    /// Where the dependency is.
    pub location: Location,
    /// The referenced id.
    pub component: String,
}

/// Where dependencies are lowered: the manifest text (for positions), its
/// directory (for paths), and the references found so far.
pub struct DependencyContext<'a> {
    pub src: &'a str,
    pub base_dir: &'a Path,
    pub references: &'a mut Vec<ComponentReference>,
}

/// One `dependencies` table (a component's or a profile's) at `path`;
/// `inherit_all` is the component's `dependencies_inherit_configuration`.
pub fn lower_all(
    depender: &str,
    dependencies: BTreeMap<DependencyName, Spanned<DependencySchema>>,
    inherit_all: Option<bool>,
    path: &str,
    cx: &mut DependencyContext<'_>,
) -> Result<BTreeMap<String, DependencyDef>, ManifestError> {
    let mut out = BTreeMap::new();
    for (name, spanned) in dependencies {
        let dpath = join(path, name.as_str());
        let location = Location::of(cx.src, spanned.span());
        let per_dependency_inherit = matches!(
            spanned.get_ref(),
            StringOr::Table(DependencyTable {
                inherit_configuration: Some(_),
                ..
            })
        );
        if inherit_all.is_some() && per_dependency_inherit {
            return Err(ManifestError::Invalid {
                path: dpath,
                location,
                message: format!(
                    "component `{depender}` sets both `dependencies_inherit_configuration` and a per-dependency `inherit_configuration`; use one or the other"
                ),
            });
        }
        let mut dependency = lower(depender, &name, spanned.into_inner(), &dpath, location, cx)?;
        if inherit_all == Some(true) {
            dependency.set_inherit(InheritConfig::All);
        }
        out.insert(name.into(), dependency);
    }
    Ok(out)
}

fn lower(
    depender: &str,
    name: &DependencyName,
    schema: DependencySchema,
    path: &str,
    location: Location,
    cx: &mut DependencyContext<'_>,
) -> Result<DependencyDef, ManifestError> {
    let invalid = |message: String| ManifestError::Invalid {
        path: path.to_string(),
        location,
        message,
    };
    let dependency = match schema {
        StringOr::String(version) => DependencyDef::Package {
            version,
            registry: None,
            package: None,
            export: None,
            inherit: InheritConfig::Nothing,
        },
        StringOr::Table(table) => from_table(depender, table, path, location, cx)?,
    };
    let export_chosen = matches!(
        &dependency,
        DependencyDef::Package {
            export: Some(_),
            ..
        } | DependencyDef::Local {
            export: Some(_),
            ..
        }
    );
    match name.kind() {
        DependencyNameKind::Plain
            if matches!(&dependency, DependencyDef::Package { package: None, .. }) =>
        {
            Err(invalid(format!(
                "dependency {name:?} must specify a package name (`package = \"ns:name\"`)",
                name = name.as_str()
            )))
        }
        DependencyNameKind::Package if export_chosen => Err(invalid(format!(
            "using an export to satisfy the package dependency {name:?} is not permitted",
            name = name.as_str()
        ))),
        _ => Ok(dependency),
    }
}

/// The keys each kind of dependency table may have besides its own.
const SHARED_KEYS: [&str; 2] = ["export", "inherit_configuration"];

fn from_table(
    depender: &str,
    table: DependencyTable,
    path: &str,
    location: Location,
    cx: &mut DependencyContext<'_>,
) -> Result<DependencyDef, ManifestError> {
    let present: Vec<&str> = [
        ("version", table.version.is_some()),
        ("registry", table.registry.is_some()),
        ("package", table.package.is_some()),
        ("path", table.path.is_some()),
        ("url", table.url.is_some()),
        ("digest", table.digest.is_some()),
        ("component", table.component.is_some()),
    ]
    .into_iter()
    .filter_map(|(key, set)| set.then_some(key))
    .collect();
    let kinds: Vec<&str> = present
        .iter()
        .copied()
        .filter(|k| ["version", "path", "url", "component"].contains(k))
        .collect();
    let [kind] = kinds[..] else {
        return Err(ManifestError::Invalid {
            path: path.to_string(),
            location,
            message: "a dependency table needs exactly one of `version` (registry package), `path` (local Wasm file), `url` (download) or `component` (another component of this app)".into(),
        });
    };
    let allowed: &[&str] = match kind {
        "version" => &["version", "registry", "package"],
        "url" => &["url", "digest"],
        "path" => &["path"],
        _ => &["component"],
    };
    if let Some(extra) = present.iter().copied().find(|k| !allowed.contains(k)) {
        let expected: Vec<String> = allowed
            .iter()
            .chain(&SHARED_KEYS)
            .map(|k| format!("`{k}`"))
            .collect();
        return Err(ManifestError::UnknownKey {
            path: join(path, extra),
            location,
            expected: format!("one of {}", expected.join(", ")),
        });
    }
    let export = table.export;
    let inherit = match table.inherit_configuration {
        None | Some(InheritSchema::All(false)) => InheritConfig::Nothing,
        Some(InheritSchema::All(true)) => InheritConfig::All,
        Some(InheritSchema::Only(keys)) => InheritConfig::Only(keys),
    };
    Ok(
        match (table.version, table.path, table.url, table.component) {
            (Some(version), ..) => DependencyDef::Package {
                version,
                registry: table.registry,
                package: table.package,
                export,
                inherit,
            },
            (_, Some(file), ..) => DependencyDef::Local {
                path: cx.base_dir.join(file),
                export,
                inherit,
            },
            (_, _, Some(url), _) => DependencyDef::Http {
                url,
                digest: table.digest.ok_or_else(|| ManifestError::MissingKey {
                    path: join(path, "digest"),
                    location,
                })?,
                export,
                inherit,
            },
            (_, _, _, component) => {
                let component = component.unwrap_or_default();
                cx.references.push(ComponentReference {
                    depender: depender.to_string(),
                    path: join(path, "component"),
                    location,
                    component: component.clone(),
                });
                DependencyDef::Component {
                    component,
                    export,
                    inherit,
                }
            }
        },
    )
}
