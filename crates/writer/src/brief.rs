//! The generation brief: its types ([`Brief`], [`Goal`], [`Length`],
//! [`Cta`], [`BrandVoice`], [`PageRef`]), parsing and validation from the
//! request JSON, defaults, and the stable cache key.
//!
//! Body fields: `topic` (required, 1–200 chars), `audience`, `tone`,
//! `goal`, `language` (`es`|`en`; default: detected from the topic),
//! `post_type`, `length`, `hashtags` (0–5, default 2), `emoji` (default
//! true), `cta` (text, or a URL when it starts with `http://`/`https://`),
//! `keywords` (≤ 10 strings), `details` (the facts the post is about: the
//! offer, product, date, place, price, link — a list of ≤ 8 strings, or
//! free text split at line breaks and `;`), `brand_voice` `{name,
//! use_words, avoid_words}` (`words_to_use`/`words_to_avoid` accepted too;
//! any other key inside it is a 422 naming it, since a misspelt rule would
//! otherwise be silently dropped), `n` (1–10, default 3), `budget` (USD ≥
//! 0), `seed` (u64; default derived from the brief itself), `page` `{id:
//! string|number, likes}`. `null` is absent, unknown top-level fields are
//! ignored, enum strings are case-insensitive.

use crate::WRITER_VERSION;
use fbposts_core::json::{self, field, invalid, missing, opt_bool, opt_enum, opt_int, opt_str};
use fbposts_core::{ApiError, Language, PostType, Tone};
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Longest topic, in chars.
pub const MAX_TOPIC_CHARS: usize = 200;
/// Longest audience description, in chars.
pub const MAX_AUDIENCE_CHARS: usize = 200;
/// Longest CTA text or URL, in chars.
pub const MAX_CTA_CHARS: usize = 300;
/// Most keywords accepted.
pub const MAX_KEYWORDS: usize = 10;
/// Longest keyword / brand word, in chars.
pub const MAX_WORD_CHARS: usize = 50;
/// Most `use_words` / `avoid_words`.
pub const MAX_BRAND_WORDS: usize = 20;
/// Most details accepted.
pub const MAX_DETAILS: usize = 8;
/// Longest detail, in chars.
pub const MAX_DETAIL_CHARS: usize = 200;
/// Keys accepted inside `brand_voice`.
pub const BRAND_VOICE_KEYS: &[&str] = &[
    "name",
    "use_words",
    "words_to_use",
    "avoid_words",
    "words_to_avoid",
];
/// Most hashtags a brief may ask for.
pub const MAX_HASHTAGS: u8 = 5;
/// Most drafts per request.
pub const MAX_N: u8 = 10;

/// What the post is for. Decides the call to action (see `bank.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Goal {
    /// Inform: a useful fact, "follow/save for more".
    Awareness,
    /// Conversation: ask for opinions (never engagement bait).
    Engagement,
    /// Clicks: a link or the client's CTA text with the URL.
    Traffic,
    /// Sales/sign-ups: an offer-style call to action.
    Conversion,
    /// Belonging: a question to the audience about their experience.
    Community,
}

impl Goal {
    pub const ALL: [Goal; 5] = [
        Goal::Awareness,
        Goal::Engagement,
        Goal::Traffic,
        Goal::Conversion,
        Goal::Community,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Goal::Awareness => "awareness",
            Goal::Engagement => "engagement",
            Goal::Traffic => "traffic",
            Goal::Conversion => "conversion",
            Goal::Community => "community",
        }
    }

    /// Case-insensitive parse of the API name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|g| g.code().eq_ignore_ascii_case(s.trim()))
    }
}

/// Requested post length. Lengths are counted in chars (Unicode scalar
/// values) of the whole post — hook, body, emoji and hashtags — excluding
/// links, as Facebook replaces a link with its preview card (the same
/// rule as core's length signal).
///
/// | length | chars |
/// |--------|-------|
/// | short  | 60–160 |
/// | medium | 160–320 |
/// | long   | 320–600 |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Length {
    Short,
    Medium,
    Long,
}

impl Length {
    pub const ALL: [Length; 3] = [Length::Short, Length::Medium, Length::Long];

    pub fn code(self) -> &'static str {
        match self {
            Length::Short => "short",
            Length::Medium => "medium",
            Length::Long => "long",
        }
    }

    /// Case-insensitive parse of the API name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(s.trim()))
    }

    /// Accepted length in chars (inclusive; links excluded).
    pub fn range(self) -> (usize, usize) {
        match self {
            Length::Short => (60, 160),
            Length::Medium => (160, 320),
            Length::Long => (320, 600),
        }
    }
}

/// The call to action the client wants: plain text ("Reserva tu mesa"), or
/// a URL to send people to (a `cta` string starting with `http://` or
/// `https://`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Cta {
    Text(String),
    Url(String),
}

impl Cta {
    /// A URL when `s` starts with `http://`/`https://` (case-insensitive),
    /// text otherwise.
    pub fn parse(s: &str) -> Cta {
        let s = s.trim();
        let lower = s.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            Cta::Url(s.to_string())
        } else {
            Cta::Text(s.to_string())
        }
    }
}

/// The page's voice: a name to sign with, words to use, words never to use.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
pub struct BrandVoice {
    pub name: Option<String>,
    pub use_words: Vec<String>,
    pub avoid_words: Vec<String>,
}

/// The Facebook page the post is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct PageRef {
    pub id: String,
    pub likes: Option<u64>,
}

/// A validated generation brief.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Brief {
    pub topic: String,
    pub audience: Option<String>,
    pub tone: Tone,
    pub goal: Goal,
    pub language: Language,
    pub post_type: Option<PostType>,
    pub length: Length,
    /// Exactly this many hashtags (0–5).
    pub hashtags: u8,
    pub emoji: bool,
    pub cta: Option<Cta>,
    pub keywords: Vec<String>,
    /// The facts the post is about (offer, product, date, place, price,
    /// link), each carried verbatim into every candidate.
    pub details: Vec<String>,
    pub brand_voice: Option<BrandVoice>,
    /// Drafts wanted (1–10).
    pub n: u8,
    pub budget_usd: Option<f64>,
    pub seed: u64,
    pub page: Option<PageRef>,
}

/// Defaults: friendly tone, engagement goal, medium length, 2 hashtags,
/// emoji on, 3 drafts.
pub const DEFAULT_TONE: Tone = Tone::Friendly;
pub const DEFAULT_GOAL: Goal = Goal::Engagement;
pub const DEFAULT_LENGTH: Length = Length::Medium;
pub const DEFAULT_HASHTAGS: u8 = 2;
pub const DEFAULT_N: u8 = 3;

impl Brief {
    /// A brief for `topic` with every default (language detected from the
    /// topic, seed derived from the brief).
    pub fn new(topic: impl Into<String>) -> Brief {
        let topic = topic.into().trim().to_string();
        let language = fbposts_core::detect_language(&topic);
        let mut b = Brief {
            topic,
            audience: None,
            tone: DEFAULT_TONE,
            goal: DEFAULT_GOAL,
            language,
            post_type: None,
            length: DEFAULT_LENGTH,
            hashtags: DEFAULT_HASHTAGS,
            emoji: true,
            cta: None,
            keywords: Vec::new(),
            details: Vec::new(),
            brand_voice: None,
            n: DEFAULT_N,
            budget_usd: None,
            seed: 0,
            page: None,
        };
        b.seed = b.derived_seed();
        b
    }

    /// Parses and validates a JSON body (see the module docs). Errors:
    /// `invalid_json` (400); `missing_field` / `invalid_field` (422), naming
    /// the field and what it must be.
    pub fn from_json(body: &[u8]) -> Result<Brief, ApiError> {
        let obj = json::object(body)?;

        let topic = match field(&obj, "topic") {
            None => return Err(missing("topic", "what the post is about, 1–200 characters")),
            Some(Value::String(s)) => s.trim(),
            Some(other) => return Err(invalid("topic", "a string of 1–200 characters", other)),
        };
        let topic_chars = topic.chars().count();
        if topic_chars == 0 || topic_chars > MAX_TOPIC_CHARS {
            return Err(invalid(
                "topic",
                &format!("a string of 1–{MAX_TOPIC_CHARS} characters (got {topic_chars})"),
                &Value::String(topic.to_string()),
            ));
        }

        let audience = short_text(&obj, "audience", MAX_AUDIENCE_CHARS)?;
        let tones: Vec<&str> = Tone::ALL.iter().map(|t| t.code()).collect();
        let tone = opt_enum(&obj, "tone", &tones, Tone::parse)?.unwrap_or(DEFAULT_TONE);
        let goals: Vec<&str> = Goal::ALL.iter().map(|g| g.code()).collect();
        let goal = opt_enum(&obj, "goal", &goals, Goal::parse)?.unwrap_or(DEFAULT_GOAL);
        let language = opt_enum(&obj, "language", &["es", "en"], Language::parse)?
            .unwrap_or_else(|| fbposts_core::detect_language(topic));
        let post_types: Vec<&str> = PostType::ALL.iter().map(|p| p.code()).collect();
        let post_type = opt_enum(&obj, "post_type", &post_types, PostType::parse)?;
        let lengths: Vec<&str> = Length::ALL.iter().map(|l| l.code()).collect();
        let length = opt_enum(&obj, "length", &lengths, Length::parse)?.unwrap_or(DEFAULT_LENGTH);
        let hashtags = opt_int(&obj, "hashtags", 0, MAX_HASHTAGS as u64)?
            .map_or(DEFAULT_HASHTAGS, |v| v as u8);
        let emoji = opt_bool(&obj, "emoji")?.unwrap_or(true);
        let cta = short_text(&obj, "cta", MAX_CTA_CHARS)?.map(|s| Cta::parse(&s));
        let keywords = word_list(&obj, "keywords", MAX_KEYWORDS)?;
        let details = details(&obj)?;
        let brand_voice = brand_voice(&obj)?;
        let n = opt_int(&obj, "n", 1, MAX_N as u64)?.map_or(DEFAULT_N, |v| v as u8);
        let budget_usd = json::opt_number(&obj, "budget", 0.0, 1e9)?;
        let seed = opt_int(&obj, "seed", 0, u64::MAX)?;
        let page = page(&obj)?;

        let mut brief = Brief {
            topic: topic.to_string(),
            audience,
            tone,
            goal,
            language,
            post_type,
            length,
            hashtags,
            emoji,
            cta,
            keywords,
            details,
            brand_voice,
            n,
            budget_usd,
            seed: 0,
            page,
        };
        brief.seed = seed.unwrap_or_else(|| brief.derived_seed());
        Ok(brief)
    }

    /// Canonical JSON of the brief with `seed` left out.
    fn canonical(&self, seed: Option<u64>) -> Vec<u8> {
        #[derive(Serialize)]
        struct Canonical<'a> {
            v: &'a str,
            brief: &'a Brief,
            seed: Option<u64>,
        }
        let mut b = self.clone();
        b.seed = 0;
        serde_json::to_vec(&Canonical {
            v: WRITER_VERSION,
            brief: &b,
            seed,
        })
        .unwrap_or_default()
    }

    /// The default seed: the first 8 bytes of the SHA-256 of the brief's
    /// canonical JSON without the seed, so identical briefs give identical
    /// drafts.
    pub fn derived_seed(&self) -> u64 {
        let d = Sha256::digest(self.canonical(None));
        let mut b = [0u8; 8];
        b.copy_from_slice(&d[..8]);
        u64::from_le_bytes(b)
    }

    /// Stable cache key: lowercase hex SHA-256 of the canonical JSON (fields
    /// in declaration order, after defaults and trimming) including the seed
    /// and [`WRITER_VERSION`]. Independent of the body's field order,
    /// whitespace and spelling of enum values.
    pub fn cache_key(&self) -> String {
        hex::encode(Sha256::digest(self.canonical(Some(self.seed))))
    }

    /// The length range in chars (see [`Length`]).
    pub fn length_range(&self) -> (usize, usize) {
        self.length.range()
    }

    /// The brand's words to use (empty without a brand voice).
    pub fn use_words(&self) -> &[String] {
        self.brand_voice.as_ref().map_or(&[], |b| &b.use_words)
    }

    /// The brand's words to avoid (empty without a brand voice).
    pub fn avoid_words(&self) -> &[String] {
        self.brand_voice.as_ref().map_or(&[], |b| &b.avoid_words)
    }
}

/// An optional trimmed string of at most `max` chars (empty → absent).
fn short_text(
    obj: &Map<String, Value>,
    name: &str,
    max: usize,
) -> Result<Option<String>, ApiError> {
    let expected = format!("a string of at most {max} characters");
    match opt_str(obj, name, &expected)? {
        None => Ok(None),
        Some(s) => {
            let t = s.trim();
            if t.chars().count() > max {
                return Err(invalid(name, &expected, &Value::String(s.to_string())));
            }
            Ok((!t.is_empty()).then(|| t.to_string()))
        }
    }
}

/// An optional array of at most `max` non-empty strings of ≤ 50 chars
/// (trimmed; duplicates, case-insensitive, dropped).
fn word_list(obj: &Map<String, Value>, name: &str, max: usize) -> Result<Vec<String>, ApiError> {
    let expected = format!("an array of at most {max} strings of 1–{MAX_WORD_CHARS} characters");
    let Some(v) = field(obj, name) else {
        return Ok(Vec::new());
    };
    let Value::Array(items) = v else {
        return Err(invalid(name, &expected, v));
    };
    if items.len() > max {
        return Err(ApiError::new(
            422,
            "invalid_field",
            format!(
                "field '{name}' must be {expected} (got {} items)",
                items.len()
            ),
        ));
    }
    let mut out: Vec<String> = Vec::new();
    for item in items {
        let Value::String(s) = item else {
            return Err(invalid(name, &expected, item));
        };
        let t = s.trim();
        if t.is_empty() || t.chars().count() > MAX_WORD_CHARS {
            return Err(invalid(name, &expected, item));
        }
        if !out.iter().any(|o| o.to_lowercase() == t.to_lowercase()) {
            out.push(t.to_string());
        }
    }
    Ok(out)
}

/// `details`: a list of strings, or free text split at line breaks and
/// `;` (trimmed, empty pieces and case-insensitive duplicates dropped).
fn details(obj: &Map<String, Value>) -> Result<Vec<String>, ApiError> {
    let expected = format!(
        "a string, or an array of at most {MAX_DETAILS} strings, each of 1–{MAX_DETAIL_CHARS} characters"
    );
    let pieces: Vec<String> = match field(obj, "details") {
        None => return Ok(Vec::new()),
        Some(Value::String(s)) => s.split(['\n', ';']).map(str::to_string).collect(),
        Some(Value::Array(items)) => {
            let mut out = Vec::new();
            for item in items {
                let Value::String(s) = item else {
                    return Err(invalid("details", &expected, item));
                };
                if s.trim().is_empty() {
                    return Err(invalid("details", &expected, item));
                }
                out.push(s.clone());
            }
            out
        }
        Some(other) => return Err(invalid("details", &expected, other)),
    };
    let mut out: Vec<String> = Vec::new();
    for p in pieces {
        let t = p.trim().trim_end_matches(['.', ',']).trim();
        if t.is_empty() {
            continue;
        }
        if t.chars().count() > MAX_DETAIL_CHARS {
            return Err(invalid("details", &expected, &Value::String(t.to_string())));
        }
        if !out.iter().any(|o| o.to_lowercase() == t.to_lowercase()) {
            out.push(t.to_string());
        }
    }
    if out.len() > MAX_DETAILS {
        return Err(ApiError::new(
            422,
            "invalid_field",
            format!(
                "field 'details' must be {expected} (got {} items)",
                out.len()
            ),
        ));
    }
    Ok(out)
}

fn brand_voice(obj: &Map<String, Value>) -> Result<Option<BrandVoice>, ApiError> {
    let Some(v) = field(obj, "brand_voice") else {
        return Ok(None);
    };
    let Value::Object(bv) = v else {
        return Err(invalid(
            "brand_voice",
            "an object {name, use_words, avoid_words}",
            v,
        ));
    };
    if let Some(key) = bv.keys().find(|k| !BRAND_VOICE_KEYS.contains(&k.as_str())) {
        return Err(ApiError::new(
            422,
            "invalid_field",
            format!(
                "field 'brand_voice.{key}' is not accepted; brand_voice takes {}",
                json::quote_list(BRAND_VOICE_KEYS.iter().copied())
            ),
        ));
    }
    let name = short_text(bv, "name", 100).map_err(|e| prefix(e, "brand_voice."))?;
    let pick = |a: &str, b: &str| -> Result<Vec<String>, ApiError> {
        let key = if field(bv, a).is_some() { a } else { b };
        word_list(bv, key, MAX_BRAND_WORDS).map_err(|e| prefix(e, "brand_voice."))
    };
    let use_words = pick("use_words", "words_to_use")?;
    let avoid_words = pick("avoid_words", "words_to_avoid")?;
    if let Some(w) = use_words.iter().find(|w| {
        avoid_words
            .iter()
            .any(|a| a.to_lowercase() == w.to_lowercase())
    }) {
        return Err(ApiError::new(
            422,
            "invalid_field",
            format!("field 'brand_voice' lists \"{w}\" both as a word to use and a word to avoid"),
        ));
    }
    Ok(Some(BrandVoice {
        name,
        use_words,
        avoid_words,
    }))
}

fn page(obj: &Map<String, Value>) -> Result<Option<PageRef>, ApiError> {
    let Some(v) = field(obj, "page") else {
        return Ok(None);
    };
    let Value::Object(p) = v else {
        return Err(invalid("page", "an object {id, likes}", v));
    };
    let id = match field(p, "id") {
        None => {
            return Err(missing(
                "page.id",
                "the Facebook page id, a string or number",
            ));
        }
        Some(Value::String(s)) if !s.trim().is_empty() && s.len() <= 100 => s.trim().to_string(),
        Some(Value::Number(n)) if n.is_u64() => n.to_string(),
        Some(other) => {
            return Err(invalid(
                "page.id",
                "a non-empty string or a positive integer",
                other,
            ));
        }
    };
    let likes = opt_int(p, "likes", 0, u64::MAX).map_err(|e| prefix(e, "page."))?;
    Ok(Some(PageRef { id, likes }))
}

/// Qualifies the field name in a nested object's error message.
fn prefix(mut e: ApiError, parent: &str) -> ApiError {
    e.message = e
        .message
        .replacen("field '", &format!("field '{parent}"), 1);
    e
}

#[cfg(test)]
#[path = "brief_tests.rs"]
mod tests;
