//! Dependencies instantiated separately: a dependency component whose
//! `[component.X.tool.fbposts]` says `instantiate_separately = true` is
//! compiled once for the whole app and instantiated in a store of its own
//! beside each dependent's, instead of being composed into every
//! dependent ([`crate::compose`]). The portable inference component embeds
//! tract; composed, it was compiled, cached and mapped once per dependent
//! (predict, generate, feedback), separately it is compiled once.
//!
//! The rules:
//! - Each dependent store gets its dependency instantiated in a store of its
//!   own, made from the dependent's template: the same memory cap, the same
//!   grants, a fresh instance exactly when the dependent gets one.
//! - The dependent's import is defined in its linker as host functions that
//!   forward each call, with its values, to the same function of that
//!   instance. Calls from one dependent store take turns (the concurrent
//!   requests of a reused P3 instance queue for the dependency as they do in
//!   a composition, whose nested dependency is synchronous). When the
//!   dependent is dropped mid-call (its request overran its deadline and
//!   [`crate::http::instance`] ended it), the dependency's call is dropped
//!   at its next epoch tick.
//! - The dependency's own imports come from the app's linker, except the
//!   capabilities it does not inherit: those are stubbed, under their own
//!   names, as in a composition ([`crate::deny::denial_in_place`]: traps,
//!   and an empty environment).
//! - Only functions and plain types cross: an interface with resources
//!   cannot be forwarded value by value, and loading it fails, naming it.
//! - Stock Spin ignores the key and composes the dependency: the answers are
//!   the same.

use crate::capability::PreparedCapabilities;
use crate::compose::matches_import;
use crate::deny::{Denial, define_denied, denial_in_place};
use crate::host_state::HostState;
use crate::manifest::InheritConfig;
use anyhow::{Context, Result, bail};
use std::sync::Arc;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, ComponentExportIndex, Instance, InstancePre, Linker, Val};
use wasmtime::{Engine, Store};

/// One dependency of a component, compiled on its own.
#[derive(Clone)]
pub struct SeparateDependency {
    /// The dependency's name in `spin.toml` (`fbposts:ml/inference@0.1.0`).
    pub name: String,
    /// The app component that provides it (`inference-portable`).
    pub component_id: String,
    /// The dependency's export to use; default: the import's own name.
    pub export: Option<String>,
    pub compiled: Component,
    /// Which of the component's capabilities it may use.
    pub inherit: InheritConfig,
}

/// What each dependent store's instance of a separate dependency is made
/// from: the dependency pre-instantiated, and the dependent's capabilities
/// prepared for it under its own metrics label
/// (`<dependent>/<dependency component>`), so its time in Wasm and memory
/// peak are measured apart from the dependent's.
pub struct SeparateTemplate {
    pub pre: InstancePre<HostState>,
    pub capabilities: PreparedCapabilities,
}

/// The metrics label of `dependency`'s instances beside `dependent_id`.
pub fn label(dependent_id: &str, dependency: &SeparateDependency) -> String {
    format!("{dependent_id}/{}", dependency.component_id)
}

/// Pre-instantiates `dependency` with the app's linker, its ungranted
/// capabilities stubbed as traps naming `component_id`.
pub fn prepare(
    app_linker: &Linker<HostState>,
    engine: &Engine,
    component_id: &str,
    dependency: &SeparateDependency,
) -> Result<InstancePre<HostState>> {
    let denials: Vec<Denial> = dependency
        .compiled
        .component_type()
        .imports(engine)
        .filter_map(|(import, _)| denial_in_place(&dependency.name, import, &dependency.inherit))
        .collect();
    let mut linker = app_linker.clone();
    linker.allow_shadowing(true);
    define_denied(
        &mut linker,
        engine,
        &dependency.compiled,
        component_id,
        &denials,
    )?;
    linker
        .instantiate_pre(&dependency.compiled)
        .map_err(anyhow::Error::from)
        .with_context(|| {
            format!(
                "dependency {:?}: unsatisfied imports of its own",
                dependency.name
            )
        })
}

/// Defines, in `linker`, every import of `dependent` that `dependency`
/// satisfies as functions forwarding to the store's separate instance
/// number `slot`.
pub fn forward(
    linker: &mut Linker<HostState>,
    engine: &Engine,
    dependent: &Component,
    dependency: &SeparateDependency,
    slot: usize,
) -> Result<()> {
    let mut matched = 0;
    for (import, item) in dependent.component_type().imports(engine) {
        if !matches_import(&dependency.name, import) {
            continue;
        }
        let ComponentItem::ComponentInstance(interface) = item.ty else {
            bail!(
                "dependency {:?}: {import:?} is not an interface",
                dependency.name
            );
        };
        let export = dependency.export.as_deref().unwrap_or(import);
        let Some(exported) = dependency.compiled.get_export_index(None, export) else {
            bail!(
                "dependency {:?} does not export {export:?}",
                dependency.name
            );
        };
        let mut functions = linker.instance(import).map_err(anyhow::Error::from)?;
        for (function, item) in interface.exports(engine) {
            let is_async = match &item.ty {
                ComponentItem::ComponentFunc(func) => func.async_(),
                ComponentItem::Resource(_) => bail!(
                    "dependency {:?}: {import}#{function} is a resource; a dependency with resources cannot be instantiated separately (remove instantiate_separately to compose it)",
                    dependency.name
                ),
                _ => continue,
            };
            let Some(index) = dependency
                .compiled
                .get_export_index(Some(&exported), function)
            else {
                bail!(
                    "dependency {:?}: {export} has no function {function:?}",
                    dependency.name
                );
            };
            define_forwarding(&mut functions, function, is_async, slot, index)?;
        }
        matched += 1;
    }
    if matched == 0 {
        bail!(
            "dependency {:?} matches none of the component's imports",
            dependency.name
        );
    }
    Ok(())
}

/// A dependency's instance in its own store, shared by the calls of one
/// dependent store (one at a time, as in a composition, where the
/// dependency is a synchronous nested instance).
pub struct SeparateInstance {
    store: Store<HostState>,
    instance: Instance,
}

/// How a dependent store holds its separate dependency.
pub type SharedSeparateInstance = Arc<tokio::sync::Mutex<SeparateInstance>>;

impl SeparateInstance {
    pub fn new(store: Store<HostState>, instance: Instance) -> SharedSeparateInstance {
        Arc::new(tokio::sync::Mutex::new(Self { store, instance }))
    }

    /// Calls export `index` with `params`; the results, `count` of them.
    async fn call(
        &mut self,
        index: ComponentExportIndex,
        params: &[Val],
        count: usize,
    ) -> wasmtime::Result<Vec<Val>> {
        let Some(callee) = self.instance.get_func(&mut self.store, index) else {
            wasmtime::bail!("the separate dependency lacks the function it was linked with");
        };
        let mut results = vec![Val::Bool(false); count];
        callee
            .call_async(&mut self.store, params, &mut results)
            .await?;
        Ok(results)
    }
}

/// Aborts the task it holds when dropped: a dependent dropped mid-call (its
/// deadline passed) stops its dependency's call at the next epoch tick.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// `function` of the import: a call into the dependent store's separate
/// instance `slot`. The call runs on a task of its own: wasmtime does not
/// run one store's event loop inside another's host call. An `async func`
/// is defined as a concurrent host function, a plain one as a blocking one,
/// as the component model requires of each.
fn define_forwarding(
    functions: &mut wasmtime::component::LinkerInstance<'_, HostState>,
    function: &str,
    is_async: bool,
    slot: usize,
    index: ComponentExportIndex,
) -> Result<()> {
    let name: Arc<str> = function.into();
    let defined = if is_async {
        functions.func_new_concurrent(function, move |accessor, _, params, results| {
            let separate = accessor.with(|mut access| separate_of(access.get(), slot));
            Box::pin(forward_call(separate, name.clone(), index, params, results))
        })
    } else {
        functions.func_new_async(function, move |store, _, params, results| {
            let separate = separate_of(store.data(), slot);
            Box::new(forward_call(separate, name.clone(), index, params, results))
        })
    };
    defined.map_err(anyhow::Error::from)
}

fn separate_of(state: &HostState, slot: usize) -> Option<SharedSeparateInstance> {
    state.separate_instances.get(slot).cloned()
}

/// One forwarded call: `params` to export `index` of `separate`, its
/// answers into `results`.
async fn forward_call(
    separate: Option<SharedSeparateInstance>,
    name: Arc<str>,
    index: ComponentExportIndex,
    params: &[Val],
    results: &mut [Val],
) -> wasmtime::Result<()> {
    let Some(separate) = separate else {
        wasmtime::bail!("the separate dependency providing {name:?} is not instantiated");
    };
    let params = params.to_vec();
    let count = results.len();
    let task = tokio::spawn(async move { separate.lock().await.call(index, &params, count).await });
    let mut call = AbortOnDrop(task);
    let answered = (&mut call.0)
        .await
        .map_err(|err| wasmtime::format_err!("the call to {name:?} failed: {err}"))??;
    results.clone_from_slice(&answered);
    Ok(())
}
