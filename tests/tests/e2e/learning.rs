//! The learning loop through the real host, seeded and deterministic:
//! generate → publish (simulated) → feedback, where one template structure
//! truly performs better; and a page whose posts consistently beat the
//! global model, which predict learns to blend in.

use serde_json::{Value, json};
use support::{Server, get, post_json};

/// A small deterministic generator for simulated outcomes (SplitMix64).
struct Sim(u64);

impl Sim {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Multiplicative noise, roughly ×0.8 to ×1.25.
    fn noise(&mut self) -> f64 {
        (0.45 * (self.next() - 0.5)).exp()
    }
}

fn metrics(interactions: f64) -> Value {
    let total = interactions.round().max(0.0) as u64;
    json!({"reactions": total * 8 / 10, "comments": total / 10, "shares": total - total * 8 / 10 - total / 10})
}

#[test]
fn a_truly_better_structure_wins_most_assignments() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::app(dir.path());
    let best = fbposts_writer::STRUCTURES[2].id;
    let brief = |seed: u64| {
        json!({"topic": "recetas de temporada", "language": "es", "tone": "friendly", "goal": "engagement",
               "n": 1, "seed": seed, "page": {"id": "huerta", "likes": 120000}, "post_type": "photo"})
    };
    let mut sim = Sim(2024);
    for round in 0..1000u64 {
        let reply = post_json(&server, "/api/generate", &brief(round));
        assert_eq!(reply.status, 200, "{}", reply.text);
        let candidate = &reply.body["candidates"][0];
        let variant = candidate["prompt_variant"].as_str().unwrap();
        let base = 120.0 * sim.noise();
        let interactions = if variant == best { base * 2.5 } else { base };
        let feedback = post_json(
            &server,
            "/api/feedback",
            &json!({"id": candidate["id"], "published_at": support::days_ago_rfc3339(1), "metrics": metrics(interactions)}),
        );
        assert_eq!(feedback.status, 200, "{}", feedback.text);
        assert_eq!(feedback.body["duplicate"], false);
        assert_eq!(feedback.body["credited"].as_array().unwrap().len(), 2);
    }
    // New assignments: the better structure gets most of them.
    let mut chosen = 0;
    for seed in 10_000..10_100u64 {
        let reply = post_json(&server, "/api/generate", &brief(seed));
        if reply.body["candidates"][0]["prompt_variant"] == best {
            chosen += 1;
        }
    }
    assert!(
        chosen > 50,
        "best structure got {chosen}/100 new assignments"
    );
    // The experiments listing agrees.
    let listing = get(
        &server,
        "/api/experiments?family=structure&context=es.engagement.friendly",
    );
    let arms = listing.body["experiments"][0]["arms"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(arms[0]["id"], best, "{arms:?}");
    assert!(
        arms[0]["probability_best"].as_f64().unwrap() > 0.9,
        "{arms:?}"
    );
}

#[test]
fn feedback_is_idempotent_and_validated() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::app(dir.path());
    let reply = post_json(
        &server,
        "/api/generate",
        &json!({"topic": "yoga en casa", "n": 1, "seed": 1, "page": {"id": 42, "likes": 5000}, "post_type": "video"}),
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    let id = reply.body["candidates"][0]["id"].clone();
    let event = json!({"id": id, "published_at": support::days_ago_rfc3339(1), "metrics": {"reactions": 50, "comments": 5, "shares": 2, "reach": 3000}});
    let first = post_json(&server, "/api/feedback", &event);
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.body["duplicate"], false);
    assert_eq!(first.body["page_id"], "42");
    assert_eq!(first.body["page_model"]["observations"], 1);
    let second = post_json(&server, "/api/feedback", &event);
    assert_eq!(second.body["duplicate"], true);
    assert_eq!(second.body["page_model"]["observations"], 1);
    let listing = get(&server, "/api/experiments?family=structure");
    let rewards: u64 = listing.body["experiments"][0]["rewards"].as_u64().unwrap();
    assert_eq!(rewards, 1, "duplicate feedback was credited twice");

    let bad = [
        json!({"id": "c-doesnotexist", "published_at": support::days_ago_rfc3339(1), "metrics": {"reactions": 1, "comments": 0, "shares": 0}}),
        json!({"id": id, "metrics": {"reactions": 1, "comments": 0, "shares": 0}}),
        json!({"id": id, "published_at": support::days_ago_rfc3339(1), "metrics": {"reactions": -1, "comments": 0, "shares": 0}}),
        json!({"text": "hola", "published_at": support::days_ago_rfc3339(1), "metrics": {"reactions": 1, "comments": 0, "shares": 0}}),
        json!({"published_at": support::days_ago_rfc3339(1), "metrics": {"reactions": 1, "comments": 0, "shares": 0}}),
    ];
    for body in bad {
        let reply = post_json(&server, "/api/feedback", &body);
        assert!((400..500).contains(&reply.status), "{body}: {}", reply.text);
    }
    // Feedback records are kept 400 days: an older event is refused, so a
    // resend never outlives the record that would catch it.
    let too_old = json!({"id": id, "published_at": support::days_ago_rfc3339(401), "metrics": {"reactions": 1, "comments": 0, "shares": 0}});
    let reply = post_json(&server, "/api/feedback", &too_old);
    assert_eq!(
        (reply.status, reply.body["error"]["code"].as_str()),
        (422, Some("event_too_old")),
        "{}",
        reply.text
    );
}

#[test]
fn a_page_model_beats_the_global_one_on_its_own_posts() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::app(dir.path());
    // This page's posts get about 3x what the global model predicts.
    let mut sim = Sim(7);
    let context = |i: u64| {
        json!({"page_likes": 80000, "post_type": if i.is_multiple_of(3) { "status" } else { "photo" }, "paid": i.is_multiple_of(4),
               "scheduled_at": format!("2026-11-{:02}T{:02}:00:00-03:00", 1 + i % 28, 7 + (i * 5) % 15)})
    };
    let global_p50 = |server: &Server, ctx: &Value| {
        let reply = post_json(server, "/api/predict", ctx);
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert_eq!(reply.body["model"]["answered_by"], "global");
        reply.body["predictions"]["total_interactions"]["p50"]
            .as_f64()
            .unwrap()
    };
    for i in 0..30u64 {
        let ctx = context(i);
        let actual = 3.0 * global_p50(&server, &ctx) * sim.noise();
        let event = json!({"text": format!("Publicación número {i} de la huerta"), "page_id": "huerta-verde",
                           "page_likes": 80000, "post_type": ctx["post_type"], "paid": ctx["paid"],
                           "published_at": ctx["scheduled_at"], "metrics": metrics(actual)});
        let reply = post_json(&server, "/api/feedback", &event);
        assert_eq!(reply.status, 200, "{}", reply.text);
    }
    let (mut global_err, mut page_err) = (0.0, 0.0);
    for i in 100..110u64 {
        let ctx = context(i);
        let global = global_p50(&server, &ctx);
        let actual = 3.0 * global * sim.noise();
        let mut with_page = ctx.clone();
        with_page["page_id"] = json!("huerta-verde");
        let reply = post_json(&server, "/api/predict", &with_page);
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert_eq!(
            reply.body["model"]["answered_by"], "page-blend",
            "{}",
            reply.text
        );
        assert_eq!(reply.body["model"]["page"]["observations"], 30);
        let blended = reply.body["predictions"]["total_interactions"]["p50"]
            .as_f64()
            .unwrap();
        global_err += (global - actual).abs();
        page_err += (blended - actual).abs();
    }
    assert!(
        page_err < global_err * 0.5,
        "page blend error {page_err:.0} vs global {global_err:.0}"
    );
}
