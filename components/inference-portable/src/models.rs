//! The table of models compiled into the component: name (the folder name
//! under `models/`) → ONNX bytes. Adding a model is one `onnx_model!` line.

/// A model embedded at compile time.
#[derive(Debug)]
pub struct Model {
    /// The name callers pass to `run`: the model's folder under `models/`.
    pub name: &'static str,
    /// The bytes of `models/<name>/model.onnx`.
    pub onnx: &'static [u8],
}

/// Embeds `models/<name>/model.onnx` (relative to the workspace root).
macro_rules! onnx_model {
    ($name:literal) => {
        Model {
            name: $name,
            onnx: include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../models/",
                $name,
                "/model.onnx"
            )),
        }
    };
}

/// Every model this component can run.
pub static MODELS: &[Model] = &[onnx_model!("engagement"), onnx_model!("engagement-timing")];

/// The index in [`MODELS`] and the entry of the model called `name`.
pub fn find(name: &str) -> Option<(usize, &'static Model)> {
    MODELS
        .iter()
        .enumerate()
        .find(|(_, model)| model.name == name)
}

/// The names of the embedded models, in table order.
pub fn names() -> impl Iterator<Item = &'static str> {
    MODELS.iter().map(|model| model.name)
}
