//! `POST /api/predict` through the real host, with each inference
//! implementation: the portable one (tract, pure Wasm) and wasi-nn with ONNX
//! Runtime and with OpenVINO. All three must agree; the model must rank a
//! known-strong context above a weak one; bad input gets a 4xx.

use serde_json::{Value, json};
use std::time::Duration;
use support::{OutputWithin, Server, post_json};

fn start(dir: &std::path::Path, args: &[&str]) -> Server {
    Server::app_with_args(dir, args)
}

/// Contexts spanning types, hours, paid and page sizes.
fn contexts() -> Vec<Value> {
    vec![
        json!({"page_likes": 139441, "post_type": "status", "category": 2, "paid": true, "month": 12, "weekday": 4, "hour": 10}),
        json!({"page_likes": 135000, "post_type": "photo", "category": 1, "paid": false, "month": 7, "weekday": 1, "hour": 3}),
        json!({"page_likes": 90000, "post_type": "link", "category": 3, "paid": false, "month": 3, "weekday": 7, "hour": 22}),
        json!({"page_likes": 120000, "post_type": "video", "paid": true, "scheduled_at": "2026-12-01T18:30:00-05:00"}),
        json!({"page_likes": 100000, "post_type": "photo", "category": 2, "paid": false, "scheduled_at": "2026-06-14T09:00:00+02:00", "text": "¿Cuál es tu favorito? Cuéntanos 👇 #Verano"}),
    ]
}

fn predictions(server: &Server) -> Vec<Value> {
    contexts()
        .iter()
        .map(|body| {
            let reply = post_json(server, "/api/predict", body);
            assert_eq!(reply.status, 200, "{body}: {}", reply.text);
            reply.body
        })
        .collect()
}

const TARGETS: [&str; 4] = ["total_interactions", "engaged_users", "consumers", "reach"];

fn assert_close(a: &Value, b: &Value, what: &str) {
    for target in TARGETS {
        for q in ["p10", "p50", "p90"] {
            let x = a["predictions"][target][q].as_f64().unwrap();
            let y = b["predictions"][target][q].as_f64().unwrap();
            // Predictions are rounded to whole counts: raw outputs that agree
            // within 1e-4 may round one count apart.
            let tolerance = (1e-4 * x.abs().max(y.abs())).max(1.0);
            assert!(
                (x - y).abs() <= tolerance,
                "{what}: {target}.{q} {x} vs {y}"
            );
        }
    }
}

#[test]
fn three_inference_paths_agree() {
    let dir = tempfile::tempdir().unwrap();
    let portable = predictions(&start(dir.path(), &["--inference", "portable"]));
    let onnx = predictions(&start(
        dir.path(),
        &["--inference", "wasi-nn", "--nn-backend", "onnx"],
    ));
    let openvino = predictions(&start(
        dir.path(),
        &["--inference", "wasi-nn", "--nn-backend", "openvino"],
    ));
    for (i, ((p, o), v)) in portable.iter().zip(&onnx).zip(&openvino).enumerate() {
        assert_close(p, o, &format!("context {i}: portable vs onnx"));
        assert_close(o, v, &format!("context {i}: onnx vs openvino"));
        // Quantiles are ordered and positive.
        for target in TARGETS {
            let q = &p["predictions"][target];
            let (lo, mid, hi) = (
                q["p10"].as_f64().unwrap(),
                q["p50"].as_f64().unwrap(),
                q["p90"].as_f64().unwrap(),
            );
            assert!(
                0.0 <= lo && lo <= mid && mid <= hi,
                "context {i} {target}: {q}"
            );
        }
        let best = p["best_times"].as_array().expect("best_times");
        assert!(!best.is_empty() && best.len() <= 3, "{best:?}");
        // The same best times and basis from every path.
        let times = |a: &Value| (a["best_times"].clone(), a["best_times_basis"].clone());
        let strip = |(best, basis): (Value, Value)| {
            let slots: Vec<(Value, Value, Value)> = best
                .as_array()
                .unwrap()
                .iter()
                .map(|b| (b["weekday"].clone(), b["hour"].clone(), b["at"].clone()))
                .collect();
            (slots, basis)
        };
        assert_eq!(
            strip(times(p)),
            strip(times(o)),
            "context {i}: portable vs onnx"
        );
        assert_eq!(
            strip(times(o)),
            strip(times(v)),
            "context {i}: onnx vs openvino"
        );
    }
    // Each answer says which implementation produced it.
    assert_ne!(
        portable[0]["model"]["implementation"],
        onnx[0]["model"]["implementation"]
    );
    assert_eq!(portable[0]["model"]["name"], "engagement");
}

#[test]
fn a_strong_context_predicts_more_than_a_weak_one() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &[]);
    let strong = json!({"page_likes": 139441, "post_type": "status", "category": 2, "paid": true, "month": 12, "weekday": 4, "hour": 10});
    let weak = json!({"page_likes": 139441, "post_type": "link", "category": 3, "paid": false, "month": 12, "weekday": 4, "hour": 10});
    let s = post_json(&server, "/api/predict", &strong);
    let w = post_json(&server, "/api/predict", &weak);
    assert_eq!((s.status, w.status), (200, 200), "{} {}", s.text, w.text);
    for target in ["total_interactions", "engaged_users"] {
        let sp = s.body["predictions"][target]["p50"].as_f64().unwrap();
        let wp = w.body["predictions"][target]["p50"].as_f64().unwrap();
        assert!(sp > wp, "{target}: strong {sp} <= weak {wp}");
    }
    // Cached on the second identical request.
    assert_eq!(
        post_json(&server, "/api/predict", &strong).cache.as_deref(),
        Some("hit")
    );
}

#[test]
fn predict_rejects_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &[]);
    let base =
        json!({"page_likes": 100000, "post_type": "photo", "month": 5, "weekday": 3, "hour": 12});
    let with = |key: &str, value: Value| {
        let mut body = base.clone();
        body[key] = value;
        body
    };
    let without = |key: &str| {
        let mut body = base.clone();
        body.as_object_mut().unwrap().remove(key);
        body
    };
    let cases = vec![
        ("unknown post type", with("post_type", json!("reel"))),
        ("hour out of range", with("hour", json!(24))),
        ("negative likes", with("page_likes", json!(-5))),
        ("fractional likes", with("page_likes", json!(10.5))),
        ("weekday out of range", with("weekday", json!(0))),
        ("month out of range", with("month", json!(13))),
        ("category out of range", with("category", json!(4))),
        (
            "bad timestamp",
            json!({"page_likes": 1, "post_type": "photo", "scheduled_at": "tomorrow"}),
        ),
        (
            "both time forms",
            with("scheduled_at", json!("2026-12-01T18:30:00Z")),
        ),
        ("no time", without("hour")),
        ("missing likes", without("page_likes")),
    ];
    for (name, body) in cases {
        let reply = post_json(&server, "/api/predict", &body);
        assert!(
            (400..500).contains(&reply.status),
            "{name}: {} {}",
            reply.status,
            reply.text
        );
        assert!(
            reply.body["error"]["code"].is_string(),
            "{name}: {}",
            reply.text
        );
        assert!(
            reply.body["error"]["message"].is_string(),
            "{name}: {}",
            reply.text
        );
    }
    let reply = support::post_raw(&server, "/api/predict", "application/json", b"{".to_vec());
    assert_eq!(reply.status, 400);
}

/// The inference implementation is a manifest profile: `--profile wasi-nn`
/// (which wins over `--inference`) composes `inference-wasi-nn`, so the host
/// loads the model through wasi-nn; `--inference portable` runs the default
/// profile, where nothing imports wasi-nn and tract answers.
#[test]
fn the_wasi_nn_profile_selects_the_inference_implementation() {
    let body = &contexts()[0];
    let nn_dir = tempfile::tempdir().unwrap();
    let nn = start(
        nn_dir.path(),
        &["--profile", "wasi-nn", "--inference", "portable"],
    );
    let reply = post_json(&nn, "/api/predict", body);
    assert_eq!(reply.status, 200, "{}", reply.text);
    let implementation = reply.body["model"]["implementation"].as_str().unwrap();
    assert!(implementation.starts_with("wasi-nn"), "{implementation}");
    assert!(nn.log().contains("wasi-nn model ready"), "{}", nn.log());

    let portable_dir = tempfile::tempdir().unwrap();
    let portable = start(portable_dir.path(), &["--inference", "portable"]);
    let reply = post_json(&portable, "/api/predict", body);
    assert_eq!(reply.status, 200, "{}", reply.text);
    let implementation = reply.body["model"]["implementation"].as_str().unwrap();
    assert!(implementation.starts_with("portable"), "{implementation}");
    assert!(!portable.log().contains("wasi-nn model ready"));
}

/// Like `spin up --profile`, a profile no component defines stops start-up
/// and names the profiles that exist.
#[test]
fn an_undefined_profile_stops_start_up() {
    support::ensure_built();
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(support::fbposts_bin())
        .current_dir(support::repo_root())
        .args(["up", "-f", "spin.toml", "--listen", "127.0.0.1:0"])
        .args(["--profile", "wasi-nnn", "--state-dir"])
        .arg(dir.path())
        .output_within(Duration::from_secs(60));
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "profile `wasi-nnn` is not defined in this application (defined profiles: wasi-nn)"
        ),
        "{stderr}"
    );
}

/// The hour of an RFC 3339 `at` in its own offset, and the offset.
fn local_hour_and_offset(at: &Value) -> (u32, String) {
    let at = at.as_str().expect("at is a string");
    (at[11..13].parse().unwrap(), at[19..].to_string())
}

/// The best times' (weekday, local hour), each checked to be in `offset`.
fn best_slots(reply: &Value, offset: &str) -> Vec<(u64, u32)> {
    reply["best_times"]
        .as_array()
        .expect("best_times")
        .iter()
        .map(|b| {
            let (hour, at_offset) = local_hour_and_offset(&b["at"]);
            assert_eq!(at_offset, offset, "{b}");
            assert_eq!(u64::from(hour), b["hour"].as_u64().unwrap(), "{b}");
            (b["weekday"].as_u64().unwrap(), hour)
        })
        .collect()
}

/// The case (a 120k-likes photo scheduled on Tuesday 18:30 at
/// -05:00) used to get Wednesday 03:30, Monday 11:30 and Thursday 02:30.
#[test]
fn best_times_stay_inside_the_posting_window() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &[]);
    let body = json!({"page_likes": 120000, "post_type": "photo",
                      "scheduled_at": "2026-12-01T18:30:00-05:00"});
    let reply = post_json(&server, "/api/predict", &body);
    assert_eq!(reply.status, 200, "{}", reply.text);
    let slots = best_slots(&reply.body, "-05:00");
    eprintln!("default window: {:?}", reply.body["best_times"]);
    assert_eq!(slots.len(), 3);
    assert!(slots.iter().all(|(_, h)| (7..=21).contains(h)), "{slots:?}");
    let mut days: Vec<u64> = slots.iter().map(|(d, _)| *d).collect();
    days.sort_unstable();
    days.dedup();
    assert_eq!(days.len(), 3, "{slots:?}");
    assert_eq!(
        reply.body["input"]["posting_window"],
        json!({"start": "07:00", "end": "22:00", "offset": "-05:00"})
    );
    let basis = &reply.body["best_times_basis"];
    assert_eq!(basis["source"], "global_model_2014_single_page", "{basis}");
    assert_eq!(basis["hour_effect_weight"], 0.5);
    for b in reply.body["best_times"].as_array().unwrap() {
        let (p10, p50, p90) = (
            b["total_interactions_p10"].as_u64().unwrap(),
            b["total_interactions_p50"].as_u64().unwrap(),
            b["total_interactions_p90"].as_u64().unwrap(),
        );
        assert!(p10 <= p50 && p50 <= p90, "{b}");
    }

    // A custom window, crossing midnight, in the request's offset.
    let mut late = body.clone();
    late["posting_window"] = json!({"start": "20:00", "end": "01:00"});
    let reply = post_json(&server, "/api/predict", &late);
    assert_eq!(reply.status, 200, "{}", reply.text);
    let slots = best_slots(&reply.body, "-05:00");
    eprintln!("20:00-01:00 window: {slots:?}");
    assert_eq!(slots.len(), 3);
    assert!(
        slots.iter().all(|(_, h)| *h >= 20 || *h == 0),
        "20:30 … 00:30 only: {slots:?}"
    );
    assert_eq!(
        reply.body["input"]["posting_window"],
        json!({"start": "20:00", "end": "01:00", "offset": "-05:00"})
    );

    // A bad window: 422, the field named.
    for (window, field) in [
        (
            json!({"start": "25:00", "end": "22:00"}),
            "'posting_window.start'",
        ),
        (
            json!({"start": "09:00", "end": "09:30"}),
            "'posting_window'",
        ),
        (json!("07:00-22:00"), "'posting_window'"),
    ] {
        let mut bad = body.clone();
        bad["posting_window"] = window.clone();
        let reply = post_json(&server, "/api/predict", &bad);
        assert_eq!(reply.status, 422, "{window}: {}", reply.text);
        assert_eq!(reply.body["error"]["code"], "invalid_field", "{window}");
        let message = reply.body["error"]["message"].as_str().unwrap();
        assert!(message.contains(field), "{window}: {message}");
    }
}

/// A page whose own posts do far better in the evening than in the day
/// (feedback through `/api/feedback`) gets evening best times, on its own
/// outcomes, once it has sent 20 events spread over the day.
#[test]
fn a_page_whose_feedback_shows_evenings_win_gets_evening_best_times() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &[]);
    let ask = json!({"page_likes": 120000, "post_type": "photo", "page_id": "night-market",
                     "scheduled_at": "2026-12-01T18:30:00-05:00"});
    for i in 0..24u64 {
        let (hour, interactions) = if i % 2 == 0 {
            ([8, 10, 12, 14][(i / 2 % 4) as usize], 40)
        } else {
            ([19, 20, 21][(i / 2 % 3) as usize], 900)
        };
        let event = json!({"text": format!("Mercado nocturno, publicación {i}"), "page_id": "night-market",
                           "page_likes": 120000, "post_type": "photo",
                           "published_at": format!("{}T{hour:02}:15:00-05:00", support::date_days_ago(25 - i)),
                           "metrics": {"reactions": interactions * 8 / 10, "comments": interactions / 10,
                                       "shares": interactions / 10}});
        let reply = post_json(&server, "/api/feedback", &event);
        assert_eq!(reply.status, 200, "{}", reply.text);
        if i == 11 {
            // Twelve events: blended, but too few to rank hours on.
            let reply = post_json(&server, "/api/predict", &ask);
            assert_eq!(reply.status, 200, "{}", reply.text);
            assert_eq!(reply.body["model"]["answered_by"], "page-blend");
            let basis = &reply.body["best_times_basis"];
            assert_eq!(basis["source"], "global_model_2014_single_page", "{basis}");
            assert_eq!(basis["page_observations"], 12);
        }
    }
    let reply = post_json(&server, "/api/predict", &ask);
    assert_eq!(reply.status, 200, "{}", reply.text);
    let basis = &reply.body["best_times_basis"];
    assert_eq!(basis["source"], "page_feedback", "{basis}");
    assert_eq!(basis["page_observations"], 24);
    let slots = best_slots(&reply.body, "-05:00");
    eprintln!("page feedback: {:?}", reply.body["best_times"]);
    assert_eq!(slots.len(), 3);
    assert!(
        slots.iter().all(|(_, h)| (17..=21).contains(h)),
        "evening best times: {slots:?}"
    );
}
