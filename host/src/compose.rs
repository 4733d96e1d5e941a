//! Component dependencies, composed the way Spin composes them: each
//! `[component.X.dependencies]` entry names an import of the component
//! (`"fbposts:ml/inference@0.1.0"`, or a package/interface name without the
//! version) and a component that exports it; `wac-graph` instantiates the
//! dependency, plugs its export into that import and re-exports everything
//! the main component exports. Whatever the dependency imports itself (WASI)
//! becomes an import of the composition, which the host's linker satisfies —
//! except the capabilities it does not inherit (`inherit_configuration`),
//! which become imports of their own that the loader stubs as traps
//! ([`crate::deny`]).

use crate::deny::{Denial, denial};
use crate::manifest::InheritConfig;
use anyhow::{Context, Result, bail};
use wac_graph::types::{ItemKind, Package, Type, Types};
use wac_graph::{CompositionGraph, EncodeOptions};

/// One dependency to plug in: `name` as written in `spin.toml`, the component bytes.
#[derive(Debug, Clone)]
pub struct Dependency {
    pub name: String,
    /// The dependency's export to use; default: the import's own name.
    pub export: Option<String>,
    pub bytes: Vec<u8>,
    /// Which of the component's capabilities it may use.
    pub inherit: InheritConfig,
}

/// A composed component and the imports its dependencies were denied.
#[derive(Debug)]
pub struct Composition {
    pub bytes: Vec<u8>,
    pub denials: Vec<Denial>,
}

/// Whether a dependency name from the manifest satisfies an import name of
/// the component. Spin accepts the full name (`ns:pkg/iface@1.2.3`), the
/// interface without a version (`ns:pkg/iface`), or a whole package
/// (`ns:pkg`, `ns:pkg@1.2.3`), which matches every interface of it.
pub fn matches_import(dependency: &str, import: &str) -> bool {
    if dependency == import {
        return true;
    }
    let (import_path, import_version) = match import.split_once('@') {
        Some((path, version)) => (path, Some(version)),
        None => (import, None),
    };
    let (dep_path, dep_version) = match dependency.split_once('@') {
        Some((path, version)) => (path, Some(version)),
        None => (dependency, None),
    };
    if dep_version.is_some() && dep_version != import_version {
        return false;
    }
    if dep_path == import_path {
        return true;
    }
    // A package-level dependency (no `/`) covers every interface in it.
    !dep_path.contains('/')
        && import_path
            .split_once('/')
            .is_some_and(|(package, _)| package == dep_path)
}

/// Composes `main` with `dependencies`; returns the encoded component and
/// what its dependencies were denied.
pub fn compose(
    component_id: &str,
    main: Vec<u8>,
    dependencies: Vec<Dependency>,
) -> Result<Composition> {
    let mut denials = Vec::new();
    let mut graph = CompositionGraph::new();
    let main_package = Package::from_bytes(component_id, None, main, graph.types_mut())
        .with_context(|| format!("component {component_id:?} is not a valid component"))?;
    let main_world = main_package.ty();
    let main_id = graph.register_package(main_package)?;
    let main_instance = graph.instantiate(main_id);

    let imports: Vec<String> = graph.types()[main_world].imports.keys().cloned().collect();
    let exports: Vec<String> = graph.types()[main_world].exports.keys().cloned().collect();

    for (index, dependency) in dependencies.into_iter().enumerate() {
        let matched: Vec<&String> = imports
            .iter()
            .filter(|import| matches_import(&dependency.name, import))
            .collect();
        if matched.is_empty() {
            bail!(
                "component {component_id:?}: dependency {:?} matches none of its imports ({})",
                dependency.name,
                imports.join(", ")
            );
        }
        // Package names must be unique in the graph; the manifest name is not a package name.
        let package = Package::from_bytes(
            &format!("dependency:n{index}"),
            None,
            dependency.bytes,
            graph.types_mut(),
        )
        .with_context(|| {
            format!(
                "component {component_id:?}: dependency {:?} is not a valid component",
                dependency.name
            )
        })?;
        let dep_world = package.ty();
        let dep_exports: Vec<String> = graph.types()[dep_world].exports.keys().cloned().collect();
        let dep_imports: Vec<(String, wac_graph::types::ItemKind)> = graph.types()[dep_world]
            .imports
            .iter()
            .map(|(name, kind)| (name.clone(), *kind))
            .collect();
        let package_id = graph.register_package(package)?;
        let instance = graph.instantiate(package_id);
        for (import, kind) in dep_imports {
            let Some(denied) = denial(index, &dependency.name, &import, &dependency.inherit) else {
                continue;
            };
            let kind = kind_of_its_own(graph.types_mut(), kind, &denied.import);
            let node = graph.import(&denied.import, kind).with_context(|| {
                format!(
                    "component {component_id:?}: denying {import:?} to dependency {:?}",
                    dependency.name
                )
            })?;
            graph
                .set_instantiation_argument(instance, &import, node)
                .with_context(|| {
                    format!(
                        "component {component_id:?}: denying {import:?} to dependency {:?}",
                        dependency.name
                    )
                })?;
            denials.push(denied);
        }
        for import in matched {
            let export_name = dependency.export.as_deref().unwrap_or(import);
            if !dep_exports.iter().any(|e| e == export_name) {
                bail!(
                    "component {component_id:?}: dependency {:?} does not export {export_name:?} (it exports: {})",
                    dependency.name,
                    dep_exports.join(", ")
                );
            }
            let export = graph.alias_instance_export(instance, export_name)?;
            graph
                .set_instantiation_argument(main_instance, import, export)
                .with_context(|| {
                    format!(
                        "component {component_id:?}: dependency {:?}'s {import:?} does not fit the import",
                        dependency.name
                    )
                })?;
        }
    }

    for export in exports {
        let node = graph.alias_instance_export(main_instance, &export)?;
        graph.export(node, &export)?;
    }
    let bytes = graph
        .encode(EncodeOptions::default())
        .with_context(|| format!("component {component_id:?}: encoding the composition"))?;
    Ok(Composition { bytes, denials })
}

/// The type of a denied import: for an interface that defines no resources,
/// a copy named after the denied import. wac encodes imports of the same
/// interface once, so under its own id the denied environment (or
/// variables, or outbound client) of a dependency would collapse into the
/// component's own import of it and reach the real capability. An interface
/// with resources keeps its id, so the interfaces that use its resources
/// still fit; it grants nothing by itself.
fn kind_of_its_own(types: &mut Types, kind: ItemKind, denied_import: &str) -> ItemKind {
    let ItemKind::Instance(id) = kind else {
        return kind;
    };
    let has_resources = types[id]
        .exports
        .values()
        .any(|export| matches!(export, ItemKind::Type(Type::Resource(_))));
    if has_resources {
        return kind;
    }
    let mut own = types[id].clone();
    own.id = Some(denied_import.to_string());
    ItemKind::Instance(types.add_interface(own))
}

#[cfg(test)]
mod tests {
    use super::matches_import;

    #[test]
    fn dependency_names_match_imports_like_spin() {
        let import = "fbposts:ml/inference@0.1.0";
        assert!(matches_import("fbposts:ml/inference@0.1.0", import));
        assert!(matches_import("fbposts:ml/inference", import));
        assert!(matches_import("fbposts:ml", import));
        assert!(matches_import("fbposts:ml@0.1.0", import));
        assert!(!matches_import("fbposts:ml/inference@0.2.0", import));
        assert!(!matches_import("fbposts:ml/other", import));
        assert!(!matches_import("fbposts:mlx", import));
        assert!(!matches_import("wasi:nn", import));
    }
}
