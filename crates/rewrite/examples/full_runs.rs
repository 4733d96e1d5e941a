//! Prints every post of the review corpus enhanced at target score 1.0 with
//! up to 20 edits — the rules applied, the score before and after, and the
//! text — for a person to read; ends with the average uplift.
//!
//! `cargo run --release -p fbposts-rewrite --example full_runs`

use fbposts_core::Language;
use fbposts_rewrite::corpus::POSTS;
use fbposts_rewrite::{EnhanceRequest, enhance};

fn main() {
    let mut total_uplift = 0.0;
    for (language, text) in POSTS {
        let enhancement = enhance(&EnhanceRequest {
            language: Language::parse(language),
            target_score: 1.0,
            max_edits: 20,
            ..EnhanceRequest::new(*text)
        });
        total_uplift += enhancement.enhanced.score - enhancement.original.score;
        let rules: Vec<&str> = enhancement.edits.iter().map(|edit| edit.rule).collect();
        println!(
            "{language} {:.3} -> {:.3} {rules:?}\n  => {}",
            enhancement.original.score,
            enhancement.enhanced.score,
            enhancement.enhanced.text.replace('\n', " / ")
        );
    }
    println!(
        "average uplift at target 1.0: {:.3}",
        total_uplift / POSTS.len() as f64
    );
}
