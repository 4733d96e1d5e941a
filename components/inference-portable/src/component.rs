//! The WIT export: `fbposts:ml/inference@0.1.0` backed by [`crate::engine`].
//! Only converts between the generated types and the engine's own.

#[allow(unsafe_code)]
mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "fbposts:ml/inference-provider",
    });
}

use bindings::exports::fbposts::ml::inference::{Error, Guest, Tensor};

use crate::engine::{self, InferenceError};

struct Component;

impl Guest for Component {
    fn run(model: String, inputs: Vec<Tensor>) -> Result<Vec<Tensor>, Error> {
        let inputs: Vec<engine::Tensor> = inputs
            .into_iter()
            .map(|t| engine::Tensor::new(t.name, t.shape, t.data))
            .collect();
        match engine::run(&model, &inputs) {
            Ok(outputs) => Ok(outputs
                .into_iter()
                .map(|t| Tensor {
                    name: t.name,
                    shape: t.shape,
                    data: t.data,
                })
                .collect()),
            Err(InferenceError::UnknownModel(name)) => Err(Error::UnknownModel(name)),
            Err(InferenceError::BadShape(message)) => Err(Error::BadShape(message)),
            Err(InferenceError::Backend(message)) => Err(Error::Backend(message)),
        }
    }
}

/// The generated `cabi` export functions, which wit-bindgen writes with
/// `unsafe` and `#[unsafe(export_name)]`.
#[allow(unsafe_code)]
mod export {
    use super::{Component, bindings};
    bindings::export!(Component with_types_in bindings);
}
