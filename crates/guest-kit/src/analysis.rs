//! The `fbposts:pipeline/analysis@0.1.0` import (feature `analysis`): the
//! analyse step as a call to whichever component the app composed in
//! (`components/analysis`). [`analyze`] takes and returns `fbposts-core`'s
//! own types, so a step scores text the way it did when it linked the
//! scorer, and its responses stay byte-for-byte the same.

use fbposts_core::{Analysis, AnalyzeRequest, ApiError};

mod convert;

/// Bindings for the import (wit-bindgen through spin-sdk's re-export).
mod bindings {
    spin_sdk::wit_bindgen::generate!({
        path: "../../wit/pipeline",
        world: "fbposts:pipeline/analysis-user",
        runtime_path: "::spin_sdk::wit_bindgen::rt",
    });
}

use bindings::fbposts::pipeline::analysis as wit;

/// Scores `request` through the imported analysis step.
pub fn analyze(request: &AnalyzeRequest) -> Result<Analysis, ApiError> {
    let options = convert::options(request);
    convert::report(wit::analyze(&request.text, &options)).map_err(|what| {
        eprintln!("analysis: the step answered outside its contract: {what}");
        ApiError::new(
            500,
            "internal",
            "internal error: the analysis step answered outside its contract",
        )
    })
}
