//! Substance in generated posts: with `details`, every draft in both
//! languages carries each detail verbatim and scores at least 0.8 under the
//! substance-gated score; without them the same brief's drafts score lower.

use crate::brief::{Brief, Cta, Goal, Length};
use crate::compose::write_drafts;
use crate::conform::check;
use crate::details::contains_detail;
use fbposts_core::{AnalyzeRequest, Language, Tone, analyze};

/// Lowest score a draft built on details may get.
const MIN_WITH_DETAILS: f64 = 0.8;
/// The same when the client turned off both emoji and hashtags: the
/// scorer's own hygiene signals charge up to 0.024 + 0.021 for that.
const MIN_WITHOUT_EMOJI_OR_TAGS: f64 = 0.75;

struct Case {
    lang: Language,
    topic: &'static str,
    details: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        lang: Language::Es,
        topic: "cata de café de especialidad",
        details: &[
            "sábado 14 de junio, 11:00",
            "Café Aurora, Calle Luna 5",
            "12 € por persona",
        ],
    },
    Case {
        lang: Language::Es,
        topic: "menú de mediodía",
        details: &[
            "lentejas con chorizo y merluza a la romana",
            "13,50 € con postre",
            "de lunes a viernes, de 13:00 a 16:00",
        ],
    },
    Case {
        lang: Language::Es,
        topic: "clases de yoga para principiantes",
        details: &[
            "martes y jueves a las 19:30",
            "primera clase gratis",
            "https://yoganucleo.es/reserva",
        ],
    },
    Case {
        lang: Language::En,
        topic: "latte art class",
        details: &[
            "Saturday, June 14 at 10am",
            "Aurora Coffee, 5 Moon Street",
            "$25 with two drinks",
        ],
    },
    Case {
        lang: Language::En,
        topic: "our spring sale",
        details: &[
            "30% off all linen shirts",
            "until Sunday, April 6",
            "https://ateliermar.com/sale",
        ],
    },
    Case {
        lang: Language::En,
        topic: "home composting",
        details: &[
            "free workshop at the Northside library",
            "Wednesday the 9th at 6pm",
            "bins for $15 while they last",
        ],
    },
];

fn brief(case: &Case, seed: u64, with_details: bool) -> Brief {
    let mut b = Brief::new(case.topic);
    b.language = case.lang;
    b.seed = seed;
    b.tone = Tone::ALL[seed as usize % 6];
    b.goal = Goal::ALL[seed as usize % 5];
    b.length = [Length::Medium, Length::Long][seed as usize % 2];
    b.hashtags = (seed % 3) as u8;
    b.emoji = seed % 4 != 3;
    if seed % 5 == 2 {
        b.cta = Some(Cta::Text(match case.lang {
            Language::Es => "Reserva tu plaza".into(),
            Language::En => "Save your spot".into(),
        }));
    }
    if with_details {
        b.details = case.details.iter().map(|d| d.to_string()).collect();
    }
    b
}

fn analysis(b: &Brief, text: &str) -> fbposts_core::Analysis {
    analyze(&AnalyzeRequest {
        language: Some(b.language),
        post_type: b.post_type,
        tone: Some(b.tone),
        ..AnalyzeRequest::new(text)
    })
}

fn score(b: &Brief, text: &str) -> f64 {
    analysis(b, text).score
}

#[test]
fn with_details_every_draft_carries_each_detail_verbatim_and_scores_at_least_0_8() {
    let mut low = Vec::new();
    let mut total = 0;
    for case in CASES {
        for seed in 0..20 {
            let b = brief(case, seed, true);
            let drafts = write_drafts(&b, &[], 3);
            assert_eq!(drafts.len(), 3);
            for d in drafts {
                for detail in case.details {
                    assert!(contains_detail(&d.text, detail), "{detail}:\n{}", d.text);
                }
                let problems = check(&b, &d.text);
                assert!(problems.is_empty(), "{}\n{problems:?}", d.text);
                let a = analysis(&b, &d.text);
                let weak: Vec<String> = a
                    .breakdown
                    .iter()
                    .filter(|s| s.score < 0.8)
                    .map(|s| format!("{} {}", s.name, s.score))
                    .collect();
                total += 1;
                let min = if b.emoji || b.hashtags > 0 {
                    MIN_WITH_DETAILS
                } else {
                    MIN_WITHOUT_EMOJI_OR_TAGS
                };
                if a.score < min {
                    low.push(format!(
                        "{} (form {}, gate {}, weak: {weak:?}):\n{}",
                        a.score, a.weighted, a.gate.factor, d.text
                    ));
                }
            }
        }
    }
    assert!(
        low.is_empty(),
        "{} of {total} drafts below {MIN_WITH_DETAILS}:\n{}",
        low.len(),
        low.join("\n---\n")
    );
}

#[test]
fn without_details_the_same_brief_scores_lower() {
    for case in CASES {
        let (mut with, mut without) = (0.0, 0.0);
        for seed in 0..20 {
            for (details, total) in [(true, &mut with), (false, &mut without)] {
                let b = brief(case, seed, details);
                for d in write_drafts(&b, &[], 3) {
                    *total += score(&b, &d.text);
                }
            }
        }
        assert!(
            with > without,
            "{}: with {with:.2}, without {without:.2}",
            case.topic
        );
        println!(
            "{}: mean with details {:.3}, without {:.3}",
            case.topic,
            with / 60.0,
            without / 60.0
        );
    }
}

#[test]
fn the_hook_opens_with_the_most_striking_detail() {
    let b = brief(&CASES[0], 1, true);
    for d in write_drafts(&b, &[], 3) {
        let first = d.text.lines().next().unwrap_or("");
        // The price is the most striking detail (an offer beats a date).
        assert!(first.contains("12 € por persona"), "{}", d.text);
    }
}

#[test]
fn a_link_among_the_details_is_the_call_to_action_link() {
    let b = brief(&CASES[4], 2, true);
    for d in write_drafts(&b, &[], 3) {
        assert_eq!(
            d.text.matches("https://ateliermar.com/sale").count(),
            1,
            "{}",
            d.text
        );
    }
}
