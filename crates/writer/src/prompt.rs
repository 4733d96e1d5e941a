//! Prompt variants for an LLM generator (the arms of the prompt bandit) and
//! [`llm_messages`], which spells out every constraint of the brief and
//! asks for a JSON array of posts. Whatever the model returns still goes
//! through [`crate::conform()`] and [`crate::check()`].

use crate::brief::{Brief, Cta, Goal};
use crate::compose::write_drafts;
use fbposts_core::{Language, Tone};

/// One way of asking the model. Ids are stable (bandit statistics are
/// stored under them): add variants, never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PromptVariant {
    pub id: &'static str,
    pub description: &'static str,
}

pub const PROMPT_VARIANTS: &[PromptVariant] = &[
    PromptVariant {
        id: "direct-v1",
        description: "Plain instructions: the brief and the rules, nothing else.",
    },
    PromptVariant {
        id: "persona-v1",
        description: "The model is a senior social media manager for the page, writing for its audience.",
    },
    PromptVariant {
        id: "example-v1",
        description: "Direct instructions plus one template-engine draft as a style and format example (not to be copied).",
    },
    PromptVariant {
        id: "checklist-v1",
        description: "Instructions as a numbered checklist the model must verify each post against before answering.",
    },
];

fn lang_name(l: Language) -> &'static str {
    match l {
        Language::Es => "Spanish (neutral, understood across Spain and Latin America)",
        Language::En => "English",
    }
}

fn goal_rule(g: Goal) -> &'static str {
    match g {
        Goal::Awareness => {
            "Goal: awareness. Inform; the call to action invites people to follow the page, save the post or learn more."
        }
        Goal::Engagement => {
            "Goal: engagement. Ask for genuine opinions (e.g. \"tell us in the comments what you think\"). Never ask for likes, reactions, shares, tags or one-word comments: that is engagement bait and Facebook demotes it."
        }
        Goal::Traffic => "Goal: traffic. The call to action sends people to the link.",
        Goal::Conversion => {
            "Goal: conversion. An offer-style call to action (order, book, sign up, message us) without inventing prices, discounts or deadlines."
        }
        Goal::Community => {
            "Goal: community. Close with a question to the audience about their own experience."
        }
    }
}

fn tone_rule(t: Tone) -> &'static str {
    match t {
        Tone::Friendly => "warm and close, like talking to a friend",
        Tone::Professional => "professional and confident, precise, no slang",
        Tone::Playful => "playful and light, with humour",
        Tone::Inspirational => "inspiring and uplifting",
        Tone::Urgent => "urgent: act now, without shouting or ALL CAPS",
        Tone::Informative => "informative: clear, useful facts and tips",
    }
}

/// The rules of the brief, one per line.
pub fn rules(brief: &Brief) -> Vec<String> {
    let (lo, hi) = brief.length_range();
    let mut r = vec![
        format!("Write in {}.", lang_name(brief.language)),
        format!("Topic: {}.", brief.topic),
        format!("Tone: {}.", tone_rule(brief.tone)),
        goal_rule(brief.goal).to_string(),
        format!(
            "Length: {lo}–{hi} characters per post, counting hashtags and emoji but not links."
        ),
        "The first line is a hook of at most 80 characters that makes people want to read on; no greetings like \"Hello everyone\".".to_string(),
    ];
    if let Some(a) = &brief.audience {
        r.push(format!("Audience: {a}. Speak to them directly."));
    }
    if let Some(p) = brief.post_type {
        r.push(format!("It is the text of a Facebook {} post.", p.code()));
    }
    r.push(match brief.hashtags {
        0 => "No hashtags.".to_string(),
        n => format!(
            "Exactly {n} hashtag{}, made only from the topic, keywords and details (no generic tags like #Ideas), all together on the last line, in CamelCase with ASCII letters only (no accents, e.g. #CafeDeOrigen).",
            if n == 1 { "" } else { "s" }
        ),
    });
    r.push(if brief.emoji {
        "Use 1 to 3 emoji that fit the tone and the topic.".to_string()
    } else {
        "Do not use any emoji.".to_string()
    });
    match &brief.cta {
        Some(Cta::Url(u)) => r.push(format!(
            "Include this link exactly once, in the call to action: {u}"
        )),
        Some(Cta::Text(t)) => r.push(format!("Include this call to action verbatim: \"{t}\"")),
        None => {}
    }
    if brief.details.is_empty() {
        r.push("No facts were given: do not invent prices, dates, places or names.".to_string());
    } else {
        let quoted: Vec<String> = brief.details.iter().map(|d| format!("\"{d}\"")).collect();
        r.push(format!(
            "Build the post around these details and include each one verbatim (same numbers, dates, names and links): {}. Open with the most striking one.",
            quoted.join(", ")
        ));
    }
    if !brief.keywords.is_empty() {
        r.push(format!(
            "Use these keywords naturally: {}.",
            brief.keywords.join(", ")
        ));
    }
    if let Some(bv) = &brief.brand_voice {
        if let Some(n) = &bv.name {
            r.push(format!("You write for the brand \"{n}\"."));
        }
        if !bv.use_words.is_empty() {
            r.push(format!(
                "Use each of these words at least once: {}.",
                bv.use_words.join(", ")
            ));
        }
        if !bv.avoid_words.is_empty() {
            r.push(format!(
                "Never use these words, not even inside hashtags: {}.",
                bv.avoid_words.join(", ")
            ));
        }
    }
    if brief.language == Language::Es {
        r.push("Spanish punctuation: open every question with ¿ and every exclamation with ¡. Avoid gender agreement mistakes.".to_string());
    }
    r.push("No engagement bait (\"like if\", \"share if\", \"tag a friend\", \"comment YES\"), no ALL CAPS words, no \"!!\".".to_string());
    r.push("Every post must be genuinely different: a different opening line and a different structure.".to_string());
    r
}

/// Chat messages asking the model for `count` posts as a JSON array of
/// strings, in the brief's language, with every constraint spelled out.
pub fn llm_messages(brief: &Brief, variant: &PromptVariant, count: usize) -> Vec<(String, String)> {
    let output = format!(
        "Answer with a JSON array of exactly {count} strings, one post per string (use \\n for line breaks), and nothing else: no keys, no commentary, no code fences."
    );
    let rules = rules(brief);
    let bullets = rules
        .iter()
        .map(|r| format!("- {r}"))
        .collect::<Vec<_>>()
        .join("\n");
    let system = match variant.id {
        "persona-v1" => format!(
            "You are a senior social media manager who writes Facebook posts that real people want to read and that follow Facebook's guidelines. You know the page's audience well and write like a human, never like an ad generator. {output}"
        ),
        _ => format!("You write Facebook posts. {output}"),
    };
    let user = match variant.id {
        "checklist-v1" => {
            let numbered = rules
                .iter()
                .enumerate()
                .map(|(i, r)| format!("{}. {r}", i + 1))
                .collect::<Vec<_>>()
                .join("\n");
            format!(
                "Write {count} Facebook posts. Before answering, check every post against each item of this list and fix it if it fails:\n{numbered}\n\n{output}"
            )
        }
        "example-v1" => {
            let mut example_brief = brief.clone();
            example_brief.n = 1;
            let example = write_drafts(&example_brief, &[], 1)
                .into_iter()
                .next()
                .map(|d| d.text)
                .unwrap_or_default();
            format!(
                "Write {count} Facebook posts.\n{bullets}\n\nHere is one acceptable post for this brief, to show the format and the level expected. Do not copy it; write better, different ones:\n\"\"\"\n{example}\n\"\"\"\n\n{output}"
            )
        }
        _ => format!("Write {count} Facebook posts.\n{bullets}\n\n{output}"),
    };
    vec![("system".to_string(), system), ("user".to_string(), user)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BrandVoice;

    #[test]
    fn every_variant_spells_out_the_constraints() {
        let mut b = Brief::new("pan de masa madre");
        b.language = Language::Es;
        b.hashtags = 3;
        b.emoji = false;
        b.cta = Some(Cta::Url("https://example.com".into()));
        b.keywords = vec!["horno de leña".into()];
        b.brand_voice = Some(BrandVoice {
            name: Some("La Tahona".into()),
            use_words: vec!["artesanal".into()],
            avoid_words: vec!["barato".into()],
        });
        let mut ids: Vec<&str> = PROMPT_VARIANTS.iter().map(|v| v.id).collect();
        ids.dedup();
        assert_eq!(ids.len(), PROMPT_VARIANTS.len());
        for v in PROMPT_VARIANTS {
            let m = llm_messages(&b, v, 4);
            assert_eq!(m.len(), 2);
            assert_eq!((m[0].0.as_str(), m[1].0.as_str()), ("system", "user"));
            let all = format!("{}\n{}", m[0].1, m[1].1);
            for needle in [
                "JSON array of exactly 4 strings",
                "Spanish",
                "Exactly 3 hashtags",
                "Do not use any emoji",
                "https://example.com",
                "horno de leña",
                "La Tahona",
                "artesanal",
                "barato",
                "¿",
                "160–320 characters",
                "engagement bait",
            ] {
                assert!(all.contains(needle), "{}: {needle}", v.id);
            }
        }
    }
}
