//! From the deserialized schema to the [`AppManifest`] the host runs: paths
//! resolved against the manifest directory, the rules that span several
//! keys (a variable is `required` or has a `default`, templates name defined
//! variables, triggers and dependencies name defined components, composed
//! dependencies carry no permissions), the features this host refuses, and
//! the selected profile applied.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::de::IgnoredAny;
use toml::Spanned;

use super::dependencies::{self, ComponentReference, DependencyContext};
use super::error::{Location, ManifestError, join};
use super::profile::{ProfileOverride, ProfileSchema};
use super::schema::*;
use super::{AppManifest, ComponentDef, HttpRoute, HttpTrigger, VariableDef};

type Res<T> = Result<T, ManifestError>;

/// The lowering of one manifest.
pub struct Lowering<'a> {
    pub src: &'a str,
    pub base_dir: &'a Path,
    /// Component ids in document order.
    pub order: Vec<String>,
    references: Vec<ComponentReference>,
    /// `(path, location, template)` of strings that may name app variables.
    templates: Vec<(String, Location, String)>,
}

impl<'a> Lowering<'a> {
    pub fn new(src: &'a str, base_dir: &'a Path, order: Vec<String>) -> Self {
        Lowering {
            src,
            base_dir,
            order,
            references: Vec::new(),
            templates: Vec::new(),
        }
    }

    fn at<T>(&self, spanned: &Spanned<T>) -> Location {
        Location::of(self.src, spanned.span())
    }

    fn unsupported<T>(&self, spanned: &Spanned<T>, path: &str, what: &str) -> ManifestError {
        ManifestError::Unsupported {
            path: path.to_string(),
            location: self.at(spanned),
            what: what.to_string(),
        }
    }

    /// The manifest, with `profile`'s overrides applied when given.
    pub fn manifest(mut self, schema: ManifestSchema, profile: Option<&str>) -> Res<AppManifest> {
        self.application_triggers(&schema.application)?;
        let variables = self.variables(schema.variables)?;
        let mut components = BTreeMap::new();
        for (id, component) in schema.component {
            let id = String::from(id);
            let component = self.component(&id, component)?;
            components.insert(id, component);
        }
        let defined_profiles: BTreeSet<String> = components
            .values()
            .flat_map(|c: &ComponentDef| c.profiles.keys().cloned())
            .collect();
        if let Some(profile) = profile {
            if !defined_profiles.contains(profile) {
                return Err(ManifestError::UnknownProfile {
                    profile: profile.to_string(),
                    defined: list_or_none(defined_profiles.iter()),
                });
            }
            components
                .values_mut()
                .for_each(|c| c.apply_profile(profile));
        }
        let mut http_triggers = Vec::new();
        for (_http, triggers) in schema.trigger {
            for (i, trigger) in triggers.into_iter().enumerate() {
                http_triggers.push(self.http_trigger(trigger, &format!("trigger.http[{i}]"))?);
            }
        }
        self.check_references(&components)?;
        self.check_templates(&variables)?;
        let version = schema.application.version.filter(|v| !v.is_empty());
        Ok(AppManifest {
            name: schema.application.name,
            version,
            variables,
            http_triggers,
            components,
            component_order: self.order,
            base_dir: self.base_dir.to_path_buf(),
            profile: profile.map(str::to_string),
            defined_profiles,
        })
    }

    fn application_triggers(&self, application: &ApplicationSchema) -> Res<()> {
        let Some(base) = application
            .trigger
            .values()
            .find_map(|http| http.base.as_ref())
        else {
            return Ok(());
        };
        if base.get_ref() != "/" {
            return Err(self.unsupported(
                base,
                "application.trigger.http.base",
                "the deprecated HTTP `base`: prepend it to each `[[trigger.http]]` route instead",
            ));
        }
        tracing::warn!(
            "spin.toml sets the deprecated `application.trigger.http.base` to its default \"/\"; remove it"
        );
        Ok(())
    }

    fn variables(
        &self,
        variables: BTreeMap<super::ids::VariableName, Spanned<VariableDef>>,
    ) -> Res<BTreeMap<String, VariableDef>> {
        let mut out = BTreeMap::new();
        for (name, def) in variables {
            if def.get_ref().required == def.get_ref().default.is_some() {
                return Err(ManifestError::Invalid {
                    path: join("variables", name.as_str()),
                    location: self.at(&def),
                    message: "a variable must either be `required = true` or have a `default` (exactly one of the two)".into(),
                });
            }
            out.insert(name.into(), def.into_inner());
        }
        Ok(out)
    }

    fn http_trigger(&mut self, trigger: HttpTriggerSchema, path: &str) -> Res<HttpTrigger> {
        let route_path = join(path, "route");
        let route = match trigger.route.get_ref() {
            StringOr::String(route) => HttpRoute::Path(route.clone()),
            StringOr::Table(PrivateRoute { private: true }) => HttpRoute::Private,
            StringOr::Table(PrivateRoute { private: false }) => {
                return Err(ManifestError::Invalid {
                    path: route_path,
                    location: self.at(&trigger.route),
                    message: "a route must be a string pattern or `{ private = true }`".into(),
                });
            }
        };
        if let Some(s) = &trigger.static_response {
            return Err(self.unsupported(
                s,
                &join(path, "static_response"),
                "`static_response` (routes answered by the host without a component)",
            ));
        }
        if let Some(executor) = &trigger.executor
            && let Executor::Wagi(settings) = executor.get_ref()
        {
            let keys: Vec<&str> = settings.keys().map(String::as_str).collect();
            let what = format!("the Wagi executor (`type = \"wagi\"` {keys:?})");
            return Err(self.unsupported(executor, &join(path, "executor"), &what));
        }
        for (key, table) in [
            ("components", &trigger.components),
            ("dependencies", &trigger.dependencies),
        ] {
            if let Some(t) = table.as_ref().filter(|t| !t.get_ref().is_empty()) {
                let what = format!("trigger-level `{key}`");
                return Err(self.unsupported(t, &join(path, key), &what));
            }
        }
        let cpath = join(path, "component");
        let component = match trigger.component.get_ref() {
            StringOr::String(id) => id.to_string(),
            StringOr::Table(_) => {
                return Err(self.unsupported(
                    &trigger.component,
                    &cpath,
                    "an inline component (`component = { source = ... }`); define it as `[component.<id>]` and use `component = \"<id>\"`",
                ));
            }
        };
        self.references.push(ComponentReference {
            depender: String::new(),
            path: cpath,
            location: self.at(&trigger.component),
            component: component.clone(),
        });
        Ok(HttpTrigger {
            id: trigger.id,
            route,
            component,
        })
    }

    fn source(&self, source: &Spanned<SourceSchema>, path: &str) -> Res<std::path::PathBuf> {
        let table = match source.get_ref() {
            StringOr::String(file) => return Ok(self.base_dir.join(file)),
            StringOr::Table(table) => table,
        };
        let what = if table.contains_key("url") {
            "a remote component source (`{ url = ..., digest = ... }`); download the Wasm file and give its local path"
        } else if table.contains_key("package") || table.contains_key("registry") {
            "a registry component source (`{ registry = ..., package = ..., version = ... }`); give a local Wasm file path"
        } else {
            return Err(ManifestError::Invalid {
                path: path.to_string(),
                location: self.at(source),
                message: "must be a path to a local Wasm file".into(),
            });
        };
        Err(self.unsupported(source, path, what))
    }

    fn refuse(
        &self,
        value: &Option<Spanned<Vec<IgnoredAny>>>,
        path: &str,
        key: &str,
        what: &str,
    ) -> Res<()> {
        match value {
            Some(list) if !list.get_ref().is_empty() => {
                Err(self.unsupported(list, &join(path, key), what))
            }
            _ => Ok(()),
        }
    }

    fn component(&mut self, id: &str, c: ComponentSchema) -> Res<ComponentDef> {
        let path = join("component", id);
        let source = self.source(&c.source, &join(&path, "source"))?;
        self.refuse(
            &c.files,
            &path,
            "files",
            "`files` (mounting host files into the component)",
        )?;
        self.refuse(
            &c.allowed_http_hosts,
            &path,
            "allowed_http_hosts",
            "the deprecated `allowed_http_hosts`; use `allowed_outbound_hosts = [\"https://example.com\"]`",
        )?;
        self.refuse(
            &c.sqlite_databases,
            &path,
            "sqlite_databases",
            "`sqlite_databases` (Spin SQLite)",
        )?;
        self.refuse(
            &c.ai_models,
            &path,
            "ai_models",
            "`ai_models` (Spin serverless AI)",
        )?;

        let mut variables = BTreeMap::new();
        for (name, template) in c.variables {
            let vpath = join(&join(&path, "variables"), name.as_str());
            let location = self.at(&template);
            let template = template.into_inner();
            self.templates.push((vpath, location, template.clone()));
            variables.insert(name.into(), template);
        }
        let allowed_outbound_hosts = self.outbound_hosts(c.allowed_outbound_hosts, &path)?;
        let mut cx = DependencyContext {
            src: self.src,
            base_dir: self.base_dir,
            references: &mut self.references,
        };
        let inherit_all = c.dependencies_inherit_configuration;
        let dpath = join(&path, "dependencies");
        let dependencies =
            dependencies::lower_all(id, c.dependencies, inherit_all, &dpath, &mut cx)?;
        let mut profiles = BTreeMap::new();
        for (name, profile) in c.profile {
            let ppath = join(&join(&path, "profile"), &name);
            let lowered = self.profile(id, profile, inherit_all, &ppath)?;
            profiles.insert(name, lowered);
        }
        Ok(ComponentDef {
            id: id.to_string(),
            source,
            allowed_outbound_hosts,
            key_value_stores: c.key_value_stores.into_iter().map(String::from).collect(),
            variables,
            environment: c.environment,
            build: c.build,
            dependencies,
            description: c.description.filter(|d| !d.is_empty()),
            profiles,
        })
    }

    fn outbound_hosts(&mut self, hosts: Vec<Spanned<String>>, path: &str) -> Res<Vec<String>> {
        let opath = join(path, "allowed_outbound_hosts");
        let mut out = Vec::new();
        for (i, host) in hosts.into_iter().enumerate() {
            let hpath = format!("{opath}[{i}]");
            let location = self.at(&host);
            let host = host.into_inner();
            if host.contains("{{") {
                self.templates.push((hpath, location, host.clone()));
            } else if !host.trim().contains("://") {
                return Err(ManifestError::Invalid {
                    path: hpath,
                    location,
                    message: format!(
                        "{host:?} does not contain a scheme; hosts must look like `<scheme>://<host>[:<port>]` (e.g. \"https://example.com\", \"*://*:*\")"
                    ),
                });
            }
            out.push(host);
        }
        Ok(out)
    }

    fn profile(
        &mut self,
        id: &str,
        profile: ProfileSchema,
        inherit_all: Option<bool>,
        path: &str,
    ) -> Res<ProfileOverride> {
        let source = match &profile.source {
            Some(source) => Some(self.source(source, &join(path, "source"))?),
            None => None,
        };
        let mut cx = DependencyContext {
            src: self.src,
            base_dir: self.base_dir,
            references: &mut self.references,
        };
        let dpath = join(path, "dependencies");
        let dependencies =
            dependencies::lower_all(id, profile.dependencies, inherit_all, &dpath, &mut cx)?;
        Ok(ProfileOverride {
            source,
            environment: profile.environment,
            dependencies,
            build_command: profile.build.map(|b| b.command),
        })
    }

    /// Triggers and `{ component = ... }` dependencies name defined
    /// components; composed components carry no permissions of their own.
    fn check_references(&mut self, components: &BTreeMap<String, ComponentDef>) -> Res<()> {
        for r in std::mem::take(&mut self.references) {
            let Some(target) = components.get(&r.component) else {
                return Err(ManifestError::UnknownComponent {
                    path: r.path,
                    location: r.location,
                    component: r.component,
                    defined: list_or_none(self.order.iter()),
                });
            };
            let surprises = permissions_of(target);
            if !r.depender.is_empty() && !surprises.is_empty() {
                return Err(ManifestError::Invalid {
                    path: r.path,
                    location: r.location,
                    message: format!(
                        "dependencies may not have their own resources or permissions: component `{}` cannot be used as a dependency of `{}` because it specifies {}",
                        r.component,
                        r.depender,
                        surprises.join(", ")
                    ),
                });
            }
        }
        Ok(())
    }

    fn check_templates(&mut self, variables: &BTreeMap<String, VariableDef>) -> Res<()> {
        for (path, location, template) in std::mem::take(&mut self.templates) {
            let invalid = |message: String| ManifestError::Invalid {
                path: path.clone(),
                location,
                message,
            };
            let names = template_references(&template).map_err(invalid)?;
            if let Some(unknown) = names.iter().find(|n| !variables.contains_key(**n)) {
                return Err(invalid(format!(
                    "template refers to variable `{unknown}`, which is not defined in `[variables]`"
                )));
            }
        }
        Ok(())
    }
}

fn list_or_none<'s>(names: impl Iterator<Item = &'s String>) -> String {
    let list: Vec<&str> = names.map(String::as_str).collect();
    if list.is_empty() {
        "none".to_string()
    } else {
        list.join(", ")
    }
}

/// What a component used as a `{ component = ... }` dependency may not have:
/// composed dependencies cannot carry resources or permissions of their own.
fn permissions_of(c: &ComponentDef) -> Vec<&'static str> {
    [
        (
            "allowed_outbound_hosts",
            c.allowed_outbound_hosts.is_empty(),
        ),
        ("dependencies", c.dependencies.is_empty()),
        ("environment", c.environment.is_empty()),
        ("key_value_stores", c.key_value_stores.is_empty()),
        ("variables", c.variables.is_empty()),
    ]
    .into_iter()
    .filter_map(|(key, empty)| (!empty).then_some(key))
    .collect()
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
