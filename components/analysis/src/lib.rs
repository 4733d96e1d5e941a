//! `analysis`: the analyse step as a component, exporting
//! `fbposts:pipeline/analysis@0.1.0` (world `analysis-provider` in
//! `wit/pipeline/pipeline.wit`). It wraps `fbposts-core`'s scorer and only
//! converts between the generated types and the scorer's own.
//!
//! A pure function: no key-value store, variables or network, so Spin
//! accepts it as a component dependency of the HTTP steps that score text
//! (`analyze`, `enhance`, `predict`, `generate`), which own validation and
//! caching.

mod convert;
#[cfg(test)]
mod round_trip_tests;

/// Generated bindings; exporting needs the `unsafe` ABI glue wit-bindgen emits
/// (the workspace denies `unsafe` everywhere else).
#[allow(unsafe_code)]
mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/pipeline",
        world: "fbposts:pipeline/analysis-provider",
    });
    // Exported only when built as a component: a native build (the unit
    // tests) cannot link the export names wit-bindgen gives the symbols.
    #[cfg(target_arch = "wasm32")]
    use super::Analysis;
    #[cfg(target_arch = "wasm32")]
    export!(Analysis with_types_in self);
}

use bindings::exports::fbposts::pipeline::analysis::{Guest, Options, Report};

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct Analysis;

impl Guest for Analysis {
    fn analyze(text: String, options: Options) -> Report {
        let request = convert::request(text, options);
        convert::report(fbposts_core::analyze(&request))
    }
}
