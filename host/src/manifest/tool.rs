//! `[component.<id>.tool.<name>]`: Spin's tables for tool-specific settings,
//! which Spin itself ignores. This host reads its own, `tool.fbposts`, and
//! only checks that every other tool's entry is a table (as Spin's schema
//! requires).
//!
//! `[component.<id>.tool.fbposts]` says how the host may serve the
//! component's requests: `instance_reuse` (requests one instance serves in its
//! life) and `instance_concurrency` (requests one WASI P3 instance serves at
//! once). A component that does not ask gets a fresh instance per request,
//! Spin's semantics. `precache = true` lets the host compute requests it
//! predicts ahead, into the cache. `max_memory_mb` caps each of the
//! component's linear memories below the host's `--max-memory-mb` (it can
//! only lower it), so a step sized from its measured peaks cannot take the
//! memory the host grants the largest one. `instantiate_separately = true`,
//! on a component other components depend on (`{ component = "id" }`), has
//! the host compile it once and instantiate it beside each dependent, in the
//! dependent's store, instead of composing a copy into every dependent
//! ([`crate::linked`]); Spin composes it, with the same behaviour. Unknown
//! keys are errors, like everywhere in the manifest.

use std::collections::BTreeMap;
use std::fmt;
use std::num::NonZeroUsize;

use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// The name of this host's own tool table.
pub const TOOL_NAME: &str = "fbposts";

/// `[component.<id>.tool.fbposts]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FbpostsTool {
    /// Requests one instance may serve before it is dropped; absent: 1.
    pub instance_reuse: Option<NonZeroUsize>,
    /// Requests one reused P3 instance may serve at the same time; absent:
    /// the host's default.
    pub instance_concurrency: Option<NonZeroUsize>,
    /// The component's requests are pure (their only effect is their cached
    /// answer): the host may compute predicted ones ahead (`crate::precache`).
    #[serde(default)]
    pub precache: bool,
    /// Cap of each of the component's linear memories, in MiB; absent: the
    /// host's cap. The lower of the two applies.
    pub max_memory_mb: Option<NonZeroUsize>,
    /// As a dependency, compiled once and instantiated on its own next to
    /// each dependent rather than composed into each one.
    #[serde(default)]
    pub instantiate_separately: bool,
}

impl FbpostsTool {
    /// The linear-memory cap of this component's instances: what it asks,
    /// never above the host's own cap.
    pub fn memory_cap_bytes(&self, host_cap_bytes: usize) -> usize {
        self.max_memory_mb
            .map_or(host_cap_bytes, |mb| mb.get().saturating_mul(1 << 20))
            .min(host_cap_bytes)
    }
}

/// The component's `tool` table: this host's entry, the others checked to be
/// tables and dropped.
pub fn fbposts_tool<'de, D: Deserializer<'de>>(d: D) -> Result<FbpostsTool, D::Error> {
    struct Tools;
    impl<'de> Visitor<'de> for Tools {
        type Value = FbpostsTool;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a table of tool names to tables")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FbpostsTool, A::Error> {
            let mut ours = FbpostsTool::default();
            while let Some(name) = map.next_key::<String>()? {
                if name == TOOL_NAME {
                    ours = map.next_value()?;
                } else {
                    map.next_value::<BTreeMap<String, IgnoredAny>>()?;
                }
            }
            Ok(ours)
        }
    }
    d.deserialize_map(Tools)
}

#[cfg(test)]
mod tests {
    use super::super::{AppManifest, ManifestError};
    use std::num::NonZeroUsize;
    use std::path::Path;

    /// Component `a` with `extra` appended to its table.
    fn component_with(extra: &str) -> Result<AppManifest, ManifestError> {
        let text = format!(
            "spin_manifest_version = 2\n[application]\nname = \"t\"\n[[trigger.http]]\nroute = \"/\"\ncomponent = \"a\"\n[component.a]\nsource = \"a.wasm\"\n{extra}"
        );
        AppManifest::parse(&text, Path::new("/app"), None)
    }

    fn some(n: usize) -> Option<NonZeroUsize> {
        NonZeroUsize::new(n)
    }

    #[test]
    fn the_fbposts_tool_table_sets_instance_reuse_and_concurrency() {
        let m = component_with(
            "[component.a.tool.fbposts]\ninstance_reuse = 128\ninstance_concurrency = 16\n",
        )
        .unwrap();
        let tool = m.components["a"].fbposts;
        assert_eq!(tool.instance_reuse, some(128));
        assert_eq!(tool.instance_concurrency, some(16));
    }

    #[test]
    fn a_component_without_the_table_asks_for_nothing() {
        let m = component_with("").unwrap();
        assert_eq!(m.components["a"].fbposts, Default::default());
    }

    #[test]
    fn other_tools_tables_are_ignored_but_must_be_tables() {
        let m = component_with("[component.a.tool.clean]\ncommand = \"cargo clean\"\n").unwrap();
        assert_eq!(m.components["a"].fbposts, Default::default());
        let e = component_with("[component.a.tool]\nclean = 3\n").unwrap_err();
        assert!(
            matches!(&e, ManifestError::Invalid { path, .. } if path == "component.a.tool.clean"),
            "{e}"
        );
    }

    #[test]
    fn an_unknown_fbposts_key_is_an_error_naming_it() {
        let e = component_with("[component.a.tool.fbposts]\ninstance_reuses = 2\n").unwrap_err();
        assert!(
            matches!(&e, ManifestError::UnknownKey { path, .. } if path == "component.a.tool.fbposts.instance_reuses"),
            "{e}"
        );
    }

    #[test]
    fn a_memory_cap_lowers_the_host_s_cap_and_never_raises_it() {
        let m = component_with("[component.a.tool.fbposts]\nmax_memory_mb = 24\n").unwrap();
        let tool = m.components["a"].fbposts;
        assert_eq!(tool.max_memory_mb, some(24));
        assert_eq!(tool.memory_cap_bytes(64 << 20), 24 << 20);
        assert_eq!(tool.memory_cap_bytes(16 << 20), 16 << 20);
        let uncapped = component_with("").unwrap().components["a"].fbposts;
        assert_eq!(uncapped.memory_cap_bytes(64 << 20), 64 << 20);
    }

    #[test]
    fn a_dependency_asks_to_be_instantiated_separately() {
        let m =
            component_with("[component.a.tool.fbposts]\ninstantiate_separately = true\n").unwrap();
        assert!(m.components["a"].fbposts.instantiate_separately);
        assert!(
            !component_with("").unwrap().components["a"]
                .fbposts
                .instantiate_separately
        );
    }

    #[test]
    fn a_zero_memory_cap_is_refused() {
        let e = component_with("[component.a.tool.fbposts]\nmax_memory_mb = 0\n").unwrap_err();
        assert!(
            matches!(&e, ManifestError::Invalid { path, .. } if path == "component.a.tool.fbposts.max_memory_mb"),
            "{e}"
        );
    }

    #[test]
    fn zero_requests_per_instance_is_refused() {
        let e = component_with("[component.a.tool.fbposts]\ninstance_reuse = 0\n").unwrap_err();
        assert!(
            matches!(&e, ManifestError::Invalid { path, .. } if path == "component.a.tool.fbposts.instance_reuse"),
            "{e}"
        );
    }
}
