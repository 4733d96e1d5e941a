use super::tokenizer::{TLDS, Tokenizer, simple_piece};
use super::*;

fn kinds(text: &str) -> Vec<(TokKind, String)> {
    Doc::new(text)
        .tokens
        .iter()
        .map(|t| (t.kind, t.raw.to_string()))
        .collect()
}

#[test]
fn tlds_sorted() {
    assert!(TLDS.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn tokenizes_words_tags_links_emoji() {
    let d =
        Doc::new("¡Hola! Visita https://ejemplo.com/x, #VeranoFeliz @ana 😍 don't 3.5 e-mail :)");
    let k: Vec<TokKind> = d.tokens.iter().map(|t| t.kind).collect();
    use TokKind::*;
    assert_eq!(
        k,
        vec![
            Punct, Word, Punct, Word, Link, Punct, Hashtag, Mention, Emoji, Word, Number, Word,
            Emoticon
        ]
    );
    assert_eq!(d.tokens[4].raw, "https://ejemplo.com/x");
    assert_eq!(d.tokens[6].norm, "veranofeliz");
    assert_eq!(d.tokens[9].raw, "don't");
    assert_eq!(d.tokens[10].raw, "3.5");
}

#[test]
fn folds_accents_for_matching_only() {
    let d = Doc::new("Comenta SÍ si estás aquí");
    let norms: Vec<&str> = d.tokens.iter().map(|t| t.norm.as_ref()).collect();
    assert_eq!(norms, vec!["comenta", "si", "si", "estas", "aqui"]);
    assert_eq!(d.tokens[1].raw, "SÍ");
    assert!(d.tokens[1].is_all_caps());
}

#[test]
fn sentences_and_lines() {
    let d = Doc::new("First one. Second one! Third?\nFourth line without stop\n\n#tag");
    assert_eq!(d.sentences.len(), 4);
    assert!(d.sentences[2].is_question);
    assert_eq!(d.lines, 3);
    let d = Doc::new("Price is 3.50 today. Ok");
    assert_eq!(d.sentences.len(), 2);
}

#[test]
fn bare_domains_and_not_abbreviations() {
    assert!(
        kinds("see example.com/page.")
            .iter()
            .any(|(k, r)| *k == TokKind::Link && r == "example.com/page")
    );
    assert!(
        kinds("e.g. this etc. U.S.A.")
            .iter()
            .all(|(k, _)| *k != TokKind::Link)
    );
    assert!(
        kinds("mail me at ana@example.com")
            .iter()
            .all(|(k, _)| *k != TokKind::Link)
    );
}

#[test]
fn emoji_glued_to_words_split() {
    let k = kinds("great😍news👨‍👩‍👧");
    assert_eq!(
        k,
        vec![
            (TokKind::Word, "great".into()),
            (TokKind::Emoji, "😍".into()),
            (TokKind::Word, "news".into()),
            (TokKind::Emoji, "👨‍👩‍👧".into())
        ]
    );
}

#[test]
fn positions_lookup() {
    let d = Doc::new("tag a friend, tag your friends, tagline");
    assert_eq!(d.positions("tag", false).count(), 2);
    assert_eq!(d.positions("tag", true).count(), 3);
    assert_eq!(d.positions("friend", true).count(), 2);
    assert_eq!(d.count_word("zzz"), 0);
}

/// The tokens of `piece` by the general path, or by `graphemes` (which
/// takes the simple path when it can), as comparable tuples.
fn piece_tokens(piece: &str, general: bool) -> Vec<(TokKind, String, String, bool, bool)> {
    let mut t = Tokenizer {
        text: piece,
        tokens: Vec::new(),
        line: 0,
        sentence: 0,
        pending_break: false,
        sentence_has_tokens: false,
    };
    if general {
        t.any_piece(0, piece.len());
    } else {
        t.graphemes(0, piece.len());
    }
    t.tokens
        .iter()
        .map(|k| {
            (
                k.kind,
                k.raw.to_string(),
                k.norm.to_string(),
                k.stop_es,
                k.stop_en,
            )
        })
        .collect()
}

#[test]
fn simple_pieces_are_recognised_and_others_are_not() {
    for simple in [
        "hoy,", "(café)", "2026!", "¿", "...", "Ñandú", "años.", "#", "x!?",
    ] {
        assert_eq!(
            simple_piece(simple).is_some(),
            !simple.starts_with('¿'),
            "{simple}"
        );
    }
    for other in [
        "#tag",
        "@ana",
        "1.5",
        "don't",
        "e-mail",
        "a_b",
        "3×4",
        "niño😀",
        "cafe\u{301}",
    ] {
        assert_eq!(simple_piece(other), None, "{other}");
    }
}

proptest::proptest! {
    #[test]
    fn the_simple_path_tokenises_as_the_general_one(
        piece in "[a-zA-Z0-9áéíóúñÁÉÑüÿ×÷µ²#@_'’.,!?¿¡:;()\"-]{0,10}[😀\u{301}]?[a-z0-9.,#]{0,3}"
    ) {
        proptest::prop_assert_eq!(piece_tokens(&piece, false), piece_tokens(&piece, true));
    }
}
