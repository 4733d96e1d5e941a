//! Tests of the substance detector and gate, in Spanish and English.

use super::*;

fn m(text: &str, lang: Language) -> Substance {
    let doc = Doc::new(text);
    let ctas = crate::cta::find(&doc, &[]).len();
    let q = crate::question::measure(&doc).count;
    measure(&doc, lang, ctas, q)
}

#[test]
fn lists_are_sorted() {
    for l in [
        WEEKDAYS_MONTHS_ES,
        WEEKDAYS_MONTHS_EN,
        RELATIVE_DAYS_ES,
        RELATIVE_DAYS_EN,
        CLOCK_WORDS,
        PLACE_WORDS_ES,
        PLACE_WORDS_EN,
        PLACE_PREPS_ES,
        PLACE_PREPS_EN,
        OFFER_WORDS_ES,
        OFFER_WORDS_EN,
    ] {
        assert!(l.windows(2).all(|w| w[0] < w[1]), "{l:?}");
    }
}

#[test]
fn finds_dates_places_prices_names_and_actions_in_spanish() {
    let s = m(
        "Cata de café con Lucía Pérez el sábado 14 de junio a las 11:00 en Calle Luna 5. Precio: 12 €. Reserva tu plaza.",
        Language::Es,
    );
    assert!(s.dates >= 2, "{s:?}");
    assert!(s.places >= 1 && s.names >= 1 && s.offers >= 1, "{s:?}");
    assert!(s.actions >= 1 && s.numbers >= 3, "{s:?}");
    assert_eq!(s.reason_to_engage, Some("call_to_action"));
    assert!(gate(&s) > 0.99, "{s:?}");
}

#[test]
fn finds_the_same_in_english() {
    let s = m(
        "Latte art class with Maya Chen this Saturday at 10am at our Elm Street studio. $25, coffee included. Book your spot.",
        Language::En,
    );
    assert!(
        s.dates >= 2 && s.places >= 1 && s.names >= 1 && s.offers >= 1,
        "{s:?}"
    );
    assert!(gate(&s) > 0.99);
}

#[test]
fn courtesy_phrases_have_no_substance() {
    for (t, l) in [
        (
            "Gracias por acompañarnos en cada paso. Esperamos que te alegre la semana.",
            Language::Es,
        ),
        (
            "Thank you for being here with us, every step of the way. We hope it brightens your week.",
            Language::En,
        ),
    ] {
        let s = m(t, l);
        assert_eq!(s.reason_to_engage, None, "{s:?}");
        assert!(gate(&s) < 0.45, "{t}: {}", gate(&s));
    }
}

#[test]
fn short_posts_are_capped_whatever_their_form() {
    for t in [
        "hola",
        "ok",
        "New post",
        "Menú",
        "😍🔥",
        "https://shop.example.com/sale",
        "Book now! 🎉",
    ] {
        let s = m(t, Language::En);
        assert!(s.content_words < MIN_CONTENT_WORDS, "{t}");
        assert!(gate(&s) <= 0.35 + 1e-9, "{t}: {}", gate(&s));
    }
    assert_eq!(short_cap(4), 1.0);
}

#[test]
fn sentence_case_is_not_a_name_but_shouting_acronyms_are_ignored() {
    let s = m("Fresh bread every morning. Come early.", Language::En);
    assert_eq!(s.names, 0, "{s:?}");
    let s = m("OUR PIZZA IS THE BEST PIZZA IN TOWN", Language::En);
    assert_eq!(s.names, 0, "{s:?}");
}
