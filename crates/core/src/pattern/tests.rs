use super::*;
use crate::text::WordFilter;

fn matches(text: &str, pattern: &'static str) -> bool {
    let mut first = Vec::new();
    any(
        &Doc::new(text),
        &PatternList::new(&[((), pattern)], &mut first),
    )
}

#[test]
fn fillers_sorted() {
    assert!(FILLERS.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn literal_wildcards_and_soft_punctuation() {
    assert!(matches("Comment \"YES\" if you agree", "comment ~ if"));
    assert!(!matches(
        "Comment below if you have questions",
        "comment ~ if"
    ));
    assert!(matches("Comenta SÍ si estás de acuerdo", "comenta ~ si"));
    assert!(matches("tag two friends", "tag ~ friend*"));
    assert!(
        !matches("tag your friends", "tag ~ friend*"),
        "filler in the ~ slot"
    );
    assert!(!matches("tag. two friends", "tag ~ friend*"));
    assert!(!matches("tag\ntwo friends", "tag ~ friend*"));
    assert!(matches("😍 = yes", "<e> = ~"));
    assert!(matches("1 like = 1 prayer", "<n> like ="));
}

#[test]
fn anchors() {
    assert!(matches("Visita nuestra web", "^ visita"));
    assert!(matches("Hola, visita nuestra web", "^ visita"));
    assert!(!matches("Hicimos una visita", "^ visita"));
    assert!(matches("Please share!", "please share $"));
    assert!(!matches("Please share your story", "please share $"));
}

#[test]
fn overlapping_matches_keep_longest() {
    let doc = Doc::new("like this post if you agree");
    let mut first = Vec::new();
    let tagged = [(1, "like this post if"), (2, "like this"), (3, "post if")];
    let m = find_all(&doc, &PatternList::new(&tagged, &mut first));
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].tag, 1);
    assert_eq!(doc.span_text(m[0].start, m[0].end), "like this post if");
}

/// The first parts computed with `str` methods, for comparison.
fn first_part_by_splitting(pattern: &str) -> FirstPart {
    let first = pattern.split(' ').find(|p| *p != "^").unwrap_or("");
    if ["", "*", "~", "<e>", "<n>", "="].contains(&first) {
        return FirstPart::Any;
    }
    let alternatives: Vec<&str> = first.split('|').collect();
    if alternatives.len() > MAX_FILTERED_ALTERNATIVES {
        return FirstPart::Any;
    }
    let mut filters = [WordFilter::Unfiltered; MAX_FILTERED_ALTERNATIVES];
    for (filter, alt) in filters.iter_mut().zip(&alternatives) {
        let (word, prefix) = match alt.strip_suffix('*') {
            Some(word) => (word, true),
            None => (*alt, false),
        };
        *filter = WordFilter::of(word.as_bytes(), 0, word.len(), prefix);
    }
    FirstPart::Words {
        count: alternatives.len() as u8,
        filters,
    }
}

/// A text the pattern matches: wildcards filled in, first alternatives taken.
fn text_matching(pattern: &str) -> String {
    let words: Vec<String> = pattern
        .split(' ')
        .filter(|part| !matches!(*part, "^" | "$"))
        .map(|part| match part {
            "*" | "~" => "dos".to_string(),
            "<e>" => "😍".to_string(),
            "<n>" => "3".to_string(),
            _ => {
                let alt = part.split('|').next().unwrap_or(part);
                match alt.strip_suffix('*') {
                    Some(prefix) => format!("{prefix}ing"),
                    None => alt.to_string(),
                }
            }
        })
        .collect();
    words.join(" ")
}

#[test]
fn compile_time_first_parts_are_those_of_the_split_pattern() {
    let many = "a|b|c|d|e|f|g|h|i";
    let patterns = [
        "comment ~ if",
        "^ visita",
        "^ order|pre-order|preorder",
        "tag ~ friend*",
        "friend*|amig*|ok*",
        "ab*|abc*",
        "* like",
        "~ = ~",
        "<e> = ~",
        "<n> like =",
        "= yes",
        "a|b|c|d|e|f|g|h",
        many,
        "like",
        "^",
    ];
    for pattern in patterns {
        assert_eq!(
            FirstPart::of(pattern),
            first_part_by_splitting(pattern),
            "{pattern}"
        );
    }
    assert_eq!(FirstPart::of(many), FirstPart::Any);
    let all_lists = crate::bait::PATTERNS.iter().map(|(_, p)| *p);
    for pattern in all_lists.chain(crate::cta::PATTERNS.iter().copied()) {
        assert_eq!(
            FirstPart::of(pattern),
            first_part_by_splitting(pattern),
            "{pattern}"
        );
    }
}

#[test]
fn the_prefilter_never_loses_a_match() {
    let bait = crate::patterns!(crate::bait::PATTERNS);
    let cta = crate::patterns!(untagged crate::cta::PATTERNS);
    let unfiltered_bait = vec![FirstPart::Any; crate::bait::PATTERNS.len()];
    let unfiltered_cta = vec![FirstPart::Any; crate::cta::PATTERNS.len()];
    let cta_tagged: Vec<((), &'static str)> =
        crate::cta::PATTERNS.iter().map(|p| ((), *p)).collect();
    let mut texts: Vec<String> = crate::bait::PATTERNS
        .iter()
        .map(|(_, p)| text_matching(p))
        .chain(crate::cta::PATTERNS.iter().map(|p| text_matching(p)))
        .collect();
    texts.push("Nothing to see here, just coffee.".to_string());
    let mut matched = 0;
    for text in &texts {
        let doc = Doc::new(text);
        let filtered = find_all(&doc, &bait);
        let unfiltered = PatternList::from_parts(crate::bait::PATTERNS, &unfiltered_bait);
        assert_eq!(filtered, find_all(&doc, &unfiltered), "{text}");
        let filtered_cta = find_all(&doc, &cta);
        let unfiltered = PatternList::from_parts(&cta_tagged, &unfiltered_cta);
        assert_eq!(filtered_cta, find_all(&doc, &unfiltered), "{text}");
        matched += usize::from(!filtered.is_empty() || !filtered_cta.is_empty());
    }
    // The generated texts do exercise the matcher.
    assert!(
        matched * 10 >= texts.len() * 9,
        "{matched} of {}",
        texts.len()
    );
}
