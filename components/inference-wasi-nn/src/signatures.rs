//! The input signatures of the models this component may be asked to run,
//! shipped with it: `models/<name>/metadata.json`, embedded at compile time.
//! wasi-nn 0.2 cannot tell a guest a graph's inputs, and the host's errors
//! reach the guest without their detail, so without these a bad input would
//! come back as a bare backend failure instead of `bad-shape` with the reason.
//! Adding a model is one `metadata!` line.

use fbposts_model_signature::Signature;
use std::sync::LazyLock;

/// A model's name (its folder under `models/`) and its `metadata.json`.
struct Shipped {
    name: &'static str,
    metadata: &'static str,
}

macro_rules! metadata {
    ($name:literal) => {
        Shipped {
            name: $name,
            metadata: include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../models/",
                $name,
                "/metadata.json"
            )),
        }
    };
}

static SHIPPED: &[Shipped] = &[metadata!("engagement"), metadata!("engagement-timing")];

/// Parsed once per instance. A metadata file that does not parse leaves its
/// model with the data-length check only; `fbposts-model-signature`'s tests
/// parse the shipped files natively.
static SIGNATURES: LazyLock<Vec<(&'static str, Option<Signature>)>> = LazyLock::new(|| {
    SHIPPED
        .iter()
        .map(|shipped| {
            (
                shipped.name,
                Signature::from_metadata(shipped.metadata).ok(),
            )
        })
        .collect()
});

/// The signature of `model`, if it ships with this component.
pub fn find(model: &str) -> Option<&'static Signature> {
    SIGNATURES
        .iter()
        .find(|(name, _)| *name == model)
        .and_then(|(_, signature)| signature.as_ref())
}
