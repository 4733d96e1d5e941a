//! Prints three drafts for every language × tone (goal rotating), with and
//! without details, each with its score from core's analyser — for a person
//! to judge how the template engine reads.
//!
//! `cargo run --release -p fbposts-writer --example samples`

use fbposts_core::{AnalyzeRequest, Language, Tone, analyze};
use fbposts_writer::{Brief, Goal, write_drafts};

/// A topic and the facts a post about it would carry, per language.
struct Subject {
    topic: &'static str,
    details: &'static [&'static str],
}

const SPANISH: Subject = Subject {
    topic: "café de especialidad",
    details: &["café de Etiopía Yirgacheffe", "bolsa de 250 g por 12 €"],
};
const ENGLISH: Subject = Subject {
    topic: "the spring sale",
    details: &["30% off all linen shirts", "until Sunday, April 6"],
};

fn brief(language: Language, subject: &Subject, tone: Tone, goal: Goal, seed: u64) -> Brief {
    let mut brief = Brief::new(subject.topic);
    brief.language = language;
    brief.tone = tone;
    brief.goal = goal;
    brief.seed = seed;
    brief.details = subject.details.iter().map(|d| d.to_string()).collect();
    brief
}

fn score(brief: &Brief, text: &str) -> f64 {
    analyze(&AnalyzeRequest {
        text: text.to_string(),
        language: Some(brief.language),
        post_type: brief.post_type,
        audience: brief.audience.clone(),
        tone: Some(brief.tone),
    })
    .score
}

fn main() {
    for (language, subject) in [(Language::Es, &SPANISH), (Language::En, &ENGLISH)] {
        for (i, tone) in Tone::ALL.iter().enumerate() {
            let goal = Goal::ALL[i % Goal::ALL.len()];
            let with_details = brief(language, subject, *tone, goal, i as u64 * 7 + 2);
            let generic = Brief {
                details: Vec::new(),
                ..with_details.clone()
            };
            for (label, brief) in [("details", &with_details), ("generic", &generic)] {
                println!(
                    "=== {} {} {} ({label}) ===",
                    language.code(),
                    tone.code(),
                    goal.code()
                );
                for draft in write_drafts(brief, &[], 3) {
                    let score = score(brief, &draft.text);
                    println!("[{}] score {score:.3}\n{}\n", draft.structure, draft.text);
                }
            }
        }
    }
}
