//! Converts the repository's `openapi.yaml` (the one source of the API
//! contract) into the compact JSON the component embeds, and its entity tag
//! (a SHA-256 of that JSON). Fails the build when the YAML does not parse or
//! is not an OpenAPI 3.1 document, so a broken contract never ships.

use sha2::{Digest, Sha256};
use std::path::PathBuf;

fn main() {
    let manifest_dir =
        PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let source = manifest_dir.join("../../openapi.yaml");
    println!("cargo:rerun-if-changed={}", source.display());
    let yaml = std::fs::read_to_string(&source)
        .unwrap_or_else(|err| panic!("reading {}: {err}", source.display()));
    let document: serde_json::Value = serde_saphyr::from_str(&yaml)
        .unwrap_or_else(|err| panic!("{} is not valid YAML: {err}", source.display()));
    let version = document["openapi"].as_str().unwrap_or_default();
    assert!(
        version.starts_with("3.1."),
        "{}: `openapi` must be 3.1.x, not {version:?}",
        source.display()
    );
    let json = serde_json::to_vec(&document).expect("a JSON value encodes");
    let etag = format!("\"{}\"", &hex::encode(Sha256::digest(&json))[..32]);
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it"));
    std::fs::write(out.join("openapi.json"), &json).expect("writing openapi.json");
    std::fs::write(out.join("openapi.etag"), etag).expect("writing openapi.etag");
}
