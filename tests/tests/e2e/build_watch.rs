//! The manifests' `[component.X.build] watch` lists against the workspace:
//! `spin watch` rebuilds a component only when a file its globs match
//! changes, so each list must cover every crate the component is built from —
//! its own crate and its workspace path dependencies, transitively (optional
//! ones too: all components build in one cargo invocation, so features are
//! unified and an optional dependency enabled by one component is compiled
//! into all of them) — and every other workspace file the compiler read for
//! it (WIT files, embedded models, data tables).

use cargo_metadata::{DependencyKind, Metadata, MetadataCommand, Package};
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The manifests whose components are built from this workspace.
const MANIFESTS: &[&str] = &["spin.toml", "tests/spin.toml"];

/// Directories of a crate that are not inputs of its library build.
const NOT_BUILD_INPUTS: &[&str] = &["tests", "benches", "examples", "target"];

/// A component with a build section, as far as watching goes.
struct WatchedComponent {
    /// `component.<id>` and the manifest it is in, for messages.
    name: String,
    /// The `.wasm` file the component runs (its `source`), absolute.
    source: PathBuf,
    /// Where the watch globs are relative to: the manifest's directory joined
    /// with the build `workdir`.
    base: PathBuf,
    globs: GlobSet,
}

impl WatchedComponent {
    fn watches(&self, file: &Path) -> bool {
        file.strip_prefix(&self.base)
            .is_ok_and(|relative| self.globs.is_match(relative))
    }
}

fn watched_components() -> Vec<WatchedComponent> {
    let root = support::repo_root();
    let mut components = Vec::new();
    for manifest in MANIFESTS {
        let path = root.join(manifest);
        let text = std::fs::read_to_string(&path).unwrap();
        let table: toml::Table = toml::from_str(&text).unwrap();
        let manifest_dir = path.parent().unwrap().canonicalize().unwrap();
        for (id, component) in table["component"].as_table().unwrap() {
            let Some(build) = component.get("build") else {
                continue;
            };
            let workdir = build.get("workdir").and_then(|w| w.as_str()).unwrap_or("");
            let mut globs = GlobSetBuilder::new();
            for pattern in build
                .get("watch")
                .and_then(|w| w.as_array())
                .into_iter()
                .flatten()
            {
                let pattern = pattern.as_str().unwrap();
                // gitignore-style globs, as `spin watch` matches them: `*`
                // stays within one path segment.
                globs.add(
                    GlobBuilder::new(pattern)
                        .literal_separator(true)
                        .build()
                        .unwrap_or_else(|e| panic!("{manifest} component.{id}: {e}")),
                );
            }
            let source = component["source"].as_str().unwrap();
            components.push(WatchedComponent {
                name: format!("component.{id} ({manifest})"),
                source: manifest_dir.join(source),
                base: manifest_dir.join(workdir).canonicalize().unwrap(),
                globs: globs.build().unwrap(),
            });
        }
    }
    components
}

fn workspace() -> Metadata {
    MetadataCommand::new()
        .manifest_path(support::repo_root().join("Cargo.toml"))
        .no_deps()
        .exec()
        .unwrap()
}

/// The workspace crate whose `cdylib` is `source` (`…/inference_portable.wasm`).
fn crate_of<'a>(workspace: &'a Metadata, source: &Path) -> Option<&'a Package> {
    let stem = source.file_stem()?.to_str()?;
    workspace.packages.iter().find(|package| {
        package
            .targets
            .iter()
            .any(|target| target.is_cdylib() && target.name.replace('-', "_") == stem)
    })
}

/// `package` and the workspace crates it depends on (not dev-dependencies),
/// transitively.
fn crates_built_into<'a>(workspace: &'a Metadata, package: &'a Package) -> Vec<&'a Package> {
    let mut found = vec![package];
    let mut next = 0;
    while let Some(current) = found.get(next) {
        next += 1;
        let dependencies: Vec<&Package> = current
            .dependencies
            .iter()
            .filter(|dependency| dependency.kind != DependencyKind::Development)
            .filter(|dependency| dependency.path.is_some())
            .filter_map(|dependency| {
                workspace
                    .packages
                    .iter()
                    .find(|package| package.name.as_str() == dependency.name)
            })
            .collect();
        for dependency in dependencies {
            if !found.iter().any(|known| known.id == dependency.id) {
                found.push(dependency);
            }
        }
    }
    found
}

/// Every file of the crate in `dir` that can go into its library build.
fn build_inputs(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, files);
            } else {
                files.push(path);
            }
        }
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap();
        if !path.is_dir() {
            files.push(path);
        } else if !NOT_BUILD_INPUTS.contains(&name) {
            walk(&path, &mut files);
        }
    }
    files
}

#[test]
fn every_component_watches_every_crate_it_is_built_from() {
    let workspace = workspace();
    let mut misses = BTreeSet::new();
    for component in watched_components() {
        let package = crate_of(&workspace, &component.source).unwrap_or_else(|| {
            panic!(
                "{}: source {} is not the cdylib of a workspace crate",
                component.name,
                component.source.display()
            )
        });
        for used in crates_built_into(&workspace, package) {
            let dir = used.manifest_path.parent().unwrap().as_std_path();
            let dir = dir.canonicalize().unwrap();
            if let Some(file) = build_inputs(&dir)
                .into_iter()
                .find(|file| !component.watches(file))
            {
                misses.insert(format!(
                    "{} is built from crate `{}` but its watch list misses {}",
                    component.name,
                    used.name,
                    file.display()
                ));
            }
        }
    }
    assert!(
        misses.is_empty(),
        "watch lists miss crates:\n{}",
        Vec::from_iter(misses).join("\n")
    );
}

/// The files a build of `wasm` read, from the dep-info file cargo writes
/// beside it (`<name>.d`: `<target>: <file> <file> …`, spaces escaped).
fn files_read_for(wasm: &Path) -> Vec<PathBuf> {
    let dep_info = std::fs::read_to_string(wasm.with_extension("d"))
        .unwrap_or_else(|e| panic!("dep-info of {}: {e}", wasm.display()));
    let (_, inputs) = dep_info.split_once(": ").unwrap();
    inputs
        .replace("\\ ", "\u{0}")
        .split_whitespace()
        .map(|file| PathBuf::from(file.replace('\u{0}', " ")))
        .collect()
}

#[test]
fn every_component_watches_every_workspace_file_its_build_read() {
    support::ensure_built();
    let root = support::repo_root().canonicalize().unwrap();
    let target = root.join("target");
    let mut misses = BTreeSet::new();
    for component in watched_components() {
        for file in files_read_for(&component.source) {
            let Ok(file) = file.canonicalize() else {
                continue;
            };
            if file.starts_with(&root) && !file.starts_with(&target) && !component.watches(&file) {
                misses.insert(format!(
                    "{}: its build read {} but its watch list misses it",
                    component.name,
                    file.display()
                ));
            }
        }
    }
    assert!(
        misses.is_empty(),
        "watch lists miss build inputs:\n{}",
        Vec::from_iter(misses).join("\n")
    );
}
