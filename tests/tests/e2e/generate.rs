//! `POST /api/generate` through the real host, Spanish and English: unique
//! candidates in the requested language (checked by an independent language
//! detector, whatlang over all its languages), hashtag / emoji / length /
//! brand-voice constraints, quality on average above the target, the cache,
//! the experiments listing, and bad input.

use serde_json::{Value, json};
use std::collections::HashSet;
use support::{Server, get, post_json};

/// Average quality score generated posts must reach (`/api/analyze`'s scale).
const QUALITY_TARGET: f64 = 0.75;

fn hashtags(text: &str) -> Vec<String> {
    text.split_whitespace()
        .filter(|w| w.starts_with('#') && w.len() > 1)
        .map(|w| {
            w.trim_end_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .collect()
}

fn has_emoji(text: &str) -> bool {
    text.chars().any(|c| {
        let c = c as u32;
        (0x1F300..=0x1FAFF).contains(&c) || (0x2600..=0x27BF).contains(&c)
    })
}

fn opening(text: &str) -> String {
    text.split_whitespace()
        .take(5)
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn candidates(reply: &Value) -> &Vec<Value> {
    reply["candidates"].as_array().expect("candidates")
}

#[test]
fn briefs_in_both_languages_give_unique_constrained_posts() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::app(dir.path());
    let briefs = [
        (
            json!({"topic": "café de especialidad", "audience": "amantes del café", "tone": "friendly",
                   "goal": "engagement", "language": "es", "length": "medium", "hashtags": 3, "emoji": true,
                   "keywords": ["tueste artesanal"], "brand_voice": {"name": "Café Aurora", "use_words": ["artesanal"], "avoid_words": ["barato"]},
                   "n": 5, "seed": 7}),
            whatlang::Lang::Spa,
        ),
        (
            json!({"topic": "home workouts", "audience": "busy parents", "tone": "inspirational",
                   "goal": "community", "language": "en", "length": "short", "hashtags": 2, "emoji": false,
                   "brand_voice": {"use_words": ["together"], "avoid_words": ["cheap", "easy"]},
                   "n": 5, "seed": 11}),
            whatlang::Lang::Eng,
        ),
        (
            json!({"topic": "nueva tienda online", "tone": "urgent", "goal": "traffic", "language": "es",
                   "length": "short", "hashtags": 1, "cta": "https://tienda.example.com/ofertas", "n": 4, "seed": 3}),
            whatlang::Lang::Spa,
        ),
        (
            json!({"topic": "cloud security checklist", "tone": "professional", "goal": "conversion",
                   "language": "en", "length": "long", "hashtags": 4, "n": 4, "seed": 5}),
            whatlang::Lang::Eng,
        ),
    ];
    let mut scores = Vec::new();
    for (brief, lang) in &briefs {
        let reply = post_json(&server, "/api/generate", brief);
        assert_eq!(reply.status, 200, "{brief}: {}", reply.text);
        assert_eq!(reply.cache.as_deref(), Some("miss"));
        let list = candidates(&reply.body);
        assert_eq!(list.len() as u64, brief["n"].as_u64().unwrap());
        let texts: HashSet<&str> = list.iter().map(|c| c["text"].as_str().unwrap()).collect();
        assert_eq!(texts.len(), list.len(), "duplicate candidates");
        let openings: HashSet<String> = texts.iter().map(|t| opening(t)).collect();
        assert_eq!(openings.len(), list.len(), "shared openings: {texts:?}");
        let mut last_score = f64::INFINITY;
        for (i, c) in list.iter().enumerate() {
            let text = c["text"].as_str().unwrap();
            assert_eq!(c["rank"], i + 1);
            let rank_score = c["rank_score"].as_f64().unwrap();
            assert!(rank_score <= last_score, "not ranked best first");
            last_score = rank_score;
            let detected = whatlang::detect(text).map(|i| i.lang());
            assert_eq!(detected, Some(*lang), "language of {text:?}");
            let tags = hashtags(text);
            assert_eq!(
                tags.len() as u64,
                brief["hashtags"].as_u64().unwrap(),
                "{text:?}"
            );
            assert_eq!(
                tags.iter().collect::<HashSet<_>>().len(),
                tags.len(),
                "duplicate hashtags in {text:?}"
            );
            if brief["emoji"] == json!(false) {
                assert!(!has_emoji(text), "emoji in {text:?}");
            }
            let chars = text.chars().count();
            let (lo, hi) = match brief["length"].as_str().unwrap() {
                "short" => (40, 200),
                "medium" => (120, 450),
                _ => (250, 900),
            };
            assert!((lo..=hi).contains(&chars), "{chars} chars: {text:?}");
            let lower = text.to_lowercase();
            if let Some(voice) = brief.get("brand_voice") {
                for word in voice["avoid_words"].as_array().unwrap() {
                    assert!(
                        !lower.contains(word.as_str().unwrap()),
                        "forbidden {word} in {text:?}"
                    );
                }
                for word in voice["use_words"].as_array().unwrap() {
                    assert!(
                        lower.contains(word.as_str().unwrap()),
                        "missing {word} in {text:?}"
                    );
                }
            }
            if let Some(url) = brief.get("cta").and_then(Value::as_str) {
                assert!(text.contains(url), "CTA link missing in {text:?}");
            }
            assert_eq!(c["generator"], "template");
            assert!(c["id"].as_str().unwrap().starts_with("c-"));
            assert!(c["predicted_engagement"]["total_interactions"]["p50"].is_u64());
            scores.push(c["quality"]["score"].as_f64().unwrap());
        }
        assert_eq!(reply.body["generator"]["chosen"], "template");
        assert!(
            !reply.body["generator"]["reason"]
                .as_str()
                .unwrap()
                .is_empty()
        );
    }
    let mean = scores.iter().sum::<f64>() / scores.len() as f64;
    assert!(
        mean >= QUALITY_TARGET,
        "mean quality {mean:.3} < {QUALITY_TARGET}"
    );

    // The same brief and seed: served from the cache, same candidates.
    let again = post_json(&server, "/api/generate", &briefs[0].0);
    assert_eq!(again.cache.as_deref(), Some("hit"));
    assert_eq!(again.body["cache"], "hit");
    let first = post_json(&server, "/api/generate", &briefs[0].0);
    assert_eq!(candidates(&first.body), candidates(&again.body));
    // Another seed: different posts.
    let mut other = briefs[0].0.clone();
    other["seed"] = json!(8);
    let other = post_json(&server, "/api/generate", &other);
    assert_ne!(
        candidates(&other.body)[0]["text"],
        candidates(&again.body)[0]["text"]
    );

    // Every assignment is visible as a pull in the experiments.
    let experiments = get(&server, "/api/experiments?family=structure");
    assert_eq!(experiments.status, 200, "{}", experiments.text);
    let pulls: u64 = experiments.body["experiments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pulls"].as_u64().unwrap())
        .sum();
    assert_eq!(pulls, 5 + 5 + 4 + 4 + 5);
}

#[test]
fn generate_rejects_bad_briefs() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::app(dir.path());
    let cases = [
        json!({}),
        json!({"topic": ""}),
        json!({"topic": "x", "tone": "sarcastic"}),
        json!({"topic": "x", "goal": "fame"}),
        json!({"topic": "x", "language": "fr"}),
        json!({"topic": "x", "n": 0}),
        json!({"topic": "x", "n": 11}),
        json!({"topic": "x", "hashtags": 6}),
        json!({"topic": "x", "budget": -1}),
        json!({"topic": "x", "length": "epic"}),
        json!({"topic": "x", "keywords": "not a list"}),
    ];
    for body in cases {
        let reply = post_json(&server, "/api/generate", &body);
        assert!(
            (400..500).contains(&reply.status),
            "{body}: {} {}",
            reply.status,
            reply.text
        );
        assert!(reply.body["error"]["message"].is_string(), "{}", reply.text);
    }
    let experiments = post_json(&server, "/api/experiments", &json!({}));
    assert_eq!(experiments.status, 405);
}
