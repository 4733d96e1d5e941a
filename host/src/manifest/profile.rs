//! Component profiles (`[component.<id>.profile.<name>]`), as in Spin: a
//! named set of overrides a component may define — another `source`, more
//! `environment`, other `dependencies`, another build `command`. Running with
//! `--profile NAME` applies each component's `NAME` overrides (components
//! without one keep their defaults); a name no component defines is an error,
//! like Spin's `ensure_profile` ([`super::lower`]).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use super::dependencies::DependencyDef;
use super::ids::DependencyName;
use super::{BuildDef, ComponentDef, schema};

/// One component's overrides for one profile.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileOverride {
    /// Replaces the component's `source` (resolved against the manifest directory).
    #[serde(default, deserialize_with = "schema::optional_local_source")]
    pub source: Option<PathBuf>,
    /// Added to (and overriding) the component's environment.
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// Added to (and overriding, per import name) the component's dependencies.
    #[serde(default, deserialize_with = "schema::keyed::<_, DependencyName, _>")]
    pub dependencies: BTreeMap<String, DependencyDef>,
    /// Replaces the build commands (creating a build if there was none).
    pub build: Option<ProfileBuild>,
}

/// `[component.<id>.profile.<name>.build]`: only the command can change.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileBuild {
    /// The commands, in order.
    #[serde(deserialize_with = "schema::commands")]
    pub command: Vec<String>,
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
        let Some(ProfileBuild { command }) = overrides.build else {
            return;
        };
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
