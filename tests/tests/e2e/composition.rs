//! The pipeline steps composed through WIT (`wit/pipeline/pipeline.wit`):
//! the analysis step answers the same through `/api/analyze` and through
//! `generate`'s and `predict`'s quality scores; `predict` answers through the
//! composed forecast on both inference implementations, each naming itself;
//! a step whose dependency is missing from the manifest fails at start-up,
//! naming the import.

use serde_json::{Value, json};
use std::time::Duration;
use support::{Options, OutputWithin, Server, post_json, sqlite_config};

fn start(dir: &std::path::Path, args: &[&str]) -> Server {
    Server::start(Options {
        manifest: "spin.toml",
        state_dir: dir,
        runtime_config: Some(&sqlite_config(dir)),
        extra_args: args,
    })
}

fn analyze(server: &Server, body: &Value) -> Value {
    let reply = post_json(server, "/api/analyze", body);
    assert_eq!(reply.status, 200, "{body}: {}", reply.text);
    reply.body
}

/// The first `n` suggestions of an analysis.
fn suggestions(analysis: &Value, n: usize) -> Vec<Value> {
    analysis["suggestions"]
        .as_array()
        .expect("suggestions")
        .iter()
        .take(n)
        .cloned()
        .collect()
}

#[test]
fn the_analysis_step_answers_the_same_through_analyze_generate_and_predict() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &[]);
    let brief = json!({"topic": "café de especialidad", "audience": "amantes del café",
        "tone": "friendly", "goal": "engagement", "language": "es", "post_type": "photo",
        "n": 3, "seed": 11, "generator": "template"});
    let generated = post_json(&server, "/api/generate", &brief);
    assert_eq!(generated.status, 200, "{}", generated.text);
    let candidates = generated.body["candidates"].as_array().expect("candidates");
    assert_eq!(candidates.len(), 3);
    for candidate in candidates {
        let text = candidate["text"].as_str().unwrap();
        let direct = analyze(
            &server,
            &json!({"text": text, "language": "es", "post_type": "photo", "tone": "friendly",
                    "audience": "amantes del café"}),
        );
        let quality = &candidate["quality"];
        assert_eq!(quality["score"], direct["score"], "{text}");
        assert_eq!(quality["grade"], direct["grade"], "{text}");
        assert_eq!(
            quality["suggestions"].as_array().unwrap(),
            &suggestions(&direct, 3),
            "{text}"
        );
    }

    let text = "¿Cuál es tu favorito? Cuéntanos 👇 #Verano";
    let predicted = post_json(
        &server,
        "/api/predict",
        &json!({"page_likes": 100000, "post_type": "photo", "month": 6, "weekday": 1,
                "hour": 9, "text": text}),
    );
    assert_eq!(predicted.status, 200, "{}", predicted.text);
    let direct = analyze(&server, &json!({"text": text, "post_type": "photo"}));
    let quality = &predicted.body["quality"];
    assert_eq!(quality["score"], direct["score"]);
    assert_eq!(quality["grade"], direct["grade"]);
    assert_eq!(quality["language"], direct["language"]);
    assert_eq!(
        quality["suggestions"].as_array().unwrap(),
        &suggestions(&direct, 3)
    );
}

#[test]
fn predict_answers_through_the_composed_forecast_on_both_implementations() {
    let dir = tempfile::tempdir().unwrap();
    let body = json!({"page_likes": 139441, "post_type": "status", "category": 2, "paid": true,
                      "scheduled_at": "2026-12-01T18:30:00-05:00"});
    let windowed = json!({"page_likes": 120000, "post_type": "photo",
                          "scheduled_at": "2026-12-01T18:30:00-05:00",
                          "posting_window": {"start": "18:00", "end": "02:00"}});
    let mut answers = Vec::new();
    let mut windowed_answers = Vec::new();
    for args in [
        &["--inference", "portable"][..],
        &["--inference", "wasi-nn", "--nn-backend", "onnx"][..],
    ] {
        let server = start(dir.path(), args);
        let reply = post_json(&server, "/api/predict", &body);
        assert_eq!(reply.status, 200, "{args:?}: {}", reply.text);
        answers.push(reply.body);
        let reply = post_json(&server, "/api/predict", &windowed);
        assert_eq!(reply.status, 200, "{args:?}: {}", reply.text);
        windowed_answers.push(reply.body);
    }
    // Each inference component names itself through the WIT forecast.
    assert_eq!(answers[0]["model"]["implementation"], "portable (tract)");
    assert_eq!(answers[1]["model"]["implementation"], "wasi-nn");
    for answer in &answers {
        assert_eq!(answer["model"]["answered_by"], "global");
        let best = answer["best_times"].as_array().expect("best_times");
        assert!(!best.is_empty() && best[0]["at"].is_string(), "{best:?}");
    }
    // Same best slots from both (the model is the same).
    let slots = |a: &Value| {
        a["best_times"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| (b["weekday"].clone(), b["hour"].clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(slots(&answers[0]), slots(&answers[1]));
    // And inside a posting window, on the same basis.
    assert_eq!(slots(&windowed_answers[0]), slots(&windowed_answers[1]));
    assert_eq!(
        windowed_answers[0]["best_times_basis"],
        windowed_answers[1]["best_times_basis"]
    );
}

/// `fbposts up` on a one-component manifest; the exit status and stderr.
fn up_once(manifest_text: &str) -> (bool, String) {
    support::ensure_built();
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("spin.toml");
    std::fs::write(&manifest, manifest_text).unwrap();
    let output = std::process::Command::new(support::fbposts_bin())
        .current_dir(support::repo_root())
        .args(["up", "-f"])
        .arg(&manifest)
        .args(["--listen", "127.0.0.1:0", "--state-dir"])
        .arg(dir.path())
        .arg("--runtime-config-file")
        .arg(sqlite_config(dir.path()))
        .output_within(Duration::from_secs(60));
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_step_whose_dependency_is_missing_fails_at_start_up_naming_it() {
    let wasm = support::repo_root().join("target/wasm32-wasip2/wasm-release/analyze.wasm");
    let (ok, stderr) = up_once(&format!(
        r#"spin_manifest_version = 2

[application]
name = "missing-dependency"

[[trigger.http]]
route = "/api/analyze"
component = "analyze"

[component.analyze]
source = {wasm:?}
key_value_stores = ["cache"]
"#
    ));
    assert!(!ok, "started without its dependency:\n{stderr}");
    assert!(
        stderr.contains("analyze") && stderr.contains("fbposts:pipeline/analysis"),
        "names the component and the unsatisfied import:\n{stderr}"
    );
}
