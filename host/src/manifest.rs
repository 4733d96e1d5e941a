//! The application manifest: loading and validating `spin.toml`.
//!
//! This module owns the host's model of a Spin application manifest
//! (`spin_manifest_version = 2`) and nothing else: it parses the TOML, checks
//! it with the rules Spin applies when it loads an app (kebab-case component
//! ids, snake_case variable names, unknown keys rejected, triggers that refer
//! to defined components, variables that are `required` or have a `default`,
//! ...) and resolves file paths against the directory holding the manifest.
//! It does not touch wasmtime; the runtime, the router and `fbposts build`
//! consume the [`AppManifest`] it produces.
//!
//! Every error names the TOML path (`component.api.build.command`) and the
//! line/column it comes from. Manifest features this host cannot honour
//! (remote component sources, non-HTTP triggers, file mounts, ...) are
//! rejected with [`ManifestError::Unsupported`] rather than silently ignored.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;
use toml::de::{DeTable, DeValue};

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
    /// The `[component.<id>]` tables, by id.
    pub components: BTreeMap<String, ComponentDef>,
    /// Component ids in the order they appear in the manifest (the order
    /// `spin build` uses).
    pub component_order: Vec<String>,
    /// The directory containing `spin.toml`; relative paths resolve against it.
    pub base_dir: PathBuf,
}

/// An application variable (`[variables] name = { ... }`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VariableDef {
    /// The value used when no provider supplies one. Absent iff `required`.
    pub default: Option<String>,
    /// A value must be supplied at runtime.
    pub required: bool,
    /// The value is sensitive and should not be logged.
    pub secret: bool,
    /// Human-readable description.
    pub description: Option<String>,
}

/// One `[[trigger.http]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpTrigger {
    /// The optional trigger `id`.
    pub id: Option<String>,
    /// Where the trigger is mounted.
    pub route: HttpRoute,
    /// The id of the component handling requests (always a defined component).
    pub component: String,
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

/// A `[component.<id>]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentDef {
    /// The component id (kebab-case).
    pub id: String,
    /// The Wasm file, resolved against the manifest directory.
    pub source: PathBuf,
    /// `allowed_outbound_hosts`, as written (may contain `{{ variable }}` templates).
    pub allowed_outbound_hosts: Vec<String>,
    /// Key-value store labels the component may open.
    pub key_value_stores: Vec<String>,
    /// Component variables: name to template (`"{{ app_var }}"` or literal).
    pub variables: BTreeMap<String, String>,
    /// Environment variables for the guest.
    pub environment: BTreeMap<String, String>,
    /// `[component.<id>.build]`, if any.
    pub build: Option<BuildDef>,
    /// `[component.<id>.dependencies]`: import name to how it is satisfied.
    pub dependencies: BTreeMap<String, DependencyDef>,
    /// Human-readable description.
    pub description: Option<String>,
}

/// A component's `build` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildDef {
    /// Commands to run in order (Spin allows one string or an array of strings).
    pub command: Vec<String>,
    /// Working directory, relative to the manifest directory (checked to be relative).
    pub workdir: Option<PathBuf>,
    /// `spin watch` globs, relative to the working directory.
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

/// A 1-based position in the manifest text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// Why a manifest could not be loaded. `path` fields are TOML paths such as
/// `component.api.build.command`.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file could not be read.
    #[error("cannot read manifest {}: {source}", path.display())]
    Read {
        /// The file (or directory) that could not be read.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The text is not valid TOML (the message carries line and column).
    #[error("the manifest is not valid TOML: {0}")]
    Syntax(Box<toml::de::Error>),
    /// `spin_manifest_version` is not 2.
    #[error(
        "`spin_manifest_version` at {location} is {found}, but only version 2 manifests are supported (`spin_manifest_version = 2`)"
    )]
    UnsupportedVersion {
        /// The value as written.
        found: String,
        /// Where it is.
        location: Location,
    },
    /// A required key is missing.
    #[error("missing required key `{path}` (in the table at {location})")]
    MissingKey {
        /// The missing key's full path.
        path: String,
        /// Where the enclosing table starts.
        location: Location,
    },
    /// A key the schema does not have (typo?).
    #[error("unknown key `{path}` at {location}; expected one of {expected}")]
    UnknownKey {
        /// The unexpected key's full path.
        path: String,
        /// Where the key is.
        location: Location,
        /// The keys allowed in that table.
        expected: String,
    },
    /// A value of the wrong TOML type.
    #[error("`{path}` at {location} must be {expected}, found {found}")]
    WrongType {
        /// The value's path.
        path: String,
        /// Where it is.
        location: Location,
        /// What the schema wants.
        expected: &'static str,
        /// The TOML type found.
        found: &'static str,
    },
    /// An id or name breaking Spin's naming rules.
    #[error("invalid {what} {value:?} at `{path}` ({location}): {reason}")]
    InvalidName {
        /// Kind of name ("component id", "variable name", ...).
        what: &'static str,
        /// The name as written.
        value: String,
        /// Where it is used.
        path: String,
        /// Where it is.
        location: Location,
        /// The rule it breaks.
        reason: String,
    },
    /// A value that is well-typed but not acceptable.
    #[error("invalid `{path}` at {location}: {message}")]
    InvalidValue {
        /// The value's path.
        path: String,
        /// Where it is.
        location: Location,
        /// What is wrong.
        message: String,
    },
    /// A reference to a component id that has no `[component.<id>]` table.
    #[error(
        "`{path}` at {location} refers to component `{component}`, which is not defined (defined components: {defined})"
    )]
    UnknownComponent {
        /// Where the reference is.
        path: String,
        /// Where it is.
        location: Location,
        /// The missing id.
        component: String,
        /// The ids that are defined.
        defined: String,
    },
    /// A valid Spin feature this host does not implement.
    #[error("`{path}` at {location}: {what} is not supported by fbposts")]
    Unsupported {
        /// The feature's path.
        path: String,
        /// Where it is.
        location: Location,
        /// The feature, and what to do instead.
        what: String,
    },
}

type Res<T> = Result<T, ManifestError>;
type Key<'i> = Spanned<Cow<'i, str>>;
type Val<'i> = Spanned<DeValue<'i>>;

impl AppManifest {
    /// Reads and validates a manifest file. `path` may also be a directory
    /// containing `spin.toml`. `base_dir` becomes the file's (canonical) parent.
    pub fn from_file(path: &Path) -> Result<Self, ManifestError> {
        let file = if path.is_dir() {
            path.join("spin.toml")
        } else {
            path.to_path_buf()
        };
        let text = std::fs::read_to_string(&file).map_err(|source| ManifestError::Read {
            path: file.clone(),
            source,
        })?;
        let parent = match file.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let base_dir = parent
            .canonicalize()
            .map_err(|source| ManifestError::Read {
                path: parent.clone(),
                source,
            })?;
        Self::parse(&text, &base_dir)
    }

    /// Parses and validates manifest text; relative paths resolve against `base_dir`.
    pub fn parse(toml: &str, base_dir: &Path) -> Result<Self, ManifestError> {
        let root = DeTable::parse(toml).map_err(|e| ManifestError::Syntax(Box::new(e)))?;
        let parser = Parser {
            src: toml,
            base_dir,
        };
        parser.manifest(root.get_ref(), root.span())
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

// ---------------------------------------------------------------------------
// Naming rules (Spin's `KebabId` / `SnakeId` / `LowerSnakeId`).

/// Checks an identifier made of `delim`-separated words, each starting with an
/// ASCII letter, containing only ASCII letters and digits, and either all
/// lowercase or all uppercase (`lower_only`: lowercase only).
fn check_words(id: &str, delim: char, lower_only: bool) -> Result<(), String> {
    if id.is_empty() {
        return Err("must not be empty".into());
    }
    let other = if delim == '-' { '_' } else { '-' };
    if id.contains(other) {
        return Err(format!(
            "words must be separated with '{delim}', not '{other}'"
        ));
    }
    for word in id.split(delim) {
        let mut chars = word.chars();
        let Some(first) = chars.next() else {
            return Err(format!(
                "must not start or end with '{delim}' or contain '{delim}{delim}'"
            ));
        };
        if !first.is_ascii_alphabetic() {
            return Err(format!(
                "each '{delim}'-separated word must start with an ASCII letter; got {first:?}"
            ));
        }
        let upper = first.is_ascii_uppercase();
        for c in chars {
            if c.is_ascii_digit() {
                continue;
            }
            if !c.is_ascii_alphanumeric() {
                return Err(format!(
                    "may only contain ASCII letters, digits and '{delim}'; got {c:?}"
                ));
            }
            if c.is_ascii_uppercase() != upper {
                return Err(format!(
                    "each word must be all lowercase or all UPPERCASE; got {word:?}"
                ));
            }
        }
        if lower_only && upper {
            return Err("must be all lowercase".into());
        }
    }
    Ok(())
}

/// Spin component ids: kebab-case (`my-component`).
fn check_component_id(id: &str) -> Result<(), String> {
    check_words(id, '-', false)
}

/// Spin variable names: lower snake_case (`api_key`).
fn check_variable_name(name: &str) -> Result<(), String> {
    check_words(name, '_', true)
}

/// Key-value store labels: kebab-case or snake_case.
fn check_store_label(label: &str) -> Result<(), String> {
    check_words(label, '-', false)
        .or_else(|_| check_words(label, '_', false))
        .map_err(|_| "must be kebab-case or snake_case (e.g. `default`, `my-store`)".into())
}

/// A dependency name: a plain kebab-case name, or a package reference
/// `namespace:package[/interface][@version]`. Returns whether it is a package
/// reference, and whether that names an interface.
fn check_dependency_name(name: &str) -> Result<(bool, bool), String> {
    if !name.contains([':', '/']) {
        return check_words(name, '-', false).map(|()| (false, false));
    }
    let (unversioned, version) = match name.split_once('@') {
        Some((n, v)) => (n, Some(v)),
        None => (name, None),
    };
    if let Some(v) = version {
        let core = v.split(['-', '+']).next().unwrap_or_default();
        let parts: Vec<&str> = core.split('.').collect();
        if parts.len() != 3
            || parts
                .iter()
                .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(format!("version {v:?} is not a semantic version"));
        }
    }
    let (package, interface) = match unversioned.split_once('/') {
        Some((p, i)) => (p, Some(i)),
        None => (unversioned, None),
    };
    let Some((namespace, pkg)) = package.split_once(':') else {
        return Err("package names must be `namespace:name`".into());
    };
    for (what, part) in [("namespace", namespace), ("package name", pkg)]
        .into_iter()
        .chain(interface.map(|i| ("interface name", i)))
    {
        check_words(part, '-', false).map_err(|e| format!("{what} {part:?} {e}"))?;
    }
    Ok((true, interface.is_some()))
}

/// The variable names referenced by a `{{ name }}` template.
fn template_references(template: &str) -> Result<Vec<&str>, String> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err("unmatched `{{` in template".into());
        };
        names.push(after[..end].trim());
        rest = &after[end + 2..];
    }
    Ok(names)
}

// ---------------------------------------------------------------------------
// The TOML walker.

struct Parser<'s> {
    src: &'s str,
    base_dir: &'s Path,
}

/// Appends a key to a TOML path, quoting it when it is not a bare key.
fn join(path: &str, key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    let key = if bare {
        key.to_string()
    } else {
        format!("{key:?}")
    };
    if path.is_empty() {
        key
    } else {
        format!("{path}.{key}")
    }
}

/// A table's entries in document order (the parser keeps them sorted by key).
fn entries<'t, 'i>(table: &'t DeTable<'i>) -> Vec<(&'t Key<'i>, &'t Val<'i>)> {
    let mut v: Vec<_> = table.iter().collect();
    v.sort_by_key(|(k, _)| k.span().start);
    v
}

fn backticked(keys: &[&str]) -> String {
    keys.iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

const ROOT_KEYS: &[&str] = &[
    "spin_manifest_version",
    "application",
    "variables",
    "trigger",
    "component",
];
const APPLICATION_KEYS: &[&str] = &[
    "name",
    "version",
    "description",
    "authors",
    "targets",
    "trigger",
    "tool",
];
const VARIABLE_KEYS: &[&str] = &["description", "required", "default", "secret"];
const HTTP_TRIGGER_KEYS: &[&str] = &[
    "id",
    "component",
    "route",
    "executor",
    "static_response",
    "components",
    "dependencies",
];
const COMPONENT_KEYS: &[&str] = &[
    "source",
    "description",
    "variables",
    "environment",
    "files",
    "exclude_files",
    "allowed_http_hosts",
    "allowed_outbound_hosts",
    "key_value_stores",
    "sqlite_databases",
    "ai_models",
    "targets",
    "build",
    "tool",
    "dependencies_inherit_configuration",
    "dependencies",
    "profile",
];
const BUILD_KEYS: &[&str] = &["command", "workdir", "watch"];
const PROFILE_KEYS: &[&str] = &["source", "environment", "dependencies", "build"];
const PROFILE_BUILD_KEYS: &[&str] = &["command"];

/// Locations of references checked once every table has been read.
struct Pending {
    /// (path, location, component id) of trigger `component` references.
    trigger_refs: Vec<(String, Location, String)>,
    /// (depender, path, location, component id) of `{ component = ... }` dependencies.
    dependency_refs: Vec<(String, String, Location, String)>,
    /// (path, location, template) of strings that may reference app variables.
    templates: Vec<(String, Location, String)>,
}

impl<'s> Parser<'s> {
    fn loc(&self, span: Range<usize>) -> Location {
        let mut offset = span.start.min(self.src.len());
        while !self.src.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &self.src[..offset];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        Location { line, column }
    }

    fn unknown_keys(&self, table: &DeTable<'_>, path: &str, allowed: &[&str]) -> Res<()> {
        for (key, _) in entries(table) {
            if !allowed.contains(&key.get_ref().as_ref()) {
                return Err(ManifestError::UnknownKey {
                    path: join(path, key.get_ref()),
                    location: self.loc(key.span()),
                    expected: backticked(allowed),
                });
            }
        }
        Ok(())
    }

    fn wrong_type(&self, v: &Val<'_>, path: &str, expected: &'static str) -> ManifestError {
        ManifestError::WrongType {
            path: path.to_string(),
            location: self.loc(v.span()),
            expected,
            found: v.get_ref().type_str(),
        }
    }

    fn missing(&self, table_span: Range<usize>, path: &str) -> ManifestError {
        ManifestError::MissingKey {
            path: path.to_string(),
            location: self.loc(table_span),
        }
    }

    fn unsupported(
        &self,
        span: Range<usize>,
        path: &str,
        what: impl Into<String>,
    ) -> ManifestError {
        ManifestError::Unsupported {
            path: path.to_string(),
            location: self.loc(span),
            what: what.into(),
        }
    }

    fn invalid(&self, span: Range<usize>, path: &str, message: impl Into<String>) -> ManifestError {
        ManifestError::InvalidValue {
            path: path.to_string(),
            location: self.loc(span),
            message: message.into(),
        }
    }

    fn bad_name(
        &self,
        key: &Key<'_>,
        path: &str,
        what: &'static str,
        reason: String,
    ) -> ManifestError {
        ManifestError::InvalidName {
            what,
            value: key.get_ref().to_string(),
            path: path.to_string(),
            location: self.loc(key.span()),
            reason,
        }
    }

    fn table<'t, 'i>(&self, v: &'t Val<'i>, path: &str) -> Res<&'t DeTable<'i>> {
        v.get_ref()
            .as_table()
            .ok_or_else(|| self.wrong_type(v, path, "a table"))
    }

    fn string(&self, v: &Val<'_>, path: &str) -> Res<String> {
        v.get_ref()
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| self.wrong_type(v, path, "a string"))
    }

    fn boolean(&self, v: &Val<'_>, path: &str) -> Res<bool> {
        v.get_ref()
            .as_bool()
            .ok_or_else(|| self.wrong_type(v, path, "a boolean (`true` or `false`)"))
    }

    fn array<'t, 'i>(&self, v: &'t Val<'i>, path: &str) -> Res<&'t [Val<'i>]> {
        v.get_ref()
            .as_array()
            .map(|a| &a[..])
            .ok_or_else(|| self.wrong_type(v, path, "an array"))
    }

    /// An array of strings, with each element's location.
    fn string_list(&self, v: &Val<'_>, path: &str) -> Res<Vec<(String, Location)>> {
        self.array(v, path)?
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let s = self.string(item, &format!("{path}[{i}]"))?;
                Ok((s, self.loc(item.span())))
            })
            .collect()
    }

    fn opt_string(&self, table: &DeTable<'_>, path: &str, key: &str) -> Res<Option<String>> {
        table
            .get(key)
            .map(|v| self.string(v, &join(path, key)))
            .transpose()
    }

    fn opt_bool(&self, table: &DeTable<'_>, path: &str, key: &str) -> Res<Option<bool>> {
        table
            .get(key)
            .map(|v| self.boolean(v, &join(path, key)))
            .transpose()
    }

    fn opt_list(&self, table: &DeTable<'_>, path: &str, key: &str) -> Res<Vec<(String, Location)>> {
        match table.get(key) {
            Some(v) => self.string_list(v, &join(path, key)),
            None => Ok(Vec::new()),
        }
    }

    /// A table of strings (`environment`, `variables`), in document order.
    fn string_table<'t, 'i>(
        &self,
        v: &'t Val<'i>,
        path: &str,
    ) -> Res<Vec<(&'t Key<'i>, String, Location)>> {
        entries(self.table(v, path)?)
            .into_iter()
            .map(|(k, v)| {
                let s = self.string(v, &join(path, k.get_ref()))?;
                Ok((k, s, self.loc(v.span())))
            })
            .collect()
    }

    /// Rejects a feature when the value is present and not empty.
    fn reject_if_nonempty(
        &self,
        table: &DeTable<'_>,
        path: &str,
        key: &str,
        what: &str,
    ) -> Res<()> {
        let Some(v) = table.get(key) else {
            return Ok(());
        };
        let path = join(path, key);
        let empty = match v.get_ref() {
            DeValue::Array(a) => a.is_empty(),
            DeValue::Table(t) => t.is_empty(),
            _ => return Err(self.wrong_type(v, &path, "an array")),
        };
        if empty {
            Ok(())
        } else {
            Err(self.unsupported(v.span(), &path, what))
        }
    }

    fn manifest(&self, root: &DeTable<'_>, root_span: Range<usize>) -> Res<AppManifest> {
        // The version first, so an old manifest gets the version message
        // rather than a list of unknown keys.
        let Some(version) = root.get("spin_manifest_version") else {
            return Err(self.missing(root_span, "spin_manifest_version"));
        };
        let is_two = match version.get_ref() {
            DeValue::Integer(i) => {
                i64::from_str_radix(&i.as_str().replace('_', ""), i.radix()) == Ok(MANIFEST_VERSION)
            }
            _ => false,
        };
        if !is_two {
            return Err(ManifestError::UnsupportedVersion {
                found: self.src[version.span()].to_string(),
                location: self.loc(version.span()),
            });
        }
        self.unknown_keys(root, "", ROOT_KEYS)?;

        let application = root
            .get("application")
            .ok_or_else(|| self.missing(root_span.clone(), "application"))?;
        let (name, version) = self.application(application)?;

        let mut pending = Pending {
            trigger_refs: Vec::new(),
            dependency_refs: Vec::new(),
            templates: Vec::new(),
        };

        let variables = match root.get("variables") {
            Some(v) => self.variables(v)?,
            None => BTreeMap::new(),
        };

        let mut components = BTreeMap::new();
        let mut component_order = Vec::new();
        if let Some(v) = root.get("component") {
            for (key, value) in entries(self.table(v, "component")?) {
                let path = join("component", key.get_ref());
                check_component_id(key.get_ref())
                    .map_err(|r| self.bad_name(key, &path, "component id", r))?;
                let component = self.component(key.get_ref(), value, &path, &mut pending)?;
                component_order.push(component.id.clone());
                components.insert(component.id.clone(), component);
            }
        }

        let triggers = root
            .get("trigger")
            .ok_or_else(|| self.missing(root_span, "trigger"))?;
        let http_triggers = self.triggers(triggers, &mut pending)?;

        // Cross-references.
        let defined = || {
            if component_order.is_empty() {
                "none".to_string()
            } else {
                component_order.join(", ")
            }
        };
        for (path, location, component) in pending.trigger_refs {
            if !components.contains_key(&component) {
                return Err(ManifestError::UnknownComponent {
                    path,
                    location,
                    component,
                    defined: defined(),
                });
            }
        }
        for (depender, path, location, component) in pending.dependency_refs {
            let Some(dep) = components.get(&component) else {
                return Err(ManifestError::UnknownComponent {
                    path,
                    location,
                    component,
                    defined: defined(),
                });
            };
            let surprises = dependency_surprises(dep);
            if !surprises.is_empty() {
                return Err(ManifestError::InvalidValue {
                    path,
                    location,
                    message: format!(
                        "dependencies may not have their own resources or permissions: component `{component}` cannot be used as a dependency of `{depender}` because it specifies {}",
                        surprises.join(", ")
                    ),
                });
            }
        }
        for (path, location, template) in pending.templates {
            let names =
                template_references(&template).map_err(|message| ManifestError::InvalidValue {
                    path: path.clone(),
                    location,
                    message,
                })?;
            if let Some(unknown) = names.iter().find(|n| !variables.contains_key(**n)) {
                return Err(ManifestError::InvalidValue {
                    path,
                    location,
                    message: format!(
                        "template refers to variable `{unknown}`, which is not defined in `[variables]`"
                    ),
                });
            }
        }

        Ok(AppManifest {
            name,
            version,
            variables,
            http_triggers,
            components,
            component_order,
            base_dir: self.base_dir.to_path_buf(),
        })
    }

    /// `[application]`: the name and version (other keys are checked, not kept).
    fn application(&self, v: &Val<'_>) -> Res<(String, Option<String>)> {
        let path = "application";
        let table = self.table(v, path)?;
        self.unknown_keys(table, path, APPLICATION_KEYS)?;
        let name = match table.get("name") {
            Some(n) => self.string(n, "application.name")?,
            None => return Err(self.missing(v.span(), "application.name")),
        };
        let version = self
            .opt_string(table, path, "version")?
            .filter(|s| !s.is_empty());
        self.opt_string(table, path, "description")?;
        self.opt_list(table, path, "authors")?;
        // Deployment targets only matter to `spin build`'s environment checks.
        if let Some(t) = table.get("targets") {
            self.array(t, "application.targets")?;
        }
        // `[application.tool.*]` is for other tools; Spin ignores it too.
        if let Some(t) = table.get("tool") {
            self.table(t, "application.tool")?;
        }
        if let Some(t) = table.get("trigger") {
            for (kind, cfg) in entries(self.table(t, "application.trigger")?) {
                let cpath = join("application.trigger", kind.get_ref());
                if kind.get_ref() != "http" {
                    return Err(self.unsupported(
                        kind.span(),
                        &cpath,
                        format!(
                            "`{}` trigger settings (only HTTP triggers are supported)",
                            kind.get_ref()
                        ),
                    ));
                }
                let cfg_table = self.table(cfg, &cpath)?;
                self.unknown_keys(cfg_table, &cpath, &["base"])?;
                if let Some(base) = cfg_table.get("base") {
                    let bpath = join(&cpath, "base");
                    if self.string(base, &bpath)? != "/" {
                        return Err(self.unsupported(
                            base.span(),
                            &bpath,
                            "the deprecated HTTP `base`: prepend it to each `[[trigger.http]]` route instead",
                        ));
                    }
                    tracing::warn!(
                        "spin.toml sets the deprecated `application.trigger.http.base` to its default \"/\"; remove it"
                    );
                }
            }
        }
        Ok((name, version))
    }

    fn variables(&self, v: &Val<'_>) -> Res<BTreeMap<String, VariableDef>> {
        let mut out = BTreeMap::new();
        for (key, value) in entries(self.table(v, "variables")?) {
            let path = join("variables", key.get_ref());
            check_variable_name(key.get_ref())
                .map_err(|r| self.bad_name(key, &path, "variable name", r))?;
            let table = self.table(value, &path)?;
            self.unknown_keys(table, &path, VARIABLE_KEYS)?;
            let def = VariableDef {
                default: self.opt_string(table, &path, "default")?,
                required: self.opt_bool(table, &path, "required")?.unwrap_or(false),
                secret: self.opt_bool(table, &path, "secret")?.unwrap_or(false),
                description: self.opt_string(table, &path, "description")?,
            };
            if def.required == def.default.is_some() {
                return Err(self.invalid(
                    value.span(),
                    &path,
                    "a variable must either be `required = true` or have a `default` (exactly one of the two)",
                ));
            }
            out.insert(key.get_ref().to_string(), def);
        }
        Ok(out)
    }

    fn triggers(&self, v: &Val<'_>, pending: &mut Pending) -> Res<Vec<HttpTrigger>> {
        let mut out = Vec::new();
        for (kind, list) in entries(self.table(v, "trigger")?) {
            let kpath = join("trigger", kind.get_ref());
            if kind.get_ref() != "http" {
                return Err(self.unsupported(
                    kind.span(),
                    &kpath,
                    format!(
                        "`{}` triggers (only `[[trigger.http]]` is supported)",
                        kind.get_ref()
                    ),
                ));
            }
            for (i, item) in self.array(list, &kpath)?.iter().enumerate() {
                out.push(self.http_trigger(item, &format!("{kpath}[{i}]"), pending)?);
            }
        }
        Ok(out)
    }

    fn http_trigger(&self, v: &Val<'_>, path: &str, pending: &mut Pending) -> Res<HttpTrigger> {
        let table = self.table(v, path)?;
        self.unknown_keys(table, path, HTTP_TRIGGER_KEYS)?;
        let id = self.opt_string(table, path, "id")?;

        let route_path = join(path, "route");
        let route = match table.get("route") {
            None => return Err(self.missing(v.span(), &route_path)),
            Some(r) => match r.get_ref() {
                DeValue::String(s) => HttpRoute::Path(s.to_string()),
                DeValue::Table(t) => {
                    self.unknown_keys(t, &route_path, &["private"])?;
                    let private = match t.get("private") {
                        Some(p) => self.boolean(p, &join(&route_path, "private"))?,
                        None => return Err(self.missing(r.span(), &join(&route_path, "private"))),
                    };
                    if !private {
                        return Err(self.invalid(
                            r.span(),
                            &route_path,
                            "a route must be a string pattern or `{ private = true }`",
                        ));
                    }
                    HttpRoute::Private
                }
                _ => {
                    return Err(self.wrong_type(
                        r,
                        &route_path,
                        "a string or `{ private = true }`",
                    ));
                }
            },
        };

        if let Some(s) = table.get("static_response") {
            return Err(self.unsupported(
                s.span(),
                &join(path, "static_response"),
                "`static_response` (routes answered by the host without a component)",
            ));
        }
        if let Some(e) = table.get("executor") {
            let epath = join(path, "executor");
            let et = self.table(e, &epath)?;
            let kind = match et.get("type") {
                Some(t) => self.string(t, &join(&epath, "type"))?,
                None => return Err(self.missing(e.span(), &join(&epath, "type"))),
            };
            match kind.as_str() {
                "http" | "spin" => self.unknown_keys(et, &epath, &["type"])?,
                "wagi" => {
                    return Err(self.unsupported(
                        e.span(),
                        &epath,
                        "the Wagi executor (`executor = { type = \"wagi\" }`)",
                    ));
                }
                other => {
                    return Err(self.invalid(
                        e.span(),
                        &join(&epath, "type"),
                        format!("unknown executor type {other:?} (expected \"http\" or \"wagi\")"),
                    ));
                }
            }
        }
        self.reject_if_nonempty(table, path, "components", "trigger-level `components`")?;
        self.reject_if_nonempty(table, path, "dependencies", "trigger-level `dependencies`")?;

        let cpath = join(path, "component");
        let component = match table.get("component") {
            None => {
                return Err(self.missing(v.span(), &cpath));
            }
            Some(c) => match c.get_ref() {
                DeValue::String(s) => {
                    check_component_id(s).map_err(|reason| ManifestError::InvalidName {
                        what: "component reference",
                        value: s.to_string(),
                        path: cpath.clone(),
                        location: self.loc(c.span()),
                        reason,
                    })?;
                    pending
                        .trigger_refs
                        .push((cpath.clone(), self.loc(c.span()), s.to_string()));
                    s.to_string()
                }
                DeValue::Table(_) => {
                    return Err(self.unsupported(
                        c.span(),
                        &cpath,
                        "an inline component (`component = { source = ... }`); define it as `[component.<id>]` and use `component = \"<id>\"`",
                    ));
                }
                _ => return Err(self.wrong_type(c, &cpath, "a component id string")),
            },
        };
        Ok(HttpTrigger {
            id,
            route,
            component,
        })
    }

    fn component(
        &self,
        id: &str,
        v: &Val<'_>,
        path: &str,
        pending: &mut Pending,
    ) -> Res<ComponentDef> {
        let table = self.table(v, path)?;
        self.unknown_keys(table, path, COMPONENT_KEYS)?;

        let spath = join(path, "source");
        let source = match table.get("source") {
            None => return Err(self.missing(v.span(), &spath)),
            Some(s) => match s.get_ref() {
                DeValue::String(p) => self.base_dir.join(p.as_ref()),
                DeValue::Table(t) if t.contains_key("url") => {
                    return Err(self.unsupported(
                        s.span(),
                        &spath,
                        "a remote component source (`{ url = ..., digest = ... }`); download the Wasm file and give its local path",
                    ));
                }
                DeValue::Table(t) if t.contains_key("package") || t.contains_key("registry") => {
                    return Err(self.unsupported(
                        s.span(),
                        &spath,
                        "a registry component source (`{ registry = ..., package = ..., version = ... }`); give a local Wasm file path",
                    ));
                }
                _ => return Err(self.wrong_type(s, &spath, "a path to a local Wasm file")),
            },
        };

        let description = self
            .opt_string(table, path, "description")?
            .filter(|d| !d.is_empty());

        let mut variables = BTreeMap::new();
        if let Some(vars) = table.get("variables") {
            let vpath = join(path, "variables");
            for (key, value, location) in self.string_table(vars, &vpath)? {
                let kpath = join(&vpath, key.get_ref());
                check_variable_name(key.get_ref())
                    .map_err(|r| self.bad_name(key, &kpath, "component variable name", r))?;
                pending.templates.push((kpath, location, value.clone()));
                variables.insert(key.get_ref().to_string(), value);
            }
        }

        let mut environment = BTreeMap::new();
        if let Some(env) = table.get("environment") {
            for (key, value, _) in self.string_table(env, &join(path, "environment"))? {
                environment.insert(key.get_ref().to_string(), value);
            }
        }

        self.reject_if_nonempty(
            table,
            path,
            "files",
            "`files` (mounting host files into the component)",
        )?;
        self.opt_list(table, path, "exclude_files")?;
        self.reject_if_nonempty(
            table,
            path,
            "allowed_http_hosts",
            "the deprecated `allowed_http_hosts`; use `allowed_outbound_hosts = [\"https://example.com\"]`",
        )?;
        self.reject_if_nonempty(
            table,
            path,
            "sqlite_databases",
            "`sqlite_databases` (Spin SQLite)",
        )?;
        self.reject_if_nonempty(table, path, "ai_models", "`ai_models` (Spin serverless AI)")?;

        let opath = join(path, "allowed_outbound_hosts");
        let mut allowed_outbound_hosts = Vec::new();
        for (i, (host, location)) in self
            .opt_list(table, path, "allowed_outbound_hosts")?
            .into_iter()
            .enumerate()
        {
            let hpath = format!("{opath}[{i}]");
            if host.contains("{{") {
                pending.templates.push((hpath, location, host.clone()));
            } else if !host.trim().contains("://") {
                return Err(ManifestError::InvalidValue {
                    path: hpath,
                    location,
                    message: format!(
                        "{host:?} does not contain a scheme; hosts must look like `<scheme>://<host>[:<port>]` (e.g. \"https://example.com\", \"*://*:*\")"
                    ),
                });
            }
            allowed_outbound_hosts.push(host);
        }

        let kpath = join(path, "key_value_stores");
        let mut key_value_stores = Vec::new();
        for (i, (label, location)) in self
            .opt_list(table, path, "key_value_stores")?
            .into_iter()
            .enumerate()
        {
            if let Err(reason) = check_store_label(&label) {
                return Err(ManifestError::InvalidName {
                    what: "key-value store label",
                    value: label,
                    path: format!("{kpath}[{i}]"),
                    location,
                    reason,
                });
            }
            key_value_stores.push(label);
        }

        if let Some(t) = table.get("targets") {
            self.array(t, &join(path, "targets"))?;
        }
        if let Some(t) = table.get("tool") {
            self.table(t, &join(path, "tool"))?;
        }

        let build = table
            .get("build")
            .map(|b| self.build(b, &join(path, "build")))
            .transpose()?;

        let inherit_all = self.opt_bool(table, path, "dependencies_inherit_configuration")?;
        let mut dependencies = BTreeMap::new();
        if let Some(deps) = table.get("dependencies") {
            let dpath = join(path, "dependencies");
            for (key, value) in entries(self.table(deps, &dpath)?) {
                let name = key.get_ref().as_ref();
                let npath = join(&dpath, name);
                let dep = self.dependency(id, key, value, &npath, pending)?;
                if inherit_all.is_some() && value_has_key(value, "inherit_configuration") {
                    return Err(self.invalid(
                        value.span(),
                        &npath,
                        format!(
                            "component `{id}` sets both `dependencies_inherit_configuration` and a per-dependency `inherit_configuration`; use one or the other"
                        ),
                    ));
                }
                dependencies.insert(name.to_string(), dep);
            }
        }
        if inherit_all == Some(true) {
            for dep in dependencies.values_mut() {
                set_inherit(dep, InheritConfig::All);
            }
        }

        if let Some(p) = table.get("profile") {
            self.profiles(p, &join(path, "profile"))?;
        }

        Ok(ComponentDef {
            id: id.to_string(),
            source,
            allowed_outbound_hosts,
            key_value_stores,
            variables,
            environment,
            build,
            dependencies,
            description,
        })
    }

    fn commands(&self, v: &Val<'_>, path: &str) -> Res<Vec<String>> {
        match v.get_ref() {
            DeValue::String(s) => Ok(vec![s.to_string()]),
            DeValue::Array(_) => Ok(self
                .string_list(v, path)?
                .into_iter()
                .map(|(s, _)| s)
                .collect()),
            _ => Err(self.wrong_type(v, path, "a command string or an array of command strings")),
        }
    }

    fn build(&self, v: &Val<'_>, path: &str) -> Res<BuildDef> {
        let table = self.table(v, path)?;
        self.unknown_keys(table, path, BUILD_KEYS)?;
        let command = match table.get("command") {
            Some(c) => self.commands(c, &join(path, "command"))?,
            None => return Err(self.missing(v.span(), &join(path, "command"))),
        };
        let workdir = match table.get("workdir") {
            Some(w) => {
                let wpath = join(path, "workdir");
                let dir = PathBuf::from(self.string(w, &wpath)?);
                if dir.has_root() {
                    return Err(self.invalid(
                        w.span(),
                        &wpath,
                        "the build workdir must be relative to the manifest directory",
                    ));
                }
                Some(dir)
            }
            None => None,
        };
        let watch = self
            .opt_list(table, path, "watch")?
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        Ok(BuildDef {
            command,
            workdir,
            watch,
        })
    }

    fn inherit(&self, table: &DeTable<'_>, path: &str) -> Res<InheritConfig> {
        let Some(v) = table.get("inherit_configuration") else {
            return Ok(InheritConfig::Nothing);
        };
        let ipath = join(path, "inherit_configuration");
        match v.get_ref() {
            DeValue::Boolean(true) => Ok(InheritConfig::All),
            DeValue::Boolean(false) => Ok(InheritConfig::Nothing),
            DeValue::Array(_) => Ok(InheritConfig::Only(
                self.string_list(v, &ipath)?
                    .into_iter()
                    .map(|(s, _)| s)
                    .collect(),
            )),
            _ => Err(self.wrong_type(
                v,
                &ipath,
                "`true`, `false` or an array of configuration keys",
            )),
        }
    }

    fn dependency(
        &self,
        depender: &str,
        key: &Key<'_>,
        v: &Val<'_>,
        path: &str,
        pending: &mut Pending,
    ) -> Res<DependencyDef> {
        let name = key.get_ref().as_ref();
        let (is_package, has_interface) = check_dependency_name(name)
            .map_err(|r| self.bad_name(key, path, "dependency name", r))?;

        let dep = match v.get_ref() {
            DeValue::String(version) => DependencyDef::Package {
                version: version.to_string(),
                registry: None,
                package: None,
                export: None,
                inherit: InheritConfig::Nothing,
            },
            DeValue::Table(t) => {
                let kinds: Vec<&str> = ["version", "path", "url", "component"]
                    .into_iter()
                    .filter(|k| t.contains_key(*k))
                    .collect();
                if kinds.len() != 1 {
                    return Err(self.invalid(
                        v.span(),
                        path,
                        "a dependency table needs exactly one of `version` (registry package), `path` (local Wasm file), `url` (download) or `component` (another component of this app)",
                    ));
                }
                let export = self.opt_string(t, path, "export")?;
                let inherit = self.inherit(t, path)?;
                match kinds[0] {
                    "version" => {
                        self.unknown_keys(
                            t,
                            path,
                            &[
                                "version",
                                "registry",
                                "package",
                                "export",
                                "inherit_configuration",
                            ],
                        )?;
                        DependencyDef::Package {
                            version: self.opt_string(t, path, "version")?.unwrap_or_default(),
                            registry: self.opt_string(t, path, "registry")?,
                            package: self.opt_string(t, path, "package")?,
                            export,
                            inherit,
                        }
                    }
                    "path" => {
                        self.unknown_keys(t, path, &["path", "export", "inherit_configuration"])?;
                        let p = self.opt_string(t, path, "path")?.unwrap_or_default();
                        DependencyDef::Local {
                            path: self.base_dir.join(p),
                            export,
                            inherit,
                        }
                    }
                    "url" => {
                        self.unknown_keys(
                            t,
                            path,
                            &["url", "digest", "export", "inherit_configuration"],
                        )?;
                        let digest = self
                            .opt_string(t, path, "digest")?
                            .ok_or_else(|| self.missing(v.span(), &join(path, "digest")))?;
                        DependencyDef::Http {
                            url: self.opt_string(t, path, "url")?.unwrap_or_default(),
                            digest,
                            export,
                            inherit,
                        }
                    }
                    _ => {
                        self.unknown_keys(
                            t,
                            path,
                            &["component", "export", "inherit_configuration"],
                        )?;
                        let cv = t
                            .get("component")
                            .ok_or_else(|| self.missing(v.span(), path))?;
                        let cpath = join(path, "component");
                        let component = self.string(cv, &cpath)?;
                        pending.dependency_refs.push((
                            depender.to_string(),
                            cpath,
                            self.loc(cv.span()),
                            component.clone(),
                        ));
                        DependencyDef::Component {
                            component,
                            export,
                            inherit,
                        }
                    }
                }
            }
            _ => {
                return Err(self.wrong_type(
                    v,
                    path,
                    "a version requirement string or a dependency table",
                ));
            }
        };

        // Spin's extra rules on dependency names.
        if !is_package && matches!(&dep, DependencyDef::Package { package: None, .. }) {
            return Err(self.invalid(
                v.span(),
                path,
                format!(
                    "dependency {name:?} must specify a package name (`package = \"ns:name\"`)"
                ),
            ));
        }
        if is_package
            && !has_interface
            && matches!(
                &dep,
                DependencyDef::Package {
                    export: Some(_),
                    ..
                } | DependencyDef::Local {
                    export: Some(_),
                    ..
                }
            )
        {
            return Err(self.invalid(
                v.span(),
                path,
                format!(
                    "using an export to satisfy the package dependency {name:?} is not permitted"
                ),
            ));
        }
        Ok(dep)
    }

    /// `[component.<id>.profile.<name>]`: checked for typos, otherwise unused
    /// (this host always runs the default profile, like `spin up` without `--profile`).
    fn profiles(&self, v: &Val<'_>, path: &str) -> Res<()> {
        for (name, profile) in entries(self.table(v, path)?) {
            let ppath = join(path, name.get_ref());
            let table = self.table(profile, &ppath)?;
            self.unknown_keys(table, &ppath, PROFILE_KEYS)?;
            if let Some(b) = table.get("build") {
                let bpath = join(&ppath, "build");
                let bt = self.table(b, &bpath)?;
                self.unknown_keys(bt, &bpath, PROFILE_BUILD_KEYS)?;
                if let Some(c) = bt.get("command") {
                    self.commands(c, &join(&bpath, "command"))?;
                }
            }
            if let Some(e) = table.get("environment") {
                self.string_table(e, &join(&ppath, "environment"))?;
            }
            if let Some(d) = table.get("dependencies") {
                self.table(d, &join(&ppath, "dependencies"))?;
            }
            if table.contains_key("source") || table.contains_key("build") {
                tracing::debug!(
                    "ignoring build profile `{ppath}`: fbposts uses the default profile"
                );
            }
        }
        Ok(())
    }
}

fn value_has_key(v: &Val<'_>, key: &str) -> bool {
    v.get_ref().as_table().is_some_and(|t| t.contains_key(key))
}

fn set_inherit(dep: &mut DependencyDef, value: InheritConfig) {
    match dep {
        DependencyDef::Package { inherit, .. }
        | DependencyDef::Local { inherit, .. }
        | DependencyDef::Http { inherit, .. }
        | DependencyDef::Component { inherit, .. } => *inherit = value,
    }
}

/// What a component used as a `{ component = ... }` dependency may not have:
/// composed dependencies cannot carry resources or permissions of their own.
fn dependency_surprises(c: &ComponentDef) -> Vec<&'static str> {
    let mut out = Vec::new();
    if !c.allowed_outbound_hosts.is_empty() {
        out.push("allowed_outbound_hosts");
    }
    if !c.dependencies.is_empty() {
        out.push("dependencies");
    }
    if !c.environment.is_empty() {
        out.push("environment");
    }
    if !c.key_value_stores.is_empty() {
        out.push("key_value_stores");
    }
    if !c.variables.is_empty() {
        out.push("variables");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const REALISTIC: &str = r#"
spin_manifest_version = 2

[application]
name = "facebook-posts"
version = "0.1.0"
description = "Analyzes posts"
authors = ["Someone <someone@example.com>"]

[application.tool.spin-test]
source = "tests.wasm"

[variables]
model_name = { default = "tiny" }
upstream = { default = "https://upstream.example.com" }
api_token = { required = true, secret = true, description = "Upstream token" }

[[trigger.http]]
route = "/api/analyze"
component = "analyze"

[[trigger.http]]
id = "everything-else"
route = "/..."
component = "static-files"

[[trigger.http]]
route = { private = true }
component = "internal"

[component.analyze]
source = "target/wasm32-wasip2/wasm-release/analyze.wasm"
description = "The analyzer"
allowed_outbound_hosts = ["https://api.example.com", "{{ upstream }}"]
key_value_stores = ["default", "cache_store"]
environment = { RUST_LOG = "info" }
dependencies_inherit_configuration = true

[component.analyze.variables]
model = "{{ model_name }}"
token = "Bearer {{ api_token }}"
literal = "plain"

[component.analyze.build]
command = ["cargo build --target wasm32-wasip2 --profile wasm-release", "echo done"]
workdir = "components/analyze"
watch = ["src/**/*.rs", "Cargo.toml"]

[component.analyze.dependencies]
"fbposts:core/scoring" = { path = "deps/core.wasm", export = "fbposts:core/scoring@0.1.0" }
"fbposts:helpers" = { component = "helper" }
"wasi:nn@0.2.0" = "^0.2"
"my-dep" = { version = "1.0.0", package = "acme:dep", registry = "example.com" }
"acme:remote/thing" = { url = "https://example.com/x.wasm", digest = "sha256:abcd" }

[component.static-files]
source = "static.wasm"
key_value_stores = ["default"]
build.command = "make static"

[component.internal]
source = "/abs/internal.wasm"

[component.helper]
source = "helper.wasm"

[component.helper.profile.debug]
source = "helper-debug.wasm"
build.command = "make debug"
"#;

    fn parse(text: &str) -> Result<AppManifest, ManifestError> {
        AppManifest::parse(text, Path::new("/app"))
    }

    /// A minimal valid manifest with `extra` appended.
    fn with(extra: &str) -> String {
        format!(
            "spin_manifest_version = 2\n[application]\nname = \"t\"\n[[trigger.http]]\nroute = \"/\"\ncomponent = \"a\"\n[component.a]\nsource = \"a.wasm\"\n{extra}"
        )
    }

    fn err(text: &str) -> ManifestError {
        match parse(text) {
            Ok(m) => panic!("expected an error, got {m:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn parses_realistic_manifest() {
        let m = parse(REALISTIC).unwrap();
        assert_eq!(m.name, "facebook-posts");
        assert_eq!(m.version.as_deref(), Some("0.1.0"));
        assert_eq!(m.base_dir, Path::new("/app"));

        assert_eq!(
            m.variables["model_name"],
            VariableDef {
                default: Some("tiny".into()),
                required: false,
                secret: false,
                description: None
            }
        );
        let token = &m.variables["api_token"];
        assert!(token.required && token.secret && token.default.is_none());
        assert_eq!(token.description.as_deref(), Some("Upstream token"));

        assert_eq!(
            m.http_triggers,
            vec![
                HttpTrigger {
                    id: None,
                    route: HttpRoute::Path("/api/analyze".into()),
                    component: "analyze".into()
                },
                HttpTrigger {
                    id: Some("everything-else".into()),
                    route: HttpRoute::Path("/...".into()),
                    component: "static-files".into()
                },
                HttpTrigger {
                    id: None,
                    route: HttpRoute::Private,
                    component: "internal".into()
                },
            ]
        );

        assert_eq!(
            m.component_order,
            ["analyze", "static-files", "internal", "helper"]
        );
        let a = &m.components["analyze"];
        assert_eq!(a.id, "analyze");
        assert_eq!(
            a.source,
            Path::new("/app/target/wasm32-wasip2/wasm-release/analyze.wasm")
        );
        assert_eq!(a.description.as_deref(), Some("The analyzer"));
        assert_eq!(
            a.allowed_outbound_hosts,
            ["https://api.example.com", "{{ upstream }}"]
        );
        assert_eq!(a.key_value_stores, ["default", "cache_store"]);
        assert_eq!(a.environment["RUST_LOG"], "info");
        assert_eq!(a.variables["model"], "{{ model_name }}");
        assert_eq!(a.variables["token"], "Bearer {{ api_token }}");
        assert_eq!(a.variables["literal"], "plain");

        let b = a.build.as_ref().unwrap();
        assert_eq!(b.command.len(), 2);
        assert_eq!(b.workdir.as_deref(), Some(Path::new("components/analyze")));
        assert_eq!(b.watch, ["src/**/*.rs", "Cargo.toml"]);
        assert_eq!(
            b.workdir_in(&m.base_dir),
            Path::new("/app/components/analyze")
        );

        // dependencies_inherit_configuration = true is folded into each dependency.
        assert_eq!(
            a.dependencies["fbposts:core/scoring"],
            DependencyDef::Local {
                path: "/app/deps/core.wasm".into(),
                export: Some("fbposts:core/scoring@0.1.0".into()),
                inherit: InheritConfig::All
            }
        );
        assert_eq!(
            a.dependencies["fbposts:helpers"],
            DependencyDef::Component {
                component: "helper".into(),
                export: None,
                inherit: InheritConfig::All
            }
        );
        assert_eq!(
            a.dependencies["wasi:nn@0.2.0"],
            DependencyDef::Package {
                version: "^0.2".into(),
                registry: None,
                package: None,
                export: None,
                inherit: InheritConfig::All
            }
        );
        assert!(matches!(
            &a.dependencies["my-dep"],
            DependencyDef::Package { package: Some(p), registry: Some(r), .. } if p == "acme:dep" && r == "example.com"
        ));
        assert!(matches!(
            &a.dependencies["acme:remote/thing"],
            DependencyDef::Http { digest, .. } if digest == "sha256:abcd"
        ));
        assert_eq!(
            m.dependency_path(&a.dependencies["fbposts:helpers"]),
            Some(Path::new("/app/helper.wasm"))
        );

        let s = &m.components["static-files"];
        assert_eq!(s.build.as_ref().unwrap().command, ["make static"]);
        assert_eq!(s.build.as_ref().unwrap().workdir, None);
        assert_eq!(
            m.components["internal"].source,
            Path::new("/abs/internal.wasm")
        );

        assert_eq!(
            m.labels_in_use().into_iter().collect::<Vec<_>>(),
            ["cache_store", "default"]
        );
        assert_eq!(
            m.components_in_order()
                .map(|c| c.id.as_str())
                .collect::<Vec<_>>(),
            m.component_order
        );
    }

    #[test]
    fn accepts_the_project_manifest() {
        let m = parse(include_str!("../../spin.toml")).unwrap();
        assert!(!m.http_triggers.is_empty());
        crate::routing::Router::build(&m.http_triggers).unwrap();
    }

    #[test]
    fn from_file_resolves_against_manifest_dir() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("spin.toml"), with("")).unwrap();
        let canonical = dir.path().canonicalize().unwrap();

        let m = AppManifest::from_file(&dir.path().join("spin.toml")).unwrap();
        assert_eq!(m.base_dir, canonical);
        assert_eq!(m.components["a"].source, canonical.join("a.wasm"));

        // A directory means its spin.toml.
        let m = AppManifest::from_file(dir.path()).unwrap();
        assert_eq!(m.base_dir, canonical);

        let e = AppManifest::from_file(&dir.path().join("missing.toml")).unwrap_err();
        assert!(matches!(e, ManifestError::Read { .. }), "{e}");
    }

    #[test]
    fn syntax_errors_have_a_location() {
        let e = err("spin_manifest_version = 2\n[application\n");
        assert!(matches!(e, ManifestError::Syntax(_)));
        assert!(e.to_string().contains("line 2"), "{e}");
    }

    #[test]
    fn version_must_be_two() {
        let e = err("spin_manifest_version = \"1\"\n[application]\nname = \"x\"\n");
        assert!(
            matches!(e, ManifestError::UnsupportedVersion { ref found, .. } if found == "\"1\""),
            "{e}"
        );
        let e = err("spin_manifest_version = 3\n");
        assert!(matches!(e, ManifestError::UnsupportedVersion { .. }), "{e}");
        let e = err("[application]\nname = \"x\"\n");
        assert!(
            matches!(e, ManifestError::MissingKey { ref path, .. } if path == "spin_manifest_version"),
            "{e}"
        );
    }

    #[test]
    fn missing_sections_are_reported() {
        let e =
            err("spin_manifest_version = 2\n[[trigger.http]]\nroute = \"/\"\ncomponent = \"a\"\n");
        assert!(
            matches!(e, ManifestError::MissingKey { ref path, .. } if path == "application"),
            "{e}"
        );
        let e = err(
            "spin_manifest_version = 2\n[application]\nname = \"t\"\n[component.a]\nsource = \"a.wasm\"\n",
        );
        assert!(
            matches!(e, ManifestError::MissingKey { ref path, .. } if path == "trigger"),
            "{e}"
        );
        let e = err(&with("[component.b]\ndescription = \"no source\"\n"));
        assert!(
            matches!(e, ManifestError::MissingKey { ref path, .. } if path == "component.b.source"),
            "{e}"
        );
        let e = err(
            "spin_manifest_version = 2\n[application]\nname = \"t\"\n[[trigger.http]]\ncomponent = \"a\"\n[component.a]\nsource = \"a.wasm\"\n",
        );
        assert!(
            matches!(e, ManifestError::MissingKey { ref path, .. } if path == "trigger.http[0].route"),
            "{e}"
        );
    }

    #[test]
    fn unknown_keys_name_the_toml_path_and_line() {
        let e = err(&with("[component.a.build]\ncomand = \"make\"\n"));
        match &e {
            ManifestError::UnknownKey {
                path,
                location,
                expected,
            } => {
                assert_eq!(path, "component.a.build.comand");
                assert_eq!(location.line, 10);
                assert_eq!(location.column, 1);
                assert!(expected.contains("`command`"));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(e.to_string().contains("component.a.build.comand"), "{e}");
        assert!(e.to_string().contains("line 10"), "{e}");

        for (extra, path) in [
            (
                "key_value_store = [\"default\"]\n",
                "component.a.key_value_store",
            ),
            (
                "[variables]\nx = { default = \"1\", secrett = true }\n",
                "variables.x.secrett",
            ),
            (
                "[application.trigger.http]\nbse = \"/\"\n",
                "application.trigger.http.bse",
            ),
            (
                "[component.a.dependencies]\n\"a:b\" = { path = \"x.wasm\", exprt = \"y\" }\n",
                "component.a.dependencies.\"a:b\".exprt",
            ),
            (
                "[component.a.profile.debug]\nsourc = \"x\"\n",
                "component.a.profile.debug.sourc",
            ),
        ] {
            let e = err(&with(extra));
            assert!(
                matches!(&e, ManifestError::UnknownKey { path: p, .. } if p == path),
                "{extra}: {e}"
            );
        }
        let e = err(&with("").replace("route = \"/\"", "route = \"/\"\nrout = \"/x\""));
        assert!(
            matches!(&e, ManifestError::UnknownKey { path, .. } if path == "trigger.http[0].rout"),
            "{e}"
        );
        let e = err(&with("").replacen("[application]", "extra_root = 1\n[application]", 1));
        assert!(
            matches!(&e, ManifestError::UnknownKey { path, .. } if path == "extra_root"),
            "{e}"
        );
    }

    #[test]
    fn trigger_component_must_exist() {
        let e = err(&with("").replace("component = \"a\"", "component = \"nope\""));
        match &e {
            ManifestError::UnknownComponent {
                path,
                component,
                defined,
                location,
            } => {
                assert_eq!(path, "trigger.http[0].component");
                assert_eq!(component, "nope");
                assert_eq!(defined, "a");
                assert_eq!(location.line, 6);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn component_ids_follow_spin_naming() {
        for bad in [
            "bad_id",
            "1st",
            "Mixed-Case",
            "trailing-",
            "a--b",
            "dot.ted",
        ] {
            let text = with(&format!("[component.\"{bad}\"]\nsource = \"x.wasm\"\n"));
            let e = err(&text);
            assert!(
                matches!(&e, ManifestError::InvalidName { what: "component id", value, .. } if value == bad),
                "{bad}: {e}"
            );
        }
        for good in ["a1", "my-component", "API-v2", "x"] {
            assert!(check_component_id(good).is_ok(), "{good}");
        }
        let e = err(&with("").replace("component = \"a\"", "component = \"1-2-3\""));
        assert!(
            matches!(
                &e,
                ManifestError::InvalidName {
                    what: "component reference",
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn variable_rules() {
        let e = err(&with("[variables]\n\"bad-name\" = { default = \"x\" }\n"));
        assert!(
            matches!(
                &e,
                ManifestError::InvalidName {
                    what: "variable name",
                    ..
                }
            ),
            "{e}"
        );
        let e = err(&with("[variables]\nNAME = { default = \"x\" }\n"));
        assert!(
            matches!(
                &e,
                ManifestError::InvalidName {
                    what: "variable name",
                    ..
                }
            ),
            "{e}"
        );
        // required XOR default
        let e = err(&with(
            "[variables]\nx = { required = true, default = \"1\" }\n",
        ));
        assert!(
            matches!(&e, ManifestError::InvalidValue { path, .. } if path == "variables.x"),
            "{e}"
        );
        let e = err(&with("[variables]\nx = { secret = true }\n"));
        assert!(
            matches!(&e, ManifestError::InvalidValue { path, .. } if path == "variables.x"),
            "{e}"
        );
        // component variables must reference defined app variables
        let e = err(&with("[component.a.variables]\nv = \"{{ nope }}\"\n"));
        assert!(
            matches!(&e, ManifestError::InvalidValue { path, message, .. } if path == "component.a.variables.v" && message.contains("nope")),
            "{e}"
        );
        let e = err(&with("[component.a.variables]\nv = \"{{ unclosed\"\n"));
        assert!(matches!(&e, ManifestError::InvalidValue { .. }), "{e}");
        let e = err(&with("[component.a.variables]\nBad = \"x\"\n"));
        assert!(
            matches!(
                &e,
                ManifestError::InvalidName {
                    what: "component variable name",
                    ..
                }
            ),
            "{e}"
        );
        // Templated outbound hosts are checked the same way.
        let e = err(&with("allowed_outbound_hosts = [\"{{ host }}\"]\n"));
        assert!(
            matches!(&e, ManifestError::InvalidValue { path, .. } if path == "component.a.allowed_outbound_hosts[0]"),
            "{e}"
        );
    }

    #[test]
    fn remote_and_registry_sources_are_unsupported() {
        let text = with("").replace(
            "source = \"a.wasm\"",
            "source = { url = \"https://example.com/a.wasm\", digest = \"sha256:00\" }",
        );
        let e = err(&text);
        assert!(
            matches!(&e, ManifestError::Unsupported { path, .. } if path == "component.a.source"),
            "{e}"
        );
        assert!(e.to_string().contains("remote component source"), "{e}");
        let text = with("").replace(
            "source = \"a.wasm\"",
            "source = { registry = \"ttl.sh\", package = \"a:b\", version = \"1.0.0\" }",
        );
        assert!(matches!(err(&text), ManifestError::Unsupported { .. }));
        let text = with("").replace("source = \"a.wasm\"", "source = 5");
        assert!(matches!(
            err(&text),
            ManifestError::WrongType {
                found: "integer",
                ..
            }
        ));
    }

    #[test]
    fn unsupported_features_are_rejected_not_ignored() {
        let cases = [
            (
                with("[[trigger.redis]]\nchannel = \"x\"\ncomponent = \"a\"\n"),
                "trigger.redis",
            ),
            (
                with("").replace("component = \"a\"", "component = { source = \"x.wasm\" }"),
                "trigger.http[0].component",
            ),
            (
                with("").replace(
                    "route = \"/\"",
                    "route = \"/\"\nexecutor = { type = \"wagi\" }",
                ),
                "trigger.http[0].executor",
            ),
            (
                with("").replace(
                    "route = \"/\"",
                    "route = \"/\"\nstatic_response = { body = \"hi\" }",
                ),
                "trigger.http[0].static_response",
            ),
            (with("files = [\"static/*\"]\n"), "component.a.files"),
            (
                with("sqlite_databases = [\"default\"]\n"),
                "component.a.sqlite_databases",
            ),
            (
                with("ai_models = [\"llama2-chat\"]\n"),
                "component.a.ai_models",
            ),
            (
                with("allowed_http_hosts = [\"example.com\"]\n"),
                "component.a.allowed_http_hosts",
            ),
            (
                with("[application.trigger.http]\nbase = \"/base\"\n"),
                "application.trigger.http.base",
            ),
        ];
        for (text, path) in cases {
            let e = err(&text);
            assert!(
                matches!(&e, ManifestError::Unsupported { path: p, .. } if p == path),
                "{path}: {e}"
            );
        }
        // Empty lists of unsupported things are fine, as is executor = http and base = "/".
        parse(&with(
            "files = []\nai_models = []\n[application.trigger.http]\nbase = \"/\"\n",
        ))
        .unwrap();
        parse(&with("").replace(
            "route = \"/\"",
            "route = \"/\"\nexecutor = { type = \"http\" }",
        ))
        .unwrap();
    }

    #[test]
    fn routes_and_private_endpoints() {
        let e = err(&with("").replace("route = \"/\"", "route = { private = false }"));
        assert!(
            matches!(&e, ManifestError::InvalidValue { path, .. } if path == "trigger.http[0].route"),
            "{e}"
        );
        let e = err(&with("").replace("route = \"/\"", "route = 42"));
        assert!(matches!(&e, ManifestError::WrongType { .. }), "{e}");
        let m = parse(&with("").replace("route = \"/\"", "route = { private = true }")).unwrap();
        assert_eq!(m.http_triggers[0].route, HttpRoute::Private);
        assert_eq!(m.http_triggers[0].route.to_string(), "{ private = true }");
    }

    #[test]
    fn component_field_validation() {
        let e = err(&with("key_value_stores = [\"bad store\"]\n"));
        assert!(
            matches!(&e, ManifestError::InvalidName { what: "key-value store label", path, .. } if path == "component.a.key_value_stores[0]"),
            "{e}"
        );
        let e = err(&with("allowed_outbound_hosts = [\"example.com\"]\n"));
        assert!(matches!(&e, ManifestError::InvalidValue { .. }), "{e}");
        let e = err(&with(
            "[component.a.build]\ncommand = \"make\"\nworkdir = \"/abs\"\n",
        ));
        assert!(
            matches!(&e, ManifestError::InvalidValue { path, .. } if path == "component.a.build.workdir"),
            "{e}"
        );
        let e = err(&with("[component.a.build]\ncommand = 1\n"));
        assert!(
            matches!(&e, ManifestError::WrongType { path, .. } if path == "component.a.build.command"),
            "{e}"
        );
        let e = err(&with("[component.a.build]\nworkdir = \"x\"\n"));
        assert!(
            matches!(&e, ManifestError::MissingKey { path, .. } if path == "component.a.build.command"),
            "{e}"
        );
        let e = err(&with("environment = { X = 1 }\n"));
        assert!(
            matches!(&e, ManifestError::WrongType { path, .. } if path == "component.a.environment.X"),
            "{e}"
        );
    }

    #[test]
    fn dependency_rules() {
        // Plain names need a package.
        let e = err(&with("[component.a.dependencies]\nplain = \"1.0\"\n"));
        assert!(matches!(&e, ManifestError::InvalidValue { .. }), "{e}");
        // Package names (no interface) may not pick an export.
        let e = err(&with(
            "[component.a.dependencies]\n\"a:b\" = { path = \"x.wasm\", export = \"y\" }\n",
        ));
        assert!(matches!(&e, ManifestError::InvalidValue { .. }), "{e}");
        // Ambiguous or empty dependency tables.
        let e = err(&with(
            "[component.a.dependencies]\n\"a:b/c\" = { path = \"x.wasm\", url = \"http://x\" }\n",
        ));
        assert!(matches!(&e, ManifestError::InvalidValue { .. }), "{e}");
        let e = err(&with(
            "[component.a.dependencies]\n\"a:b/c\" = { url = \"http://x\" }\n",
        ));
        assert!(
            matches!(&e, ManifestError::MissingKey { path, .. } if path.ends_with(".digest")),
            "{e}"
        );
        // Bad names.
        let e = err(&with("[component.a.dependencies]\n\"a:b@1\" = \"1\"\n"));
        assert!(
            matches!(
                &e,
                ManifestError::InvalidName {
                    what: "dependency name",
                    ..
                }
            ),
            "{e}"
        );
        // Component dependencies must exist...
        let e = err(&with(
            "[component.a.dependencies]\n\"a:b/c\" = { component = \"ghost\" }\n",
        ));
        assert!(
            matches!(&e, ManifestError::UnknownComponent { component, .. } if component == "ghost"),
            "{e}"
        );
        // ...and have no resources of their own.
        let e = err(&with(
            "[component.a.dependencies]\n\"a:b/c\" = { component = \"b\" }\n[component.b]\nsource = \"b.wasm\"\nkey_value_stores = [\"default\"]\n",
        ));
        assert!(
            matches!(&e, ManifestError::InvalidValue { message, .. } if message.contains("key_value_stores")),
            "{e}"
        );
        // Component-level and per-dependency inheritance are exclusive.
        let e = err(&with(
            "dependencies_inherit_configuration = true\n[component.a.dependencies]\n\"a:b/c\" = { path = \"x.wasm\", inherit_configuration = false }\n",
        ));
        assert!(matches!(&e, ManifestError::InvalidValue { .. }), "{e}");
        let m = parse(&with(
            "[component.a.dependencies]\n\"a:b/c\" = { path = \"x.wasm\", inherit_configuration = [\"key_value_stores\"] }\n",
        ))
        .unwrap();
        assert!(matches!(
            &m.components["a"].dependencies["a:b/c"],
            DependencyDef::Local { inherit: InheritConfig::Only(keys), .. } if keys == &["key_value_stores"]
        ));
    }

    #[test]
    fn wrong_types_are_reported_with_path() {
        let e = err(&with("[variables]\nx = { required = \"yes\" }\n"));
        match &e {
            ManifestError::WrongType {
                path,
                expected,
                found,
                ..
            } => {
                assert_eq!(path, "variables.x.required");
                assert!(expected.contains("boolean"));
                assert_eq!(*found, "string");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
