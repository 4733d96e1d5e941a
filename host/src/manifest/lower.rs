//! From the deserialized [`Document`] to the [`AppManifest`] the host runs:
//! paths resolved against the manifest directory, the rules that span keys
//! (a variable is `required` or has a `default`, templates name defined
//! variables, triggers and dependencies name defined components, composed
//! dependencies carry no permissions, `dependencies_inherit_configuration`
//! excludes a per-dependency `inherit_configuration`) and the selected
//! profile applied. Errors found here are located by looking their TOML path
//! up in the parsed document.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::dependencies::{DependencyDef, INHERIT_KEYS, InheritConfig};
use super::error::{Location, ManifestError, join};
use super::schema::Document;
use super::{AppManifest, ComponentDef, VariableDef};

type Res<T> = Result<T, ManifestError>;

/// A reference to a component, checked once every component is known.
struct Reference {
    /// The TOML path of the reference.
    at: Vec<String>,
    component: String,
    /// The component that depends on it; `None` for a trigger.
    depender: Option<String>,
}

/// The lowering of one manifest.
pub struct Lowering<'a> {
    src: &'a str,
    base_dir: &'a Path,
    root: &'a Spanned<DeTable<'a>>,
    references: Vec<Reference>,
    /// Strings that may name app variables, and where they are.
    templates: Vec<(Vec<String>, String)>,
}

fn owned(at: &[&str]) -> Vec<String> {
    at.iter().map(|s| s.to_string()).collect()
}

impl<'a> Lowering<'a> {
    pub fn new(src: &'a str, base_dir: &'a Path, root: &'a Spanned<DeTable<'a>>) -> Self {
        Lowering {
            src,
            base_dir,
            root,
            references: Vec::new(),
            templates: Vec::new(),
        }
    }

    /// The TOML path of `at` (array indices as `[i]`), where its value is (or
    /// the deepest table on the way), and whether it exists.
    fn locate<S: AsRef<str>>(&self, at: &[S]) -> (String, Location, bool) {
        let mut path = String::new();
        let mut span = self.root.span();
        let mut here: Option<&DeValue<'_>> = None;
        let mut found = true;
        for segment in at.iter().map(AsRef::as_ref) {
            let next = match here {
                Some(DeValue::Array(items)) => {
                    path = format!("{path}[{segment}]");
                    segment.parse().ok().and_then(|i: usize| items.get(i))
                }
                Some(DeValue::Table(table)) => {
                    path = join(&path, segment);
                    table.get(segment)
                }
                None if path.is_empty() => {
                    path = join(&path, segment);
                    self.root.get_ref().get(segment)
                }
                _ => {
                    path = join(&path, segment);
                    None
                }
            };
            found &= next.is_some();
            if let Some(value) = next {
                span = value.span();
            }
            here = next.map(Spanned::get_ref);
        }
        (path, Location::of(self.src, span), found)
    }

    fn invalid<S: AsRef<str>>(&self, at: &[S], message: impl Into<String>) -> ManifestError {
        let (path, location, _) = self.locate(at);
        ManifestError::Invalid {
            path,
            location,
            message: message.into(),
        }
    }

    /// The manifest, with `profile`'s overrides applied when given.
    pub fn manifest(mut self, document: Document, profile: Option<&str>) -> Res<AppManifest> {
        let variables = self.variables(document.variables)?;
        let mut components = BTreeMap::new();
        for (id, mut component) in document.component {
            component.id = id.into();
            self.component(&mut component)?;
            components.insert(component.id.clone(), component);
        }
        let triggers = document.trigger;
        let http = triggers.http.iter().map(|t| &t.component);
        let cron = triggers.cron.iter().map(|t| &t.component);
        let redis = triggers.redis.iter().map(|t| &t.component);
        for (kind, components) in [
            ("http", http.collect::<Vec<_>>()),
            ("cron", cron.collect()),
            ("redis", redis.collect()),
        ] {
            for (i, component) in components.into_iter().enumerate() {
                self.references.push(Reference {
                    at: owned(&["trigger", kind, &i.to_string(), "component"]),
                    component: component.clone(),
                    depender: None,
                });
            }
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
        self.check_references(&components)?;
        self.check_templates(&variables)?;
        let application = document.application;
        Ok(AppManifest {
            name: application.name,
            version: application.version.filter(|v| !v.is_empty()),
            variables,
            http_triggers: triggers.http,
            cron_triggers: triggers.cron,
            redis_triggers: triggers.redis,
            redis_address: application.trigger.redis.map(|r| r.address),
            components,
            component_order: self.component_order(),
            base_dir: self.base_dir.to_path_buf(),
            profile: profile.map(str::to_string),
            defined_profiles,
        })
    }

    /// The `[component.<id>]` ids in document order (maps deserialize sorted).
    fn component_order(&self) -> Vec<String> {
        let Some(DeValue::Table(components)) =
            self.root.get_ref().get("component").map(|c| c.get_ref())
        else {
            return Vec::new();
        };
        let mut keys: Vec<_> = components.keys().collect();
        keys.sort_by_key(|k| k.span().start);
        keys.into_iter().map(|k| k.get_ref().to_string()).collect()
    }

    fn variables(
        &self,
        variables: BTreeMap<super::ids::VariableName, VariableDef>,
    ) -> Res<BTreeMap<String, VariableDef>> {
        let mut out = BTreeMap::new();
        for (name, def) in variables {
            if def.required == def.default.is_some() {
                return Err(self.invalid(
                    &["variables", name.as_str()],
                    "a variable must either be `required = true` or have a `default` (exactly one of the two)",
                ));
            }
            out.insert(name.into(), def);
        }
        Ok(out)
    }

    fn component(&mut self, c: &mut ComponentDef) -> Res<()> {
        let id = c.id.clone();
        c.source = self.base_dir.join(&c.source);
        c.description = c.description.take().filter(|d| !d.is_empty());
        for (name, template) in &c.variables {
            let at = owned(&["component", &id, "variables", name]);
            self.templates.push((at, template.clone()));
        }
        for (i, host) in c.allowed_outbound_hosts.iter().enumerate() {
            if host.contains("{{") {
                let at = owned(&["component", &id, "allowed_outbound_hosts", &i.to_string()]);
                self.templates.push((at, host.clone()));
            }
        }
        let inherit_all = c.inherit_all;
        self.dependencies(
            &["component", &id, "dependencies"],
            &mut c.dependencies,
            inherit_all,
            &id,
        )?;
        for (name, profile) in &mut c.profiles {
            if let Some(source) = &mut profile.source {
                *source = self.base_dir.join(&source);
            }
            let at = ["component", &id, "profile", name, "dependencies"];
            self.dependencies(&at, &mut profile.dependencies, inherit_all, &id)?;
        }
        Ok(())
    }

    fn dependencies(
        &mut self,
        at: &[&str],
        dependencies: &mut BTreeMap<String, DependencyDef>,
        inherit_all: Option<bool>,
        depender: &str,
    ) -> Res<()> {
        for (name, dependency) in dependencies {
            let at = [at, &[name.as_str()]].concat();
            dependency
                .check_name(name)
                .map_err(|m| self.invalid(&at, m))?;
            if inherit_all.is_some()
                && self
                    .locate(&[&at[..], &["inherit_configuration"]].concat())
                    .2
            {
                return Err(self.invalid(
                    &at,
                    format!("component `{depender}` sets both `dependencies_inherit_configuration` and a per-dependency `inherit_configuration`; use one or the other"),
                ));
            }
            if inherit_all == Some(true) {
                dependency.set_inherit(InheritConfig::All);
            }
            if let Some(key) = dependency.inherit().unknown_key() {
                return Err(self.invalid(
                    &[&at[..], &["inherit_configuration"]].concat(),
                    format!(
                        "unknown configuration key {key:?}; known: {}",
                        INHERIT_KEYS.join(", ")
                    ),
                ));
            }
            match dependency {
                DependencyDef::Local { path, .. } => *path = self.base_dir.join(&path),
                DependencyDef::Component { component, .. } => self.references.push(Reference {
                    at: owned(&[&at[..], &["component"]].concat()),
                    component: component.clone(),
                    depender: Some(depender.to_string()),
                }),
                DependencyDef::Package { .. } | DependencyDef::Http { .. } => {}
            }
        }
        Ok(())
    }

    /// Triggers and `{ component = ... }` dependencies name defined
    /// components; composed components carry no permissions of their own.
    fn check_references(&mut self, components: &BTreeMap<String, ComponentDef>) -> Res<()> {
        for r in std::mem::take(&mut self.references) {
            let Some(target) = components.get(&r.component) else {
                let (path, location, _) = self.locate(&r.at);
                return Err(ManifestError::UnknownComponent {
                    path,
                    location,
                    component: r.component,
                    defined: list_or_none(self.component_order().iter()),
                });
            };
            let permissions = permissions_of(target);
            if let Some(depender) = r.depender.filter(|_| !permissions.is_empty()) {
                return Err(self.invalid(
                    &r.at,
                    format!(
                        "dependencies may not have their own resources or permissions: component `{}` cannot be used as a dependency of `{depender}` because it specifies {}",
                        r.component,
                        permissions.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    fn check_templates(&mut self, variables: &BTreeMap<String, VariableDef>) -> Res<()> {
        for (at, template) in std::mem::take(&mut self.templates) {
            let names = template_references(&template).map_err(|m| self.invalid(&at, m))?;
            if let Some(unknown) = names.iter().find(|n| !variables.contains_key(**n)) {
                return Err(self.invalid(
                    &at,
                    format!("template refers to variable `{unknown}`, which is not defined in `[variables]`"),
                ));
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
