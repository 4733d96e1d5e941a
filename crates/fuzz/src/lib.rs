//! `fbposts-fuzz`: the input generators behind every native crate's fuzz
//! tests (`crates/*/tests/fuzz.rs`), in one place so that analyze, enhance,
//! the brief and the predict request are all attacked with the same
//! hostile inputs.
//!
//! - [`hostile_text`]: Unicode post text up to a length limit — emoji and
//!   ZWJ sequences, combining marks, right-to-left text and bidi controls,
//!   control characters, very long words, runs of hashtags, links, mentions
//!   and numbers, Spanish punctuation, arbitrary scalar values;
//! - [`json_value`]: arbitrary `serde_json::Value` trees (numbers at the
//!   edges of i64/u64/f64, hostile strings, nested arrays and objects whose
//!   keys are often real field names);
//! - [`mutated`]: a valid request with a few of its fields (top-level or
//!   nested, `a.b`) replaced by arbitrary values or removed;
//! - [`config`]: the bounded CI configuration.
//!
//! Case counts: each test passes its CI default to [`config`] (sized so the
//! whole fuzz set adds well under a minute to `cargo test --release` on 2
//! cores). The standard `PROPTEST_CASES` environment variable overrides
//! every default for a longer run on demand, e.g.
//! `PROPTEST_CASES=20000 cargo test --release -p fbposts-core --test fuzz`.
//! Failures are shrunk (bounded by `max_shrink_iters`) and persisted by
//! proptest next to the test file (`tests/fuzz.proptest-regressions`), to be
//! committed so the failing case is replayed first from then on.

use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Map, Number, Value};

/// Shrink steps at most after a failure (proptest's default is unbounded
/// in time for slow properties; this keeps a failing CI run short).
pub const MAX_SHRINK_ITERS: u32 = 512;

/// The configuration of a fuzz test: `default_cases` cases in CI, or
/// `PROPTEST_CASES` when it is set (see the crate docs).
pub fn config(default_cases: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default_cases);
    Config {
        cases,
        max_shrink_iters: MAX_SHRINK_ITERS,
        ..Config::default()
    }
}

/// Emoji, including ZWJ sequences, skin tones, flags and keycaps.
const EMOJI: &[&str] = &[
    "😀",
    "🎉",
    "🔥",
    "❤️",
    "👍🏽",
    "👨‍👩‍👧‍👦",
    "🏳️‍🌈",
    "🇪🇸",
    "🇺🇸",
    "1️⃣",
    "#️⃣",
    "☕",
    "✨",
    "🙏",
    "🤣",
    "\u{fe0f}",
    "\u{200d}",
    "🏴󠁧󠁢󠁳󠁣󠁴󠁿",
];

/// Words the analysers have lexicons for, so the signals fire.
const WORDS: &[&str] = &[
    "hola",
    "Hola",
    "oferta",
    "gratis",
    "hoy",
    "comenta",
    "comparte",
    "etiqueta",
    "amigos",
    "like",
    "share",
    "comment",
    "tag",
    "friends",
    "click",
    "free",
    "now",
    "new",
    "¿Qué",
    "opinas?",
    "¡Ya",
    "está!",
    "What",
    "do",
    "you",
    "think?",
    "Dale",
    "me",
    "gusta",
    "si",
    "iPhone",
    "Madrid",
    "MAYÚSCULAS",
    "AMAZING",
    "the",
    "de",
    "la",
    "que",
    "y",
    "and",
    "to",
    "café",
    "niño",
    "años",
];

/// Fragments that are hard on tokenisers: links, mentions, numbers, tags,
/// punctuation runs, bidi and control characters.
const TRICKY: &[&str] = &[
    "https://example.com/a?b=1&c=2#x",
    "http://",
    "https://",
    "www.",
    "www.tienda.es",
    "example.com/path",
    "https://ñandú.example/ruta)",
    "(https://x.y/z).",
    "@ana",
    "@",
    "@@",
    "#",
    "##",
    "#️⃣",
    "#123",
    "#Promo2024",
    "#a#b#c",
    "#ñandú",
    "#",
    "1,000.50",
    "99€",
    "$5",
    "3/5",
    "10:30",
    "-0",
    "1e308",
    "٣٤٥",
    "१२३",
    "50%",
    "!!!",
    "???",
    "¿¡",
    "?!?!",
    "...",
    "…",
    "—",
    "\"",
    "'",
    "\u{202e}",
    "\u{202a}",
    "\u{200f}",
    "\u{200e}",
    "\u{2066}",
    "\u{200b}",
    "\u{feff}",
    "\u{0}",
    "\u{7}",
    "\u{1b}[31m",
    "\u{7f}",
    "\u{85}",
    "\u{2028}",
    "\u{2029}",
    "\r",
    "\r\n",
    "\n\n\n",
    "\t",
    "\u{a0}",
    "\u{3000}",
    "e\u{301}",
    "\u{301}",
    "a\u{300}\u{301}\u{302}\u{303}\u{304}\u{305}\u{306}\u{307}",
    "שלום",
    "مرحبا",
    "עברית 123 English",
    "ﷺ",
    "İ",
    "ß",
    "ǅ",
    "ﬃ",
    "Ⅻ",
    "𝓗𝓮𝓵𝓵𝓸",
    "日本語",
    "한국어",
    "\u{10ffff}",
    "\u{e000}",
    "\u{fffd}",
];

/// One piece of hostile text.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(WORDS).prop_map(str::to_string),
        3 => proptest::sample::select(TRICKY).prop_map(str::to_string),
        2 => proptest::sample::select(EMOJI).prop_map(str::to_string),
        2 => any::<String>().prop_map(|s| s.chars().take(12).collect()),
        1 => "[a-zA-Z]{1,8}".prop_map(|w| format!("#{w}")),
        1 => (0u64..u64::MAX).prop_map(|n| n.to_string()),
        1 => "[a-z]{1,6}".prop_map(|w| format!("https://{w}.example/{w}")),
        // A very long word (no spaces), of letters or of combining marks.
        1 => (1usize..3000, proptest::sample::select(&["a", "é", "😀", "\u{301}", "x\u{301}", "ab"][..]))
            .prop_map(|(n, s)| s.repeat(n)),
        1 => proptest::collection::vec(proptest::char::range('\u{0}', '\u{20}'), 1..6)
            .prop_map(|c| c.into_iter().collect()),
    ]
}

/// Separators between pieces: usually a space, sometimes nothing, newlines
/// or odd whitespace.
fn separator() -> impl Strategy<Value = &'static str> {
    proptest::sample::select(
        &[
            " ", " ", " ", " ", "", "\n", "\n\n", ". ", "! ", "? ", ", ", "\t", "  ",
        ][..],
    )
}

/// Cuts `s` to at most `max_chars` chars (at a char boundary).
pub fn truncate_chars(mut s: String, max_chars: usize) -> String {
    if let Some((at, _)) = s.char_indices().nth(max_chars) {
        s.truncate(at);
    }
    s
}

/// Hostile post text of at most `max_chars` chars (see the crate docs):
/// up to `max_pieces` pieces joined by odd separators.
pub fn hostile_text(max_pieces: usize, max_chars: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec((piece(), separator()), 0..=max_pieces).prop_map(move |parts| {
        let mut out = String::new();
        for (p, sep) in parts {
            out.push_str(&p);
            out.push_str(sep);
        }
        truncate_chars(out, max_chars)
    })
}

/// Text at a length limit (Facebook's 63,206 chars, `fbposts_core::
/// MAX_POST_CHARS`): a hostile sample repeated up to `limit` chars (many
/// hashtags, links and numbers at once).
pub fn text_at_the_limit(limit: usize) -> impl Strategy<Value = String> {
    hostile_text(40, 4000)
        .prop_filter("some text to repeat", |s| !s.trim().is_empty())
        .prop_map(move |s| {
            let reps = limit / s.chars().count().max(1) + 1;
            truncate_chars(s.repeat(reps), limit)
        })
}

/// JSON numbers at the edges: small and huge integers, negative, fractions,
/// the extremes of f64.
fn json_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        (-3i64..30).prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        proptest::sample::select(
            &[
                u64::MAX,
                i64::MAX as u64,
                1_000_000_000,
                1_000_000_001,
                4_294_967_296
            ][..]
        )
        .prop_map(Value::from),
        any::<f64>().prop_filter_map("JSON has no NaN or infinity", |f| Number::from_f64(f)
            .map(Value::Number)),
        proptest::sample::select(
            &[
                0.5,
                -0.0,
                1e-300,
                1.0000001,
                0.9999999,
                2.5,
                f64::MAX,
                f64::MIN_POSITIVE
            ][..]
        )
        .prop_map(Value::from),
    ]
}

/// Strings a field parser may meet: hostile text, and values that are
/// almost valid (enum names, dates, times).
fn json_string() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => hostile_text(6, 300),
        1 => proptest::sample::select(&[
            "", " ", "es", "EN", "es-MX", "en_US", "fr", "photo", "Status", "link", "video", "reel",
            "friendly", "urgent", "awareness", "traffic", "short", "LONG", "action", "product",
            "inspiration", "2026-12-01T18:30:00-05:00", "2026-12-01T23:30:00Z", "2026-02-30T10:00:00Z",
            "9999-12-31T23:59:59+23:59", "-9999-01-01T00:00:00Z", "2026-12-01T18:30:00", "2026-12-01",
            "07:00", "22:00", "24:00", "00:00", "23:59", "7:5", "12:60", "-1:00", "99999999999:00",
            "https://example.com/x", "http://", "true", "null", "0", "-1",
        ][..]).prop_map(str::to_string),
    ]
}

/// Field names of every request, so random objects often hit real fields.
const FIELD_NAMES: &[&str] = &[
    "text",
    "language",
    "post_type",
    "audience",
    "tone",
    "target_score",
    "max_edits",
    "topic",
    "goal",
    "length",
    "hashtags",
    "emoji",
    "cta",
    "keywords",
    "details",
    "brand_voice",
    "name",
    "use_words",
    "avoid_words",
    "words_to_use",
    "words_to_avoid",
    "n",
    "budget",
    "seed",
    "page",
    "id",
    "likes",
    "page_likes",
    "category",
    "paid",
    "scheduled_at",
    "month",
    "weekday",
    "hour",
    "page_id",
    "posting_window",
    "start",
    "end",
    "generator",
];

/// Arbitrary JSON trees (depth ≤ 4, ≤ 8 entries per level).
pub fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        json_number(),
        json_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        let key = prop_oneof![
            3 => proptest::sample::select(FIELD_NAMES).prop_map(str::to_string),
            1 => json_string(),
        ];
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::vec((key, inner), 0..8)
                .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A body of raw bytes: arbitrary bytes, arbitrary JSON, or JSON cut short.
pub fn raw_body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..256),
        json_value().prop_map(|v| v.to_string().into_bytes()),
        (json_value(), any::<proptest::sample::Index>()).prop_map(|(v, cut)| {
            let bytes = v.to_string().into_bytes();
            let at = cut.index(bytes.len() + 1);
            bytes[..at].to_vec()
        }),
    ]
}

/// One change to a request: the dotted path of a field (`page.id`) and its
/// new value, `None` to remove it.
#[derive(Debug, Clone)]
pub struct FieldChange {
    pub path: &'static str,
    pub value: Option<Value>,
}

impl FieldChange {
    /// Applies the change to `request` (an object; intermediate objects are
    /// created, a non-object on the way is replaced by one).
    pub fn apply(&self, request: &mut Value) {
        let mut node = request;
        let mut parts = self.path.split('.').peekable();
        while let Some(key) = parts.next() {
            if !node.is_object() {
                *node = Value::Object(Map::new());
            }
            let Value::Object(map) = node else { return };
            if parts.peek().is_none() {
                match &self.value {
                    Some(v) => {
                        map.insert(key.to_string(), v.clone());
                    }
                    None => {
                        map.remove(key);
                    }
                }
                return;
            }
            node = map
                .entry(key.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
        }
    }
}

/// `valid` with one to four of `paths` replaced by arbitrary JSON or
/// removed: the field-by-field mutation of a valid request.
pub fn mutated(valid: Value, paths: &'static [&'static str]) -> impl Strategy<Value = Value> {
    let change = (
        proptest::sample::select(paths),
        proptest::option::weighted(0.85, json_value()),
    )
        .prop_map(|(path, value)| FieldChange { path, value });
    proptest::collection::vec(change, 1..=4).prop_map(move |changes| {
        let mut request = valid.clone();
        for c in &changes {
            c.apply(&mut request);
        }
        request
    })
}

/// Panics unless `status`/`code`/`message` describe a client error: a 4xx
/// status, a non-empty machine-readable code and a non-empty message.
pub fn assert_client_error(status: u16, code: &str, message: &str) {
    assert!(
        (400..500).contains(&status),
        "a parse error must be a 4xx, got {status} {code}: {message}"
    );
    assert!(!code.is_empty(), "empty error code ({status}: {message})");
    assert!(
        code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
        "error code {code:?} is not snake_case"
    );
    assert!(
        !message.trim().is_empty(),
        "empty error message ({status} {code})"
    );
}
