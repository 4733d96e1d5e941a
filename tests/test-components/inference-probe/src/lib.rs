//! Test-only HTTP component that puts `fbposts:ml/inference` on the wire, so
//! the e2e suite runs one conformance suite on every implementation composed
//! into it (`inference-portable`, `inference-wasi-nn` on ONNX Runtime or
//! OpenVINO): `POST` `{"model": …, "inputs": [{"name", "shape", "data"}]}`
//! answers 200 with `{"outputs": [...]}` or with
//! `{"error": {"kind": "unknown-model" | "bad-shape" | "backend", "message"}}`
//! — the contract's own result, unchanged; a body that is not such JSON is 400.

use serde::{Deserialize, Serialize};
use spin_sdk::http::body::IncomingBodyExt;
use spin_sdk::http::{IntoResponse, Request, StatusCode};
use spin_sdk::http_service;

mod bindings {
    spin_sdk::wit_bindgen::generate!({
        path: "../../../wit",
        world: "fbposts:ml/inference-user",
        runtime_path: "::spin_sdk::wit_bindgen::rt",
    });
}

use bindings::fbposts::ml::inference::{self, Error, Tensor};

#[derive(Deserialize, Serialize)]
struct WireTensor {
    name: String,
    shape: Vec<u32>,
    data: Vec<f32>,
}

#[derive(Deserialize)]
struct RunRequest {
    model: String,
    inputs: Vec<WireTensor>,
}

fn to_contract(tensor: WireTensor) -> Tensor {
    Tensor {
        name: tensor.name,
        shape: tensor.shape,
        data: tensor.data,
    }
}

fn from_contract(tensor: Tensor) -> WireTensor {
    WireTensor {
        name: tensor.name,
        shape: tensor.shape,
        data: tensor.data,
    }
}

fn error_json(error: Error) -> serde_json::Value {
    let (kind, message) = match error {
        Error::UnknownModel(message) => ("unknown-model", message),
        Error::BadShape(message) => ("bad-shape", message),
        Error::Backend(message) => ("backend", message),
    };
    serde_json::json!({ "error": { "kind": kind, "message": message } })
}

#[http_service]
async fn handle(req: Request) -> impl IntoResponse {
    let body = req.into_body().bytes().await.unwrap_or_default();
    let request: RunRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(err) => return (StatusCode::BAD_REQUEST, err.to_string()),
    };
    let inputs: Vec<Tensor> = request.inputs.into_iter().map(to_contract).collect();
    let answer = match inference::run(&request.model, &inputs) {
        Ok(outputs) => {
            let outputs: Vec<WireTensor> = outputs.into_iter().map(from_contract).collect();
            serde_json::json!({ "outputs": outputs })
        }
        Err(error) => error_json(error),
    };
    (StatusCode::OK, answer.to_string())
}
