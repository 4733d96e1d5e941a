//! Behaviour of [`enhance`] on the test corpus: never lowers the score,
//! removes bait, keeps facts, is deterministic, writes correct Spanish
//! punctuation, and each rule does its job.

use crate::corpus::POSTS;
use crate::facts::{facts, preserved};
use crate::text::sentences;
use crate::{EnhanceRequest, Enhancement, enhance};
use fbposts_core::{Language, bait};

fn run(lang: &str, text: &str) -> Enhancement {
    enhance(&EnhanceRequest {
        language: Language::parse(lang),
        ..EnhanceRequest::new(text)
    })
}

fn all() -> Vec<(&'static str, &'static str, Enhancement)> {
    POSTS.iter().map(|(l, t)| (*l, *t, run(l, t))).collect()
}

#[test]
fn corpus_is_large_enough() {
    assert!(POSTS.len() >= 20);
    assert!(POSTS.iter().filter(|(l, _)| *l == "es").count() >= 10);
    assert!(POSTS.iter().filter(|(l, _)| *l == "en").count() >= 10);
}

#[test]
fn never_lowers_the_score_and_reports_consistently() {
    let mut uplift = 0.0;
    for (lang, text, e) in all() {
        assert!(
            e.enhanced.score >= e.original.score,
            "{lang}: {text}\n{e:#?}"
        );
        assert_eq!(e.target_reached, e.enhanced.score >= e.target_score);
        assert_eq!(e.message.is_some(), !e.target_reached);
        assert!(e.edits.len() <= 8);
        if e.edits.is_empty() {
            assert_eq!(e.enhanced.text, e.original.text);
        }
        for edit in &e.edits {
            assert!(!edit.rule.is_empty());
            assert_ne!(edit.before, edit.after, "{edit:?}");
        }
        uplift += e.enhanced.score - e.original.score;
        println!(
            "{lang} {:.3} -> {:.3} ({} edits: {:?})\n  {}\n  => {}",
            e.original.score,
            e.enhanced.score,
            e.edits.len(),
            e.edits.iter().map(|x| x.rule).collect::<Vec<_>>(),
            e.original.text.replace('\n', " / "),
            e.enhanced.text.replace('\n', " / ")
        );
    }
    println!("average uplift: {:.3}", uplift / POSTS.len() as f64);
}

#[test]
fn weak_posts_improve() {
    let weak: Vec<_> = all()
        .into_iter()
        .filter(|(_, _, e)| e.original.score < 0.6)
        .collect();
    assert!(weak.len() >= 8, "{}", weak.len());
    for (lang, text, e) in weak {
        assert!(
            e.enhanced.score > e.original.score + 0.03,
            "{lang}: {text}\n{e:#?}"
        );
        assert!(!e.edits.is_empty());
    }
}

#[test]
fn bait_is_removed() {
    for (lang, text, e) in all() {
        if bait::find_in(text).is_empty() {
            continue;
        }
        assert!(
            bait::find_in(&e.enhanced.text).is_empty(),
            "{lang}: bait left in {:?}",
            e.enhanced.text
        );
        assert!(e.edits.iter().any(|x| x.rule == "engagement_bait"));
    }
}

#[test]
fn facts_survive_on_every_post() {
    for (lang, text, e) in all() {
        // Short sentences that are all bait ("Etiqueta a 3 amigos!!!") may
        // go whole: their numbers belong to the bait.
        let bait_only: Vec<&str> = sentences(text)
            .iter()
            .map(|s| &text[s.start..s.end])
            .filter(|s| !bait::find_in(s).is_empty() && s.split_whitespace().count() <= 6)
            .collect();
        let exempt: Vec<String> = bait_only.iter().flat_map(|s| facts(s)).collect();
        let before = crate::facts::without(&facts(text), &exempt);
        let after = facts(&e.enhanced.text);
        assert!(
            preserved(&before, &after),
            "{lang}: lost facts\n{before:?}\n{after:?}\n{}",
            e.enhanced.text
        );
        // And, independently of the facts module: every digit run and URL.
        for token in text.split_whitespace() {
            let core: String = token
                .trim_matches(|c: char| !c.is_alphanumeric() && c != '/' && c != '$' && c != '€')
                .to_string();
            let in_bait = bait_only.iter().any(|s| s.contains(token));
            if core.chars().any(|c| c.is_ascii_digit()) && !token.starts_with('#') && !in_bait {
                assert!(
                    e.enhanced.text.contains(&core),
                    "{lang}: lost {core:?} in {:?}",
                    e.enhanced.text
                );
            }
            if token.contains("www.") || token.contains("http") {
                assert!(e.enhanced.text.contains(token), "{lang}: lost {token}");
            }
        }
    }
}

#[test]
fn deterministic() {
    for (lang, text) in POSTS {
        assert_eq!(run(lang, text), run(lang, text));
    }
}

#[test]
fn spanish_punctuation_stays_paired() {
    for (lang, text, e) in all() {
        if lang != "es" {
            continue;
        }
        let count = |s: &str, c: char| s.chars().filter(|x| *x == c).count();
        let t = &e.enhanced.text;
        // Every mark the enhancer added comes with its opening pair.
        let added_q = count(t, '?') as isize - count(text, '?') as isize;
        let added_oq = count(t, '¿') as isize - count(text, '¿') as isize;
        assert_eq!(added_q, added_oq, "{t}");
        if count(text, '¡') == count(text, '!') {
            assert_eq!(count(t, '¡'), count(t, '!'), "{t}");
        }
    }
}

#[test]
fn strong_posts_are_not_lowered_and_barely_touched() {
    for (lang, text) in POSTS
        .iter()
        .filter(|(_, t)| t.starts_with("¿Sabías") || t.starts_with("Did you know"))
    {
        let e = run(lang, text);
        assert!(e.enhanced.score >= e.original.score);
        assert!(e.edits.len() <= 2, "{e:#?}");
    }
}

#[test]
fn nothing_helps_returns_the_original() {
    let e = enhance(&EnhanceRequest {
        target_score: 1.0,
        ..EnhanceRequest::new(POSTS[10].1)
    });
    assert!(!e.target_reached);
    assert!(e.message.as_deref().is_some_and(|m| m.contains("1.00")));
    let e = enhance(&EnhanceRequest {
        target_score: 0.0,
        ..EnhanceRequest::new(POSTS[0].1)
    });
    assert!(e.target_reached && e.edits.is_empty() && e.message.is_none());
    assert_eq!(e.enhanced, e.original);
}

#[test]
fn max_edits_is_honoured() {
    let e = enhance(&EnhanceRequest {
        max_edits: 1,
        ..EnhanceRequest::new(POSTS[0].1)
    });
    assert_eq!(e.edits.len(), 1);
    assert!(e.enhanced.score > e.original.score);
    assert!(
        e.message
            .as_deref()
            .is_some_and(|m| m.contains("max_edits"))
    );
}

#[test]
fn rules_are_named_in_the_edits() {
    let mut seen = std::collections::BTreeSet::new();
    for (l, t) in POSTS {
        let e = enhance(&EnhanceRequest {
            language: Language::parse(l),
            target_score: 1.0,
            max_edits: 20,
            ..EnhanceRequest::new(*t)
        });
        assert!(e.enhanced.score >= e.original.score);
        seen.extend(e.edits.iter().map(|x| x.rule));
    }
    for rule in [
        "engagement_bait",
        "caps",
        "exclamations",
        "hashtags",
        "call_to_action",
        "hook",
        "emoji",
    ] {
        assert!(seen.contains(rule), "{rule} never applied: {seen:?}");
    }
}
