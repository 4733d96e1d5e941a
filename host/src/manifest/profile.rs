//! Component profiles (`[component.<id>.profile.<name>]`), as in Spin: a
//! named set of overrides a component may define — another `source`, more
//! `environment`, other `dependencies`, another build `command`. Running with
//! `--profile NAME` applies each component's `NAME` overrides (components
//! without one keep their defaults); a name no component defines is an error,
//! like Spin's `ensure_profile`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;
use toml::Spanned;

use super::dependencies::{DependencyDef, DependencySchema};
use super::ids::DependencyName;
use super::schema::SourceSchema;
use super::{BuildDef, ComponentDef};

/// `[component.<id>.profile.<name>]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileSchema {
    pub source: Option<Spanned<SourceSchema>>,
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    #[serde(default)]
    pub dependencies: BTreeMap<DependencyName, Spanned<DependencySchema>>,
    pub build: Option<ProfileBuildSchema>,
}

/// `[component.<id>.profile.<name>.build]`: only the command can change.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileBuildSchema {
    #[serde(deserialize_with = "super::schema::commands")]
    pub command: Vec<String>,
}

/// One component's overrides for one profile, validated and resolved.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProfileOverride {
    /// Replaces the component's `source`.
    pub source: Option<PathBuf>,
    /// Added to (and overriding) the component's environment.
    pub environment: BTreeMap<String, String>,
    /// Added to (and overriding, per import name) the component's dependencies.
    pub dependencies: BTreeMap<String, DependencyDef>,
    /// Replaces the build commands (creating a build if there was none).
    pub build_command: Option<Vec<String>>,
}

impl ComponentDef {
    /// This component as it runs in `profile`: its overrides applied, or
    /// unchanged when it does not define the profile.
    pub fn apply_profile(&mut self, profile: &str) {
        let Some(overrides) = self.profiles.get(profile).cloned() else {
            return;
        };
        if let Some(source) = overrides.source {
            self.source = source;
        }
        self.environment.extend(overrides.environment);
        self.dependencies.extend(overrides.dependencies);
        if let Some(command) = overrides.build_command {
            match &mut self.build {
                Some(build) => build.command = command,
                None => {
                    self.build = Some(BuildDef {
                        command,
                        workdir: None,
                        watch: Vec::new(),
                    })
                }
            }
        }
    }
}
