//! Component profiles: selecting one, merging its overrides, refusing an
//! undefined one, and the project's own `wasi-nn` profile.

use super::*;

/// A component `a` with defaults, a `fancy` profile overriding each kind of
/// key, and a component `b` without profiles.
const PROFILED: &str = r#"
[component.a.environment]
KEPT = "default"
CHANGED = "default"
[component.a.build]
command = "make"
watch = ["src/**"]
[component.a.dependencies]
"x:y/kept" = { path = "kept.wasm" }
"x:y/swapped" = { component = "portable" }
[component.a.profile.fancy]
source = "fancy.wasm"
environment = { CHANGED = "fancy", ADDED = "fancy" }
build.command = ["make fancy", "strip"]
[component.a.profile.fancy.dependencies]
"x:y/swapped" = { component = "native" }
[component.b]
source = "b.wasm"
[component.portable]
source = "portable.wasm"
[component.native]
source = "native.wasm"
[component.native.profile.other]
build.command = "make native"
"#;

#[test]
fn without_a_profile_components_keep_their_defaults() {
    let m = parse(&with(PROFILED)).unwrap();
    let a = &m.components["a"];
    assert_eq!(m.profile, None);
    assert_eq!(
        m.defined_profiles.iter().collect::<Vec<_>>(),
        ["fancy", "other"]
    );
    assert_eq!(a.source, Path::new("/app/a.wasm"));
    assert_eq!(a.environment["CHANGED"], "default");
    assert!(matches!(
        &a.dependencies["x:y/swapped"],
        DependencyDef::Component { component, .. } if component == "portable"
    ));
    assert_eq!(a.build.as_ref().unwrap().command, ["make"]);
    assert_eq!(m.components["native"].build, None);
}

#[test]
fn a_profile_replaces_source_and_build_and_merges_environment_and_dependencies() {
    let m = parse_profile(&with(PROFILED), "fancy").unwrap();
    assert_eq!(m.profile.as_deref(), Some("fancy"));
    let a = &m.components["a"];
    assert_eq!(a.source, Path::new("/app/fancy.wasm"));
    let environment: Vec<_> = a.environment.iter().collect();
    assert_eq!(
        environment,
        [
            (&"ADDED".to_string(), &"fancy".to_string()),
            (&"CHANGED".to_string(), &"fancy".to_string()),
            (&"KEPT".to_string(), &"default".to_string()),
        ]
    );
    assert!(matches!(
        &a.dependencies["x:y/swapped"],
        DependencyDef::Component { component, .. } if component == "native"
    ));
    assert_eq!(
        m.dependency_path(&a.dependencies["x:y/kept"]),
        Some(Path::new("/app/kept.wasm"))
    );
    let build = a.build.as_ref().unwrap();
    assert_eq!(build.command, ["make fancy", "strip"]);
    assert_eq!(build.watch, ["src/**"]);
    // Components without the profile are unchanged.
    assert_eq!(m.components["b"].source, Path::new("/app/b.wasm"));
}

#[test]
fn a_profile_build_command_creates_a_build_where_there_was_none() {
    let m = parse_profile(&with(PROFILED), "other").unwrap();
    let build = m.components["native"].build.as_ref().unwrap();
    assert_eq!(build.command, ["make native"]);
    assert_eq!(build.workdir, None);
}

#[test]
fn an_undefined_profile_is_an_error_naming_the_defined_ones() {
    let e = parse_profile(&with(PROFILED), "fnacy").unwrap_err();
    match &e {
        ManifestError::UnknownProfile { profile, defined } => {
            assert_eq!(profile, "fnacy");
            assert_eq!(defined, "fancy, other");
        }
        other => panic!("unexpected {other:?}"),
    }
    let e = parse_profile(&with(""), "debug").unwrap_err();
    assert!(e.to_string().contains("defined profiles: none"), "{e}");
}

#[test]
fn profile_tables_are_checked_even_when_not_selected() {
    let e = err(&with(
        "[component.a.profile.fast.build]\ncommand = \"make\"\nworkdir = \"x\"\n",
    ));
    assert!(
        matches!(&e, ManifestError::UnknownKey { path, location, .. } if path == "component.a.profile.fast.build.workdir" && location.line == 11),
        "{e}"
    );
    let e = err(&with(
        "[component.a.profile.fast.dependencies]\n\"a:b/c\" = { component = \"ghost\" }\n",
    ));
    assert!(
        matches!(&e, ManifestError::UnknownComponent { path, component, .. } if path == "component.a.profile.fast.dependencies.\"a:b/c\".component" && component == "ghost"),
        "{e}"
    );
    let e = err(&with(
        "[component.a.profile.fast]\nenvironment = { X = true }\n",
    ));
    assert!(
        is_invalid(
            &e,
            "component.a.profile.fast.environment.X",
            "invalid type: boolean"
        ),
        "{e}"
    );
    let e = err(&with(
        "[component.a.profile.fast]\nsource = { url = \"https://x\", digest = \"sha256:0\" }\n",
    ));
    assert!(
        matches!(&e, ManifestError::Unsupported { path, .. } if path == "component.a.profile.fast.source"),
        "{e}"
    );
}

#[test]
fn the_project_wasi_nn_profile_swaps_every_inference_dependency() {
    let text = include_str!("../../../../spin.toml");
    let portable = parse(text).unwrap();
    let wasi_nn = parse_profile(text, "wasi-nn").unwrap();
    let target = |m: &AppManifest, id: &str, name: &str| match &m.components[id].dependencies[name]
    {
        DependencyDef::Component { component, .. } => component.clone(),
        other => panic!("{id}: {other:?}"),
    };
    let mut users = Vec::new();
    for component in portable.components.values() {
        for (name, dependency) in &component.dependencies {
            if matches!(dependency, DependencyDef::Component { component, .. } if component == "inference-portable")
            {
                let id = component.id.as_str();
                assert_eq!(
                    target(&wasi_nn, id, name),
                    "inference-wasi-nn",
                    "{id} {name}"
                );
                users.push(id);
            }
        }
    }
    for id in ["predict", "generate", "feedback"] {
        assert!(users.contains(&id), "{users:?}");
    }
}
