//! `fbposts build`: running the components' build commands, like `spin build`.
//!
//! This module owns choosing which components to build (all, or the ids given
//! on the command line), the order to build them in (manifest order, except
//! that a component providing another's dependency is built first, as Spin
//! does), and running each `[component.<id>.build].command` through `sh -c`
//! in the component's working directory with the terminal's stdin, stdout and
//! stderr. A command that several components share (same command lines, same
//! working directory; this app's components all build with one script) runs
//! once. It stops at the first failing command. It does not touch wasmtime.

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};

use crate::manifest::{AppManifest, ComponentDef};

/// Why `fbposts build` failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// `only` named ids the manifest does not define.
    #[error("unknown component(s) {}; the manifest defines: {}", unknown.join(", "), known.join(", "))]
    UnknownComponents {
        /// The ids not found.
        unknown: Vec<String>,
        /// The ids the manifest defines.
        known: Vec<String>,
    },
    /// The build `workdir` is not an existing directory.
    #[error("component `{component}`: build workdir {} is not a directory", workdir.display())]
    MissingWorkdir {
        /// The component being built.
        component: String,
        /// The resolved working directory.
        workdir: PathBuf,
    },
    /// The shell could not be started.
    #[error("component `{component}`: cannot run build command `{command}`: {source}")]
    Spawn {
        /// The component being built.
        component: String,
        /// The command line.
        command: String,
        /// Why it could not start.
        #[source]
        source: std::io::Error,
    },
    /// A build command exited unsuccessfully.
    #[error("component `{component}`: build command `{command}` failed ({status})")]
    CommandFailed {
        /// The component being built.
        component: String,
        /// The command line.
        command: String,
        /// How it exited.
        status: ExitStatus,
    },
}

/// Runs each selected component's `[component.X.build].command` (each command
/// via `sh -c`, in order) in its workdir (relative to `base_dir`; default
/// `base_dir`), inheriting stdio, like `spin build`. Components without a
/// build section are skipped with an info log. Fails on the first failing
/// command with an error naming the component id, the command and the exit
/// status. `only`: restrict to these component ids (unknown id → error);
/// empty means every component.
///
/// Components are built in manifest order, except that a component whose
/// `path` or `component` dependency is another selected component's `source`
/// is built after it (with a dependency cycle, plain manifest order). A
/// build (command lines and working directory) that already ran for an
/// earlier component is not run again. This blocks while the commands run.
pub fn build_components(app: &AppManifest, only: &[String]) -> Result<(), BuildError> {
    let unknown: Vec<String> = only
        .iter()
        .filter(|id| !app.components.contains_key(id.as_str()))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Err(BuildError::UnknownComponents {
            unknown,
            known: app.component_order.clone(),
        });
    }

    let selected: Vec<&ComponentDef> = app
        .components_in_order()
        .filter(|c| only.is_empty() || only.contains(&c.id))
        .collect();
    if selected.iter().all(|c| c.build.is_none()) {
        tracing::info!(
            "none of the selected components has a build command (`[component.<id>.build] command = \"...\"`)"
        );
        return Ok(());
    }

    let ordered = build_order(app, selected);
    ensure_rust_targets(&ordered);
    let mut already_run = HashSet::new();
    for component in ordered {
        build_one(app, component, &mut already_run)?;
    }
    tracing::info!("finished building all components");
    Ok(())
}

/// Rust targets that build commands name and `rustup` can install.
const RUSTUP_TARGETS: &[&str] = &["wasm32-wasip2", "wasm32-wasip1", "wasm32-unknown-unknown"];

/// Makes sure every Rust target a build command names is installed, so a
/// fresh machine needs no manual `rustup target add`. Idempotent and quiet
/// when the target is already there; without rustup it does nothing and the
/// build itself reports the missing target.
fn ensure_rust_targets(components: &[&ComponentDef]) {
    let wanted: std::collections::BTreeSet<&str> = components
        .iter()
        .filter_map(|c| c.build.as_ref())
        .flat_map(|b| b.command.iter())
        .flat_map(|cmd| {
            RUSTUP_TARGETS
                .iter()
                .copied()
                .filter(move |t| cmd.contains(t))
        })
        .collect();
    if wanted.is_empty() {
        return;
    }
    let installed = std::process::Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output();
    let Ok(installed) = installed else {
        return;
    };
    let installed = String::from_utf8_lossy(&installed.stdout).into_owned();
    for target in wanted {
        if installed.lines().any(|line| line.trim() == target) {
            continue;
        }
        tracing::info!(target, "installing Rust target with rustup");
        match std::process::Command::new("rustup")
            .args(["target", "add", target])
            .status()
        {
            Ok(status) if status.success() => {}
            Ok(status) => tracing::warn!(target, %status, "rustup target add failed"),
            Err(err) => tracing::warn!(target, error = %err, "could not run rustup"),
        }
    }
}

/// One build as far as running it goes: where and what.
#[derive(PartialEq, Eq, Hash)]
struct DistinctBuild {
    workdir: PathBuf,
    commands: Vec<String>,
}

fn build_one(
    app: &AppManifest,
    component: &ComponentDef,
    already_run: &mut HashSet<DistinctBuild>,
) -> Result<(), BuildError> {
    let id = &component.id;
    let Some(build) = &component.build else {
        tracing::info!("component `{id}` has no build command; skipping");
        return Ok(());
    };
    let workdir = build.workdir_in(&app.base_dir);
    if !workdir.is_dir() {
        return Err(BuildError::MissingWorkdir {
            component: id.clone(),
            workdir,
        });
    }
    let distinct = DistinctBuild {
        workdir: workdir.canonicalize().unwrap_or_else(|_| workdir.clone()),
        commands: build.command.clone(),
    };
    if !already_run.insert(distinct) {
        tracing::info!("component `{id}`: its build command already ran");
        return Ok(());
    }
    let count = build.command.len();
    for (i, command) in build.command.iter().enumerate() {
        if count > 1 {
            tracing::info!(
                "building component `{id}`, step {}/{count}: `{command}` (in {})",
                i + 1,
                workdir.display()
            );
        } else {
            tracing::info!(
                "building component `{id}` with `{command}` (in {})",
                workdir.display()
            );
        }
        let status = Command::new("sh")
            .arg("-c")
            .arg(command)
            .current_dir(&workdir)
            .stdin(Stdio::inherit())
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit())
            .status()
            .map_err(|source| BuildError::Spawn {
                component: id.clone(),
                command: command.clone(),
                source,
            })?;
        if !status.success() {
            return Err(BuildError::CommandFailed {
                component: id.clone(),
                command: command.clone(),
                status,
            });
        }
    }
    Ok(())
}

/// Orders `selected` so that components providing another selected
/// component's dependency come first; otherwise keeps the given order.
fn build_order<'a>(app: &'a AppManifest, selected: Vec<&'a ComponentDef>) -> Vec<&'a ComponentDef> {
    let providers: Vec<Vec<usize>> = selected
        .iter()
        .map(|c| {
            c.dependencies
                .values()
                .filter_map(|d| app.dependency_path(d))
                .filter_map(|path| {
                    selected
                        .iter()
                        .position(|other| other.id != c.id && other.source == path)
                })
                .collect()
        })
        .collect();
    let mut done = vec![false; selected.len()];
    let mut order = Vec::with_capacity(selected.len());
    while order.len() < selected.len() {
        let ready =
            (0..selected.len()).find(|&i| !done[i] && providers[i].iter().all(|&p| done[p]));
        match ready {
            Some(i) => {
                done[i] = true;
                order.push(selected[i]);
            }
            None => {
                tracing::debug!("dependency cycle among components; building in manifest order");
                return selected;
            }
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const HEAD: &str = "spin_manifest_version = 2\n[application]\nname = \"t\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"a\"\n";

    fn app(dir: &Path, components: &str) -> AppManifest {
        std::fs::write(dir.join("spin.toml"), format!("{HEAD}{components}")).unwrap();
        AppManifest::from_file(&dir.join("spin.toml"), None).unwrap()
    }

    #[test]
    fn runs_commands_in_workdir() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let app = app(
            dir.path(),
            r#"
[component.a]
source = "a.wasm"
[component.a.build]
command = ["mkdir -p out", "echo built > out/marker.txt", "pwd > out/pwd.txt"]
workdir = "sub"
[component.b]
source = "b.wasm"
build.command = "echo root > root.txt"
"#,
        );
        build_components(&app, &[]).unwrap();
        let sub = dir.path().join("sub");
        assert_eq!(
            std::fs::read_to_string(sub.join("out/marker.txt")).unwrap(),
            "built\n"
        );
        let pwd = std::fs::read_to_string(sub.join("out/pwd.txt")).unwrap();
        assert_eq!(
            Path::new(pwd.trim()).canonicalize().unwrap(),
            sub.canonicalize().unwrap()
        );
        // No workdir: the manifest directory.
        assert!(dir.path().join("root.txt").exists());
    }

    #[test]
    fn failing_command_stops_the_build_and_names_the_component() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(
            dir.path(),
            r#"
[component.a]
source = "a.wasm"
build.command = ["exit 3", "touch after.txt"]
[component.b]
source = "b.wasm"
build.command = "touch b.txt"
"#,
        );
        let err = build_components(&app, &[]).unwrap_err();
        match &err {
            BuildError::CommandFailed {
                component,
                command,
                status,
            } => {
                assert_eq!(component, "a");
                assert_eq!(command, "exit 3");
                assert_eq!(status.code(), Some(3));
            }
            other => panic!("unexpected {other:?}"),
        }
        let text = err.to_string();
        assert!(text.contains("`a`") && text.contains("exit 3"), "{text}");
        assert!(!dir.path().join("after.txt").exists());
        assert!(!dir.path().join("b.txt").exists());
    }

    #[test]
    fn only_builds_selected_components() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(
            dir.path(),
            r#"
[component.a]
source = "a.wasm"
build.command = "touch a.txt"
[component.b]
source = "b.wasm"
build.command = "touch b.txt"
[component.c]
source = "c.wasm"
"#,
        );
        build_components(&app, &["b".to_string()]).unwrap();
        assert!(dir.path().join("b.txt").exists());
        assert!(!dir.path().join("a.txt").exists());
        // A component without a build section is skipped, not an error.
        build_components(&app, &["c".to_string()]).unwrap();
    }

    #[test]
    fn unknown_component_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(
            dir.path(),
            "[component.a]\nsource = \"a.wasm\"\nbuild.command = \"touch a.txt\"\n",
        );
        let err = build_components(&app, &["a".to_string(), "nope".to_string()]).unwrap_err();
        assert!(
            matches!(&err, BuildError::UnknownComponents { unknown, known } if unknown == &["nope"] && known == &["a"]),
            "{err}"
        );
        assert!(err.to_string().contains("nope"));
        // Nothing was built.
        assert!(!dir.path().join("a.txt").exists());
    }

    #[test]
    fn missing_workdir_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(
            dir.path(),
            "[component.a]\nsource = \"a.wasm\"\n[component.a.build]\ncommand = \"true\"\nworkdir = \"nowhere\"\n",
        );
        let err = build_components(&app, &[]).unwrap_err();
        assert!(
            matches!(&err, BuildError::MissingWorkdir { component, .. } if component == "a"),
            "{err}"
        );
    }

    #[test]
    fn a_build_shared_by_components_runs_once_per_working_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let app = app(
            dir.path(),
            r#"
[component.a]
source = "a.wasm"
build.command = "echo ran >> runs.txt"
[component.b]
source = "b.wasm"
build.command = "echo ran >> runs.txt"
[component.c]
source = "c.wasm"
[component.c.build]
command = "echo ran >> runs.txt"
workdir = "sub"
[component.d]
source = "d.wasm"
[component.d.build]
command = "echo ran >> ../runs.txt"
workdir = "sub"
"#,
        );
        build_components(&app, &[]).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("runs.txt")).unwrap(),
            "ran\nran\n"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("sub/runs.txt")).unwrap(),
            "ran\n"
        );
    }

    #[test]
    fn dependencies_are_built_first() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(
            dir.path(),
            r#"
[component.a]
source = "a.wasm"
build.command = "echo a >> order.txt"
[component.a.dependencies]
"x:helper/api" = { component = "helper" }
"x:lib/api" = { path = "lib.wasm" }
[component.lib]
source = "lib.wasm"
build.command = "echo lib >> order.txt"
[component.helper]
source = "helper.wasm"
build.command = "echo helper >> order.txt"
"#,
        );
        build_components(&app, &[]).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("order.txt")).unwrap(),
            "lib\nhelper\na\n"
        );
    }
}
