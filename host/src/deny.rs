//! What a composed dependency may not use: the capabilities of the component
//! it is composed into (key-value stores, variables, outbound network,
//! environment, wasi-nn) unless its `inherit_configuration` is `true` or
//! lists them — deny by default, as Spin does.
//!
//! Composition merges the imports of a component and of its dependencies,
//! so the host alone cannot tell who calls. Spin therefore plugs the
//! dependency's denied imports with a "deny adapter" component that traps.
//! Here the composer ([`crate::compose`]) instead gives each denied import
//! of a dependency its own import name in the `fbposts-denied` namespace
//! ([`denied_name`]), and the loader defines every function under those
//! names as a trap that says which dependency tried to use what, and what
//! to add to `spin.toml` ([`define_denied`]). Nothing is linked to the real
//! capability, so a denied store is never opened, a denied request never
//! leaves, a denied variable is never read and no wasi-nn model is loaded
//! for it. The component itself keeps its own grants.
//!
//! A denied environment is not a trap but an empty environment ([`empty`]).
//!
//! Each denied interface is renamed with its whole package (`wasi:http/*`,
//! `wasi:nn/*`, …), so the resources one of its interfaces uses from another
//! are stubbed consistently.

use crate::manifest::InheritConfig;
use anyhow::{Context, Result};
use wasmtime::Engine;
use wasmtime::component::types::{ComponentFunc, ComponentItem};
use wasmtime::component::{Component, Linker, ResourceType, Type, Val};

/// The namespace of the import names denied imports get.
pub const DENIED_NAMESPACE: &str = "fbposts-denied";

/// Each `inherit_configuration` key this host grants, and the import name
/// prefixes (interfaces and packages) that belong to it.
const CAPABILITY_IMPORTS: &[(&str, &[&str])] = &[
    (
        "key_value_stores",
        &[
            "spin:key-value/",
            "wasi:keyvalue/",
            "fermyon:spin/key-value",
        ],
    ),
    (
        "variables",
        &[
            "spin:variables/",
            "wasi:config/",
            "fermyon:spin/variables",
            "fermyon:spin/config",
        ],
    ),
    (
        "allowed_outbound_hosts",
        &[
            "wasi:http/",
            "wasi:sockets/",
            "fermyon:spin/http",
            "fermyon:spin/redis",
            "spin:redis/",
        ],
    ),
    ("environment", &["wasi:cli/environment"]),
    ("wasi_nn", &["wasi:nn/"]),
];

/// The `inherit_configuration` key an import belongs to, if any.
pub fn capability_of(import: &str) -> Option<&'static str> {
    CAPABILITY_IMPORTS
        .iter()
        .find(|(_, prefixes)| prefixes.iter().any(|p| import.starts_with(p)))
        .map(|(key, _)| *key)
}

/// One import of a dependency that was not granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    /// The import name it has in the composition (`fbposts-denied:…`).
    pub import: String,
    /// The interface the dependency asked for (`spin:key-value/key-value@3.0.0`).
    pub interface: String,
    /// The dependency's name in `spin.toml`.
    pub dependency: String,
    /// The `inherit_configuration` key that would grant it.
    pub capability: &'static str,
}

/// The denial of `import` for dependency number `index` named `dependency`,
/// or `None` when `inherit` grants it (or it is no capability).
pub fn denial(
    index: usize,
    dependency: &str,
    import: &str,
    inherit: &InheritConfig,
) -> Option<Denial> {
    let capability = capability_of(import)?;
    if inherit.allows(capability) {
        return None;
    }
    Some(Denial {
        import: denied_name(index, import),
        interface: import.to_string(),
        dependency: dependency.to_string(),
        capability,
    })
}

/// The denial of `import` to a dependency instantiated on its own
/// ([`crate::linked`]): the import keeps its name, and its stubs shadow the
/// real capability in that dependency's own linker.
pub fn denial_in_place(dependency: &str, import: &str, inherit: &InheritConfig) -> Option<Denial> {
    denial(0, dependency, import, inherit).map(|denied| Denial {
        import: import.to_string(),
        ..denied
    })
}

/// `ns:pkg/iface@1.2.3` of dependency `index` →
/// `fbposts-denied:d<index>-ns-pkg/iface@1.2.3` (a valid, unique import name).
pub fn denied_name(index: usize, import: &str) -> String {
    let (package, rest) = import.split_once('/').unwrap_or((import, ""));
    let package = package.replace(':', "-");
    let rest = if rest.is_empty() {
        "all".to_string()
    } else {
        rest.to_string()
    };
    format!("{DENIED_NAMESPACE}:d{index}-{package}/{rest}")
}

/// The type every denied resource gets (never constructed).
struct DeniedResource;

/// Defines every function of `denials` in `component`'s imports as a trap
/// naming the component, the dependency, the interface and the key to add,
/// and every resource they introduce as a type nothing can make. A resource
/// a denied interface only refers to (`(eq …)` to one imported before it,
/// e.g. the real `wasi:http/types` request) is left to that import.
pub fn define_denied<T: 'static>(
    linker: &mut Linker<T>,
    engine: &Engine,
    component: &Component,
    component_id: &str,
    denials: &[Denial],
) -> Result<()> {
    let mut seen_resources: Vec<ResourceType> = Vec::new();
    for (name, item) in component.component_type().imports(engine) {
        let ComponentItem::ComponentInstance(instance) = item.ty else {
            continue;
        };
        let denial = denials.iter().find(|d| d.import == name);
        for (export, item) in instance.exports(engine) {
            let first_sight = match &item.ty {
                ComponentItem::Resource(resource) if !seen_resources.contains(resource) => {
                    seen_resources.push(*resource);
                    true
                }
                _ => false,
            };
            let Some(denial) = denial else {
                continue;
            };
            stub(
                linker,
                name,
                export,
                &item.ty,
                first_sight,
                component_id,
                denial,
            )
            .with_context(|| format!("denying {}#{export}", denial.interface))?;
        }
    }
    Ok(())
}

/// Logs a denied call (the trap's own text does not reach the log through
/// a P3 worker) and makes the error that traps it.
fn refused(message: &str) -> wasmtime::Error {
    tracing::warn!("denied: {message}");
    wasmtime::format_err!("{message}")
}

/// A denied environment is an empty one (no variables, no arguments, no
/// working directory), not a trap: language runtimes read it on their own
/// (tract reads its `TRACT_*` knobs), and what must not leak is the values.
fn empty(ty: &ComponentFunc, results: &mut [Val], message: &str) -> wasmtime::Result<()> {
    for (result, ty) in results.iter_mut().zip(ty.results()) {
        *result = match ty {
            Type::List(_) => Val::List(Vec::new()),
            Type::Option(_) => Val::Option(None),
            _ => return Err(refused(message)),
        };
    }
    Ok(())
}

/// One export of a denied instance: a trapping function, or (the first
/// time a resource appears) a resource type of its own.
fn stub<T: 'static>(
    linker: &mut Linker<T>,
    instance: &str,
    export: &str,
    item: &ComponentItem,
    first_sight: bool,
    component_id: &str,
    denial: &Denial,
) -> Result<()> {
    let message = format!(
        "component {component_id:?}: dependency {:?} may not use {}#{export}: add \"{}\" to its inherit_configuration in spin.toml to grant it",
        denial.dependency, denial.interface, denial.capability
    );
    let mut stubs = linker.instance(instance).map_err(anyhow::Error::from)?;
    let defined = match item {
        ComponentItem::ComponentFunc(_) if denial.capability == "environment" => stubs
            .func_new(export, move |_, ty, _, results| {
                empty(&ty, results, &message)
            }),
        ComponentItem::ComponentFunc(func) if func.async_() => {
            stubs.func_new_concurrent(export, move |_, _, _, _| {
                let message = message.clone();
                Box::pin(async move { Err(refused(&message)) })
            })
        }
        ComponentItem::ComponentFunc(_) => {
            stubs.func_new(export, move |_, _, _, _| Err(refused(&message)))
        }
        ComponentItem::Resource(_) if first_sight => stubs.resource(
            export,
            ResourceType::host::<DeniedResource>(),
            |_, _| Ok(()),
        ),
        _ => Ok(()),
    };
    defined.map_err(anyhow::Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_belong_to_the_capability_spin_names_them_by() {
        assert_eq!(
            capability_of("spin:key-value/key-value@3.0.0"),
            Some("key_value_stores")
        );
        assert_eq!(
            capability_of("wasi:keyvalue/atomics@0.2.0-draft"),
            Some("key_value_stores")
        );
        assert_eq!(
            capability_of("spin:variables/variables@3.0.0"),
            Some("variables")
        );
        assert_eq!(
            capability_of("wasi:http/client@0.3.0"),
            Some("allowed_outbound_hosts")
        );
        assert_eq!(
            capability_of("wasi:http/types@0.3.0"),
            Some("allowed_outbound_hosts")
        );
        assert_eq!(
            capability_of("wasi:nn/graph@0.2.0-rc-2024-10-28"),
            Some("wasi_nn")
        );
        assert_eq!(
            capability_of("wasi:cli/environment@0.3.0"),
            Some("environment")
        );
        assert_eq!(capability_of("wasi:cli/stdout@0.3.0"), None);
        assert_eq!(capability_of("wasi:random/random@0.3.0"), None);
        assert_eq!(capability_of("fbposts:pipeline/analysis@0.1.0"), None);
    }

    #[test]
    fn a_dependency_gets_a_capability_only_when_it_inherits_it() {
        let import = "spin:key-value/key-value@3.0.0";
        let denied = denial(0, "fbposts:x/y", import, &InheritConfig::Nothing).unwrap();
        assert_eq!(
            denied,
            Denial {
                import: "fbposts-denied:d0-spin-key-value/key-value@3.0.0".into(),
                interface: import.into(),
                dependency: "fbposts:x/y".into(),
                capability: "key_value_stores",
            }
        );
        assert_eq!(denial(0, "d", import, &InheritConfig::All), None);
        let only =
            |keys: &[&str]| InheritConfig::Only(keys.iter().map(|k| k.to_string()).collect());
        assert_eq!(denial(0, "d", import, &only(&["key_value_stores"])), None);
        assert!(denial(0, "d", import, &only(&["variables", "wasi_nn"])).is_some());
        assert_eq!(
            denial(
                0,
                "d",
                "wasi:clocks/monotonic-clock@0.3.0",
                &InheritConfig::Nothing
            ),
            None
        );
    }

    #[test]
    fn a_separately_instantiated_dependency_is_denied_under_the_import_s_own_name() {
        let import = "wasi:nn/graph@0.2.0-rc-2024-10-28";
        let denied =
            denial_in_place("fbposts:ml/inference", import, &InheritConfig::Nothing).unwrap();
        assert_eq!(denied.import, import);
        assert_eq!(denied.capability, "wasi_nn");
        let granted = InheritConfig::Only(vec!["wasi_nn".to_string()]);
        assert_eq!(
            denial_in_place("fbposts:ml/inference", import, &granted),
            None
        );
    }

    #[test]
    fn denied_names_keep_the_interface_and_are_distinct_per_dependency() {
        assert_eq!(
            denied_name(3, "wasi:nn/tensor@0.2.0-rc-2024-10-28"),
            "fbposts-denied:d3-wasi-nn/tensor@0.2.0-rc-2024-10-28"
        );
        assert_ne!(
            denied_name(0, "wasi:http/client@0.3.0"),
            denied_name(1, "wasi:http/client@0.3.0")
        );
    }
}
