//! The contract every host capability implements, and the list of them.
//!
//! A capability (key-value, variables, outbound HTTP, wasi-nn, …) is one
//! module implementing [`Capability`], the shape of Spin's `factor-*` crates
//! (`spin_factors::Factor`), in three stages:
//!
//! 1. [`link`](Capability::link): add its WIT interfaces to the linker, once;
//! 2. [`configure_app`](Capability::configure_app): read what it needs from
//!    the manifest, the runtime config and the command line, once per app;
//!    the configured value is the capability itself;
//! 3. [`prepare`](Capability::prepare): for one component, check and
//!    precompute everything its requests need, failing at start-up with the
//!    manifest key named (the loader adds the component); then each request's
//!    store gets [`instance`](Capability::instance) of that, which must be
//!    cheap (clone an `Arc`, not parse or allocate).
//!
//! `capabilities!` (below) turns the list at the bottom of this file into
//! [`Capabilities`] (every capability, configured), [`PreparedCapabilities`]
//! (one component's) and [`CapabilityStates`] (one store's, a field of
//! [`HostState`]), and gives each capability typed access to its own state in
//! the store ([`HasState`]) and to the others at `prepare`
//! ([`ComponentContext::capability`]). Everything is static: a host call goes
//! through a plain field projection, with no lookup and no dynamic dispatch.
//!
//! Adding a capability is one module implementing [`Capability`] plus one
//! line in that list.

use crate::app::LoadOptions;
use crate::host_state::HostState;
use crate::manifest::{AppManifest, ComponentDef};
use crate::runtime_config::{RuntimeConfig, StatePaths};
use wasmtime::Engine;
use wasmtime::component::{Component, Linker, ResourceTable};

/// One host capability; see the module docs for the three stages.
pub trait Capability: Sized + Send + Sync + 'static {
    /// What [`prepare`](Capability::prepare) makes for one component, once;
    /// shared by all its requests.
    type Prepared: Send + Sync + 'static;
    /// What one request's store holds; the WIT bindings work on it.
    type InstanceState: Send + 'static;

    /// Adds this capability's WIT interfaces to `linker`; host functions
    /// reach [`Self::InstanceState`] through [`HasState`].
    fn link(linker: &mut Linker<HostState>) -> wasmtime::Result<()>;

    /// Configures the capability for the whole app.
    fn configure_app(ctx: &AppContext<'_>) -> impl Future<Output = anyhow::Result<Self>>;

    /// Prepares the instances of one component.
    fn prepare(&self, ctx: &ComponentContext<'_>) -> anyhow::Result<Self::Prepared>;

    /// The state of one request's store, from what `prepare` made.
    fn instance(prepared: &Self::Prepared) -> Self::InstanceState;
}

/// What [`Capability::configure_app`] reads.
#[derive(Debug, Clone, Copy)]
pub struct AppContext<'a> {
    pub manifest: &'a AppManifest,
    pub runtime_config: &'a RuntimeConfig,
    pub paths: &'a StatePaths,
    /// The command line's options, e.g. [`LoadOptions::nn`] for wasi-nn.
    pub options: &'a LoadOptions,
}

/// What [`Capability::prepare`] reads: the component as written in the
/// manifest, as compiled, and the other capabilities.
pub struct ComponentContext<'a> {
    pub component: &'a ComponentDef,
    pub engine: &'a Engine,
    pub compiled: &'a Component,
    app: &'a Capabilities,
}

impl<'a> ComponentContext<'a> {
    /// Another configured capability (what Spin's factors get with
    /// `app_state::<F>()`).
    pub fn capability<C>(&self) -> &'a C
    where
        Capabilities: Provides<C>,
    {
        self.app.get()
    }
}

/// Typed access to one configured capability.
pub trait Provides<C> {
    fn get(&self) -> &C;
}

/// Typed access to one capability's state in a store.
pub trait HasState<C: Capability> {
    fn state(&mut self) -> &mut C::InstanceState;
    /// The state together with the store's resource table (wasi-nn needs both).
    fn state_and_table(&mut self) -> (&mut C::InstanceState, &mut ResourceTable);
}

/// Generates the capability sets from a list of `field: Type` pairs, in the
/// order they are configured and prepared.
macro_rules! capabilities {
    ($( $(#[$doc:meta])* $field:ident: $capability:ty ),+ $(,)?) => {
        /// Every capability, configured for the app.
        pub struct Capabilities {
            $( $(#[$doc])* pub $field: $capability, )+
        }

        /// Every capability prepared for one component; shared by its requests.
        pub struct PreparedCapabilities {
            $( $field: <$capability as Capability>::Prepared, )+
        }

        /// Every capability's state in one request's store.
        pub struct CapabilityStates {
            $( pub $field: <$capability as Capability>::InstanceState, )+
        }

        impl Capabilities {
            /// Stage 1 for every capability.
            pub fn link(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
                $( <$capability as Capability>::link(linker)?; )+
                Ok(())
            }

            /// Stage 2 for every capability, in list order.
            pub async fn configure(ctx: &AppContext<'_>) -> anyhow::Result<Self> {
                Ok(Self {
                    $( $field: <$capability as Capability>::configure_app(ctx).await?, )+
                })
            }

            /// Stage 3 for every capability, for one compiled component.
            pub fn prepare(
                &self,
                component: &ComponentDef,
                engine: &Engine,
                compiled: &Component,
            ) -> anyhow::Result<PreparedCapabilities> {
                let ctx = ComponentContext { component, engine, compiled, app: self };
                Ok(PreparedCapabilities {
                    $( $field: self.$field.prepare(&ctx)?, )+
                })
            }
        }

        impl PreparedCapabilities {
            /// The capabilities' part of a new store.
            pub fn instance(&self) -> CapabilityStates {
                CapabilityStates {
                    $( $field: <$capability as Capability>::instance(&self.$field), )+
                }
            }
        }

        $(
            impl Provides<$capability> for Capabilities {
                fn get(&self) -> &$capability {
                    &self.$field
                }
            }

            impl HasState<$capability> for HostState {
                fn state(&mut self) -> &mut <$capability as Capability>::InstanceState {
                    &mut self.capabilities.$field
                }
                fn state_and_table(
                    &mut self,
                ) -> (&mut <$capability as Capability>::InstanceState, &mut ResourceTable) {
                    (&mut self.capabilities.$field, &mut self.table)
                }
            }
        )+
    };
}

capabilities! {
    /// `spin:key-value`, over the runtime config's stores.
    key_value: crate::key_value::host::KeyValue,
    /// `spin:variables`, and the application variables the others render.
    variables: crate::variables::Variables,
    /// `wasi:http` client, limited to `allowed_outbound_hosts`.
    outbound_http: crate::outbound_http::OutboundHttp,
    /// `spin:redis`, limited to the `redis://` entries of `allowed_outbound_hosts`.
    outbound_redis: crate::redis::OutboundRedis,
    /// `wasi:nn`, over the models beside the manifest.
    wasi_nn: crate::wasi_nn::WasiNn,
    /// What the host measures, served at `GET /metrics`; per-store CPU and memory.
    metrics: crate::metrics::Metrics,
}
