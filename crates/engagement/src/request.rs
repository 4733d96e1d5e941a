//! The predict request: JSON parsing and validation into [`PredictRequest`],
//! decoding of the posting time into the dataset's month / weekday / hour,
//! the model's input rows, and the stable cache key.
//!
//! Body:
//!
//! ```json
//! {"page_likes": 120000, "post_type": "photo", "category": 2, "paid": false,
//!  "scheduled_at": "2026-12-01T18:30:00-05:00",
//!  "text": "…", "language": "es"}
//! ```
//!
//! - `page_likes` (required): integer, 0 to [`MAX_PAGE_LIKES`].
//! - `post_type` (required): `photo` | `status` | `link` | `video`.
//! - `category`: 1 (or `"action"`), 2 (`"product"`), 3 (`"inspiration"`);
//!   default [`DEFAULT_CATEGORY`] (1, the training data's most common).
//! - `paid`: boolean, default `false`.
//! - The posting time, exactly one of:
//!   - `scheduled_at`: RFC 3339 date-time with an offset (`Z` or `±hh:mm`);
//!     its wall-clock time *in that offset* gives month, weekday and hour;
//!   - `month` (1–12), `weekday` (1 = Sunday … 7 = Saturday, the dataset's
//!     encoding) and `hour` (0–23), all three.
//! - `page_id`: the page (string or integer); once `/api/feedback` has
//!   taught its model enough, predictions are blended with it (see `page`).
//! - `posting_window`: `{"start": "HH:MM", "end": "HH:MM"}`, the hours best
//!   times are chosen in (default 07:00–22:00; see [`crate::window`]).
//! - `text`: the post, up to 63,206 chars, scored with `fbposts_core::analyze`
//!   (with `language` and `post_type`) and shown beside the prediction;
//!   empty or whitespace-only text counts as absent.
//!
//! `null` counts as absent; unknown fields are ignored; strings are
//! case-insensitive.

use crate::PREDICT_VERSION;
use crate::encoding::{
    CATEGORY_NAMES, DEFAULT_CATEGORY, FeatureRow, MODEL_VERSION, TRAINING_LIKES_RANGE, type_code,
    weekday_code, weekday_name,
};
use crate::window::PostingWindow;
use fbposts_core::json::{field, int_in, invalid, missing, request_object};
use fbposts_core::{AnalyzeRequest, ApiError, PostType};
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Largest accepted `page_likes` (the biggest Facebook pages have a few
/// hundred million followers).
pub const MAX_PAGE_LIKES: u64 = 1_000_000_000;

/// A validated predict request.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictRequest {
    pub page_likes: u64,
    pub post_type: PostType,
    /// 1–3.
    pub category: u8,
    pub paid: bool,
    /// 1–12.
    pub month: u8,
    /// 1 = Sunday … 7 = Saturday.
    pub weekday: u8,
    /// 0–23.
    pub hour: u8,
    /// The given `scheduled_at`, in its own offset.
    pub scheduled_at: Option<OffsetDateTime>,
    /// The text to score, when given (validated as `/api/analyze` does).
    pub quality: Option<AnalyzeRequest>,
    /// The page, when given: its own model (from `/api/feedback`) is blended
    /// in once it has enough observations.
    pub page_id: Option<String>,
    /// Best times are chosen inside it (in `scheduled_at`'s offset).
    pub posting_window: PostingWindow,
}

/// Longest accepted page id, in UTF-8 bytes (not chars: the id goes into
/// state keys such as `page/<id>/model/<target>`, which every Spin host
/// accepts up to 256 bytes; 128 multi-byte chars would overflow them).
pub const MAX_PAGE_ID_BYTES: usize = 128;

/// Reads an optional page id: a non-empty string (trimmed, at most
/// [`MAX_PAGE_ID_BYTES`]) or a non-negative integer (Facebook's ids are
/// numeric). Shared by the steps that take a page.
pub fn page_id_field(obj: &Map<String, Value>, name: &str) -> Result<Option<String>, ApiError> {
    field(obj, name).map(|v| page_id_value(name, v)).transpose()
}

/// A page id given as field `name` (see [`page_id_field`]).
fn page_id_value(name: &str, value: &Value) -> Result<String, ApiError> {
    let expected = format!(
        "a page id: a non-empty string of at most {MAX_PAGE_ID_BYTES} bytes (UTF-8), or an integer"
    );
    match value {
        Value::Number(n) if n.as_u64().is_some() => Ok(n.to_string()),
        v @ Value::String(s) => {
            let s = s.trim();
            if s.is_empty() || s.len() > MAX_PAGE_ID_BYTES || s.chars().any(char::is_control) {
                Err(invalid(name, &expected, v))
            } else {
                Ok(s.to_string())
            }
        }
        v => Err(invalid(name, &expected, v)),
    }
}

/// `page_likes`: an integer from 0 to [`MAX_PAGE_LIKES`].
fn page_likes_value(value: &Value) -> Result<u64, ApiError> {
    let expected = format!("an integer from 0 to {MAX_PAGE_LIKES}");
    int_in("page_likes", value, 0, MAX_PAGE_LIKES, &expected)
}

/// An integer in `min..=max` that fits a `u8` (all the calendar fields).
fn small_int(name: &str, v: &Value, min: u8, max: u8, expected: &str) -> Result<u8, ApiError> {
    int_in(name, v, min.into(), max.into(), expected).map(|n| n as u8)
}

const MONTH_EXPECTED: &str = "an integer from 1 to 12 (1 = January)";
const WEEKDAY_EXPECTED: &str = "an integer from 1 to 7 in the dataset's encoding: 1 = Sunday, 2 = Monday, 3 = Tuesday, 4 = Wednesday, 5 = Thursday, 6 = Friday, 7 = Saturday";
const HOUR_EXPECTED: &str = "an integer from 0 to 23 (local hour)";
const CATEGORY_EXPECTED: &str = "1 (\"action\"), 2 (\"product\") or 3 (\"inspiration\")";
const POST_TYPE_EXPECTED: &str = "one of \"photo\", \"status\", \"link\", \"video\"";
const SCHEDULED_EXPECTED: &str = "an RFC 3339 date-time with an offset, e.g. \"2026-12-01T18:30:00-05:00\" or \"2026-12-01T23:30:00Z\"";

/// The page likes the model is asked about: the request's, held to
/// [`TRAINING_LIKES_RANGE`]. The model saw one page of 81,370–139,441 likes
/// and takes likes as a standardised raw count, so far outside that range it
/// extrapolates linearly into the exponent of its answer: 10⁷ likes gave a
/// p90 of 1.3 × 10⁹ interactions, 10⁸ an infinite one. Outside the range a
/// page is answered as the nearest page the model knows, and the response
/// says so (`page_likes_outside_training_range`).
pub fn model_page_likes(page_likes: u64) -> u64 {
    let (lo, hi) = TRAINING_LIKES_RANGE;
    page_likes.clamp(lo, hi)
}

impl PredictRequest {
    /// Parses and validates a JSON body (see the module docs). Errors:
    /// `invalid_json` (400); `missing_field`, `invalid_field`, and for
    /// `text` the analyse step's `text_too_long` / `unsupported_language`
    /// (422). Messages name the field and its allowed values.
    pub fn from_json(body: &[u8]) -> Result<Self, ApiError> {
        let obj = request_object(
            body,
            "'page_likes', 'post_type' and 'scheduled_at' (or 'month', 'weekday', 'hour')",
        )?;

        let page_likes = match field(&obj, "page_likes") {
            None => return Err(missing("page_likes", "the page's total likes, an integer")),
            Some(v) => page_likes_value(v)?,
        };

        let post_type = match field(&obj, "post_type") {
            None => return Err(missing("post_type", POST_TYPE_EXPECTED)),
            Some(v) => v
                .as_str()
                .and_then(PostType::parse)
                .ok_or_else(|| invalid("post_type", POST_TYPE_EXPECTED, v))?,
        };

        let category = match field(&obj, "category") {
            None => DEFAULT_CATEGORY,
            Some(Value::String(s)) => CATEGORY_NAMES
                .iter()
                .position(|c| c.eq_ignore_ascii_case(s.trim()))
                .map(|i| i as u8 + 1)
                .ok_or_else(|| invalid("category", CATEGORY_EXPECTED, &obj["category"]))?,
            Some(v) => small_int("category", v, 1, 3, CATEGORY_EXPECTED)?,
        };

        let paid = match field(&obj, "paid") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(v) => return Err(invalid("paid", "true or false", v)),
        };

        let scheduled = field(&obj, "scheduled_at");
        let slot_fields = ["month", "weekday", "hour"];
        let given: Vec<&str> = slot_fields
            .into_iter()
            .filter(|f| field(&obj, f).is_some())
            .collect();
        let (month, weekday, hour, scheduled_at) = match (scheduled, given.is_empty()) {
            (Some(_), false) => {
                return Err(ApiError::new(
                    422,
                    "invalid_field",
                    format!(
                        "give either 'scheduled_at' or 'month', 'weekday' and 'hour', not both (got 'scheduled_at' and '{}')",
                        given.join("', '")
                    ),
                ));
            }
            (None, true) => {
                return Err(missing(
                    "scheduled_at",
                    "an RFC 3339 date-time such as \"2026-12-01T18:30:00-05:00\", or else all of 'month', 'weekday' and 'hour'",
                ));
            }
            (Some(v), true) => {
                let at = v
                    .as_str()
                    .and_then(|s| OffsetDateTime::parse(s.trim(), &Rfc3339).ok())
                    .ok_or_else(|| invalid("scheduled_at", SCHEDULED_EXPECTED, v))?;
                (
                    u8::from(at.month()),
                    weekday_code(at.weekday()),
                    at.hour(),
                    Some(at),
                )
            }
            (None, false) => {
                if let Some(absent) = slot_fields.iter().find(|f| !given.contains(f)) {
                    return Err(missing(
                        absent,
                        "'month', 'weekday' and 'hour' go together; or give 'scheduled_at' instead",
                    ));
                }
                (
                    small_int("month", &obj["month"], 1, 12, MONTH_EXPECTED)?,
                    small_int("weekday", &obj["weekday"], 1, 7, WEEKDAY_EXPECTED)?,
                    small_int("hour", &obj["hour"], 0, 23, HOUR_EXPECTED)?,
                    None,
                )
            }
        };

        let quality = quality_request(&obj, post_type)?;
        let page_id = page_id_field(&obj, "page_id")?;
        let posting_window = PostingWindow::from_field(&obj)?;

        Ok(PredictRequest {
            page_likes,
            post_type,
            category,
            paid,
            month,
            weekday,
            hour,
            scheduled_at,
            quality,
            page_id,
            posting_window,
        })
    }

    /// A post of `post_type` on a page with `page_likes`, scheduled `at`,
    /// everything else at its default (category 1, not paid): what
    /// [`from_json`](Self::from_json) decodes from those three fields, for
    /// steps that plan a post without a JSON body (`generate`).
    /// Page likes and page id are checked as in a body (same errors).
    pub fn scheduled(
        page_likes: u64,
        post_type: PostType,
        at: OffsetDateTime,
        page_id: Option<&str>,
    ) -> Result<Self, ApiError> {
        Ok(PredictRequest {
            page_likes: page_likes_value(&Value::from(page_likes))?,
            post_type,
            category: DEFAULT_CATEGORY,
            paid: false,
            month: u8::from(at.month()),
            weekday: weekday_code(at.weekday()),
            hour: at.hour(),
            scheduled_at: Some(at),
            quality: None,
            page_id: page_id
                .map(|id| page_id_value("page_id", &Value::from(id)))
                .transpose()?,
            posting_window: PostingWindow::DEFAULT,
        })
    }

    /// The input row for this post at `weekday` (1 = Sunday … 7) and `hour`
    /// (0–23), everything else as requested: page likes (held to the
    /// training range, [`model_page_likes`]), type code, category, month,
    /// weekday, hour, paid (see `encoding::FEATURE_COLUMNS`).
    pub fn feature_row(&self, weekday: u8, hour: u8) -> FeatureRow {
        [
            model_page_likes(self.page_likes) as f32,
            f32::from(type_code(self.post_type)),
            f32::from(self.category),
            f32::from(self.month),
            f32::from(weekday),
            f32::from(hour),
            if self.paid { 1.0 } else { 0.0 },
        ]
    }

    /// Whether a slot at `hour` (with the minutes of `scheduled_at`, else
    /// `:00`) is inside the posting window: only such slots can be
    /// suggested, so only they are scored.
    pub fn slot_in_window(&self, hour: u8) -> bool {
        let minute = self.scheduled_at.map_or(0, |at| at.minute());
        self.posting_window.contains_slot(hour, minute)
    }

    /// The input row of the requested slot.
    pub fn requested_row(&self) -> FeatureRow {
        self.feature_row(self.weekday, self.hour)
    }

    /// `scheduled_at` as RFC 3339 in its own offset.
    pub fn scheduled_at_string(&self) -> Option<String> {
        self.scheduled_at.and_then(|at| at.format(&Rfc3339).ok())
    }

    /// Stable cache key: lowercase hex SHA-256 of a canonical JSON of the
    /// decoded request (fixed field order; absent fields omitted) plus
    /// [`PREDICT_VERSION`], [`MODEL_VERSION`] and, with text, the scorer
    /// version. Independent of the body's field order, whitespace, case and
    /// spelling of equal values (`"2026-12-01T23:30:00Z"` vs
    /// `"2026-12-01T23:30:00+00:00"`); it changes when any input, the
    /// model or this step's logic changes. `scheduled_at` is kept whole
    /// (with its offset) because the best times' dates depend on it.
    pub fn cache_key(&self) -> String {
        self.cache_key_for("")
    }

    /// [`cache_key`](Self::cache_key) that also depends on the inference
    /// `implementation` named in the response (`""`: none), so answers from
    /// different implementations are cached apart.
    pub fn cache_key_for(&self, implementation: &str) -> String {
        self.cache_key_with_page(implementation, None)
    }

    /// [`cache_key_for`](Self::cache_key_for) that also depends on the
    /// page's model state (its number of observations), so an answer
    /// blended with a page model is recomputed when the model learns.
    pub fn cache_key_with_page(
        &self,
        implementation: &str,
        page_observations: Option<u64>,
    ) -> String {
        #[derive(Serialize)]
        struct Canonical<'a> {
            v: &'a str,
            model: &'a str,
            #[serde(skip_serializing_if = "str::is_empty")]
            implementation: &'a str,
            page_likes: u64,
            post_type: PostType,
            category: u8,
            paid: bool,
            month: u8,
            weekday: u8,
            hour: u8,
            #[serde(skip_serializing_if = "Option::is_none")]
            scheduled_at: Option<String>,
            #[serde(skip_serializing_if = "Option::is_none")]
            text: Option<String>,
            #[serde(skip_serializing_if = "Option::is_none")]
            page_id: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            page_observations: Option<u64>,
            posting_window: [u16; 2],
        }
        // The analyse step's own canonical key covers the normalised text,
        // language, post type and scorer version.
        let text = self.quality.as_ref().map(AnalyzeRequest::cache_key);
        let canonical = Canonical {
            v: PREDICT_VERSION,
            model: MODEL_VERSION,
            implementation,
            page_likes: self.page_likes,
            post_type: self.post_type,
            category: self.category,
            paid: self.paid,
            month: self.month,
            weekday: self.weekday,
            hour: self.hour,
            scheduled_at: self.scheduled_at_string(),
            text,
            page_id: self.page_id.as_deref(),
            page_observations,
            posting_window: [self.posting_window.start, self.posting_window.end],
        };
        let bytes = serde_json::to_vec(&canonical).unwrap_or_default();
        hex::encode(Sha256::digest(&bytes))
    }

    /// Weekday name of the requested slot (`"tuesday"`).
    pub fn weekday_name(&self) -> &'static str {
        weekday_name(self.weekday)
    }
}

/// The optional `text` (with `language`) as an analyse request, validated
/// by the analyse step's own rules so both routes agree on limits and
/// messages.
fn quality_request(
    obj: &Map<String, Value>,
    post_type: PostType,
) -> Result<Option<AnalyzeRequest>, ApiError> {
    let text = match field(obj, "text") {
        None => return Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
        Some(Value::String(s)) => s,
        Some(v) => return Err(invalid("text", "a string (the post's text)", v)),
    };
    let mut sub = Map::new();
    sub.insert("text".into(), Value::String(text.clone()));
    if let Some(language) = field(obj, "language") {
        sub.insert("language".into(), language.clone());
    }
    let body = serde_json::to_vec(&Value::Object(sub)).unwrap_or_default();
    let mut req = AnalyzeRequest::from_json(&body)?;
    req.post_type = Some(post_type);
    Ok(Some(req))
}

#[cfg(test)]
mod tests {
    use super::*;
    use fbposts_core::Language;

    fn ok(body: &str) -> PredictRequest {
        PredictRequest::from_json(body.as_bytes()).unwrap_or_else(|e| panic!("{body}: {e}"))
    }

    #[test]
    fn a_scheduled_post_decodes_like_its_json_body() {
        let at = OffsetDateTime::parse("2026-12-01T18:30:00Z", &Rfc3339).unwrap();
        let built = PredictRequest::scheduled(129_600, PostType::Photo, at, Some("acme")).unwrap();
        let parsed = ok(
            r#"{"page_likes":129600,"post_type":"photo","scheduled_at":"2026-12-01T18:30:00Z","page_id":"acme"}"#,
        );
        assert_eq!(built, parsed);
    }

    #[test]
    fn a_page_id_is_limited_in_bytes_so_its_state_keys_fit() {
        let body = |id: &str| {
            format!(
                r#"{{"page_likes":1,"post_type":"photo","scheduled_at":"2026-12-01T18:30:00Z","page_id":"{id}"}}"#
            )
        };
        assert_eq!(ok(&body(&"é".repeat(64))).page_id.unwrap().len(), 128);
        for too_long in ["é".repeat(65), "a".repeat(129), "🍓".repeat(128)] {
            let err = PredictRequest::from_json(body(&too_long).as_bytes()).unwrap_err();
            assert_eq!((err.status, err.code), (422, "invalid_field"), "{too_long}");
        }
    }

    #[test]
    fn a_scheduled_post_is_checked_like_its_json_body() {
        let at = OffsetDateTime::parse("2026-12-01T18:30:00Z", &Rfc3339).unwrap();
        let too_many = MAX_PAGE_LIKES + 1;
        let built = PredictRequest::scheduled(too_many, PostType::Photo, at, None).unwrap_err();
        let parsed = PredictRequest::from_json(
            format!(r#"{{"page_likes":{too_many},"post_type":"photo","scheduled_at":"2026-12-01T18:30:00Z"}}"#)
                .as_bytes(),
        )
        .unwrap_err();
        assert_eq!(built, parsed);
        let bad_id =
            PredictRequest::scheduled(10, PostType::Photo, at, Some("a\u{7}b")).unwrap_err();
        assert_eq!((bad_id.status, bad_id.code), (422, "invalid_field"));
    }

    fn err(body: &str) -> ApiError {
        PredictRequest::from_json(body.as_bytes()).unwrap_err()
    }

    /// Asserts a 422 with `code` whose message names `field` and contains
    /// every `needle`.
    fn assert_err(body: &str, code: &str, field: &str, needles: &[&str]) {
        let e = err(body);
        assert_eq!((e.status, e.code), (422, code), "{body}: {}", e.message);
        assert!(
            e.message.contains(&format!("'{field}'")),
            "{body}: {}",
            e.message
        );
        for needle in needles {
            assert!(
                e.message.contains(needle),
                "{body}: {} lacks {needle}",
                e.message
            );
        }
    }

    const BASE: &str = r#""page_likes":120000,"post_type":"photo""#;

    fn with(extra: &str) -> String {
        format!("{{{BASE},{extra}}}")
    }

    #[test]
    fn parses_a_slot_request_with_defaults() {
        let r = ok(&with(r#""month":12,"weekday":3,"hour":18"#));
        assert_eq!(r.page_likes, 120_000);
        assert_eq!(r.post_type, PostType::Photo);
        assert_eq!(r.category, DEFAULT_CATEGORY);
        assert!(!r.paid);
        assert_eq!((r.month, r.weekday, r.hour), (12, 3, 18));
        assert_eq!(r.scheduled_at, None);
        assert_eq!(r.quality, None);
        assert_eq!(r.weekday_name(), "tuesday");
        assert_eq!(
            r.requested_row(),
            [120_000.0, 0.0, 1.0, 12.0, 3.0, 18.0, 0.0]
        );
    }

    #[test]
    fn the_model_is_asked_about_page_likes_inside_its_training_range_only() {
        let (lo, hi) = TRAINING_LIKES_RANGE;
        for (likes, asked) in [
            (0, lo),
            (lo - 1, lo),
            (lo, lo),
            (120_000, 120_000),
            (hi, hi),
            (hi + 1, hi),
            (MAX_PAGE_LIKES, hi),
        ] {
            let r = ok(&format!(
                r#"{{"page_likes":{likes},"post_type":"photo","month":6,"weekday":1,"hour":9}}"#
            ));
            assert_eq!(r.page_likes, likes, "the request keeps what was asked");
            assert_eq!(r.requested_row()[0], asked as f32, "{likes}");
        }
    }

    #[test]
    fn parses_every_option() {
        let r = ok(
            r#"{"page_likes":0,"post_type":" Video ","category":"Inspiration","paid":true,
               "month":1,"weekday":7,"hour":0,"text":"  Hola a todos  ","language":"es",
               "scheduled_at":null,"unknown":[1]}"#,
        );
        assert_eq!(r.post_type, PostType::Video);
        assert_eq!(r.category, 3);
        assert!(r.paid);
        assert_eq!((r.month, r.weekday, r.hour), (1, 7, 0));
        let q = r.quality.as_ref().unwrap();
        assert_eq!(q.text, "Hola a todos");
        assert_eq!(q.language, Some(Language::Es));
        assert_eq!(q.post_type, Some(PostType::Video));
        // 0 likes is below the training range: the model is asked about its smallest page.
        assert_eq!(
            r.feature_row(2, 23),
            [81_370.0, 3.0, 3.0, 1.0, 2.0, 23.0, 1.0]
        );
        for (post_type, code) in [
            ("photo", 0.0),
            ("status", 1.0),
            ("link", 2.0),
            ("video", 3.0),
        ] {
            let r = ok(&format!(
                r#"{{"page_likes":5,"post_type":"{post_type}","category":2,"month":6,"weekday":1,"hour":9}}"#
            ));
            assert_eq!(r.requested_row()[1], code, "{post_type}");
            assert_eq!(r.requested_row()[2], 2.0);
        }
        // Integral floats are integers; empty text is no text.
        let r = ok(&with(
            r#""month":6.0,"weekday":1,"hour":9,"category":"ACTION","text":"  ""#,
        ));
        assert_eq!((r.month, r.category, r.quality), (6, 1, None));
        let r =
            ok(r#"{"page_likes":120000.0,"post_type":"status","month":6,"weekday":1,"hour":9}"#);
        assert_eq!(r.page_likes, 120_000);
    }

    #[test]
    fn invalid_json_and_non_objects() {
        for body in ["{not json", "", "{\"page_likes\":1,}"] {
            let e = err(body);
            assert_eq!((e.status, e.code), (400, "invalid_json"), "{body}");
        }
        let e = PredictRequest::from_json(&[0xff, 0xfe]).unwrap_err();
        assert_eq!((e.status, e.code), (400, "invalid_json"));
        for body in ["[1]", "\"x\"", "42", "null"] {
            let e = err(body);
            assert_eq!((e.status, e.code), (422, "invalid_field"), "{body}");
            assert!(e.message.contains("JSON object"));
        }
    }

    #[test]
    fn missing_fields() {
        let slot = r#""month":1,"weekday":1,"hour":1"#;
        assert_err(
            &format!(r#"{{"post_type":"photo",{slot}}}"#),
            "missing_field",
            "page_likes",
            &[],
        );
        assert_err(
            &format!(r#"{{"page_likes":null,"post_type":"photo",{slot}}}"#),
            "missing_field",
            "page_likes",
            &[],
        );
        assert_err(
            &format!(r#"{{"page_likes":1,{slot}}}"#),
            "missing_field",
            "post_type",
            &["\"photo\"", "\"video\""],
        );
        // Neither way of giving the time.
        assert_err(
            &format!("{{{BASE}}}"),
            "missing_field",
            "scheduled_at",
            &["'month'", "'hour'"],
        );
        // Only part of month/weekday/hour.
        assert_err(
            &with(r#""month":1,"weekday":1"#),
            "missing_field",
            "hour",
            &[],
        );
        assert_err(&with(r#""hour":1"#), "missing_field", "month", &[]);
        assert_err(
            &with(r#""month":1,"hour":1"#),
            "missing_field",
            "weekday",
            &[],
        );
    }

    #[test]
    fn invalid_fields_name_the_allowed_values() {
        let slot = r#""month":1,"weekday":1,"hour":1"#;
        // page_likes: negative, non-integer, string, too large.
        for likes in ["-1", "1.5", "\"1000\"", "true", "1e12", "-0.5"] {
            assert_err(
                &format!(r#"{{"page_likes":{likes},"post_type":"photo",{slot}}}"#),
                "invalid_field",
                "page_likes",
                &["integer", "0 to 1000000000"],
            );
        }
        // post_type: unknown or not a string.
        for post_type in ["\"reel\"", "\"\"", "3", "[\"photo\"]"] {
            assert_err(
                &format!(r#"{{"page_likes":1,"post_type":{post_type},{slot}}}"#),
                "invalid_field",
                "post_type",
                &["\"photo\"", "\"status\"", "\"link\"", "\"video\""],
            );
        }
        assert!(
            err(r#"{"page_likes":1,"post_type":"reel","month":1,"weekday":1,"hour":1}"#)
                .message
                .contains("\"reel\"")
        );
        // category.
        for category in ["0", "4", "2.5", "\"offers\"", "true"] {
            assert_err(
                &with(&format!(r#""category":{category},{slot}"#)),
                "invalid_field",
                "category",
                &["1 (\"action\")", "3 (\"inspiration\")"],
            );
        }
        // paid.
        for paid in ["1", "\"yes\""] {
            assert_err(
                &with(&format!(r#""paid":{paid},{slot}"#)),
                "invalid_field",
                "paid",
                &["true or false"],
            );
        }
        // hour, month, weekday ranges and types.
        for hour in ["24", "-1", "7.5", "\"18\""] {
            assert_err(
                &with(&format!(r#""month":1,"weekday":1,"hour":{hour}"#)),
                "invalid_field",
                "hour",
                &["0 to 23"],
            );
        }
        for month in ["0", "13", "\"dec\""] {
            assert_err(
                &with(&format!(r#""month":{month},"weekday":1,"hour":1"#)),
                "invalid_field",
                "month",
                &["1 to 12"],
            );
        }
        for weekday in ["0", "8", "\"monday\""] {
            assert_err(
                &with(&format!(r#""month":1,"weekday":{weekday},"hour":1"#)),
                "invalid_field",
                "weekday",
                &["1 to 7", "1 = Sunday", "7 = Saturday"],
            );
        }
        // Both ways of giving the time.
        assert_err(
            &with(r#""scheduled_at":"2026-12-01T18:30:00-05:00","hour":18"#),
            "invalid_field",
            "scheduled_at",
            &["not both", "'hour'"],
        );
        // Bad RFC 3339: no offset, not a date, wrong type, impossible date.
        for at in [
            "\"2026-12-01T18:30:00\"",
            "\"2026-12-01\"",
            "\"tomorrow\"",
            "\"2026-02-30T10:00:00Z\"",
            "\"2026-12-01T25:00:00Z\"",
            "1764632000",
        ] {
            assert_err(
                &with(&format!(r#""scheduled_at":{at}"#)),
                "invalid_field",
                "scheduled_at",
                &["RFC 3339", "offset"],
            );
        }
        // text: wrong type; too long; language.
        assert_err(
            &with(r#""month":1,"weekday":1,"hour":1,"text":42"#),
            "invalid_field",
            "text",
            &[],
        );
        let long = "é".repeat(fbposts_core::MAX_POST_CHARS + 1);
        let e = err(&with(&format!(
            r#""month":1,"weekday":1,"hour":1,"text":"{long}""#
        )));
        assert_eq!((e.status, e.code), (422, "text_too_long"));
        let e = err(&with(
            r#""month":1,"weekday":1,"hour":1,"text":"hi","language":"fr""#,
        ));
        assert_eq!((e.status, e.code), (422, "unsupported_language"));
    }

    #[test]
    fn scheduled_at_gives_local_month_weekday_hour() {
        // (scheduled_at, month, weekday 1 = Sunday, hour) in the given offset.
        let cases = [
            // Tuesday 1 Dec 2026, 18:30 at UTC-5 (23:30 UTC, still Tuesday).
            ("2026-12-01T18:30:00-05:00", 12, 3, 18),
            // 22:30 at UTC-5 is 03:30 UTC on Wednesday 2 Dec: the local day counts.
            ("2026-12-01T22:30:00-05:00", 12, 3, 22),
            // 00:15 on Sunday 1 Nov 2026 at UTC+9 is still Saturday 31 Oct in UTC.
            ("2026-11-01T00:15:00+09:00", 11, 1, 0),
            // Near midnight on New Year's Eve, UTC.
            ("2026-12-31T23:59:59Z", 12, 5, 23),
            ("2027-01-01T00:00:00Z", 1, 6, 0),
            // Half-hour offset, lowercase separators, fractional seconds.
            ("2026-03-08t09:05:00.250+05:30", 3, 1, 9),
            ("2026-06-13T11:00:00-09:30", 6, 7, 11),
            // 23:59 on Saturday 28 Feb 2026 at UTC+14 (09:59 UTC the same day).
            ("2026-02-28T23:59:00+14:00", 2, 7, 23),
            // 01:00 on Wednesday 2 Dec at UTC+2 is 23:00 on Tuesday 1 Dec in UTC.
            ("2026-12-02T01:00:00+02:00", 12, 4, 1),
            // 23:30 on Monday 30 Nov at UTC-8 is 07:30 on Tuesday 1 Dec in UTC:
            // month, weekday and hour all stay local.
            ("2026-11-30T23:30:00-08:00", 11, 2, 23),
        ];
        for (at, month, weekday, hour) in cases {
            let r = ok(&with(&format!(r#""scheduled_at":"{at}""#)));
            assert_eq!((r.month, r.weekday, r.hour), (month, weekday, hour), "{at}");
            assert!(r.scheduled_at.is_some());
            assert_eq!(
                r.requested_row()[3..6],
                [month as f32, weekday as f32, hour as f32]
            );
        }
        let r = ok(&with(r#""scheduled_at":"2026-12-01T18:30:00-05:00""#));
        assert_eq!(
            r.scheduled_at_string().unwrap(),
            "2026-12-01T18:30:00-05:00"
        );
        let r = ok(&with(r#""scheduled_at":"2026-12-01T23:30:00Z""#));
        assert_eq!(r.scheduled_at_string().unwrap(), "2026-12-01T23:30:00Z");
    }

    #[test]
    fn cache_key_is_stable_and_sensitive() {
        let a = ok(r#"{"page_likes":120000,"post_type":"photo","month":12,"weekday":3,"hour":18}"#);
        let b = ok(
            "{ \"hour\": 18, \"weekday\": 3,\n \"month\": 12.0, \"post_type\": \"PHOTO\", \"category\": 1, \"paid\": false, \"page_likes\": 120000, \"x\": 1 }",
        );
        assert_eq!(a.cache_key(), b.cache_key());
        let k = a.cache_key();
        assert_eq!(k.len(), 64);
        assert!(
            k.bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        // Equal instants spelled alike are one key; another offset is another key.
        let z = ok(&with(r#""scheduled_at":"2026-12-01T23:30:00Z""#));
        let z2 = ok(&with(r#""scheduled_at":"2026-12-01T23:30:00+00:00""#));
        let z3 = ok(&with(r#""scheduled_at":"2026-12-01T18:30:00-05:00""#));
        assert_eq!(z.cache_key(), z2.cache_key());
        assert_ne!(z.cache_key(), z3.cache_key());
        // A slot request and a scheduled one decoding to the same slot differ
        // (the scheduled one carries dates).
        let slot = ok(&with(r#""month":12,"weekday":3,"hour":18"#));
        assert_ne!(slot.cache_key(), z3.cache_key());

        let variants = [
            r#"{"page_likes":120001,"post_type":"photo","month":12,"weekday":3,"hour":18}"#,
            r#"{"page_likes":120000,"post_type":"video","month":12,"weekday":3,"hour":18}"#,
            r#"{"page_likes":120000,"post_type":"photo","category":2,"month":12,"weekday":3,"hour":18}"#,
            r#"{"page_likes":120000,"post_type":"photo","paid":true,"month":12,"weekday":3,"hour":18}"#,
            r#"{"page_likes":120000,"post_type":"photo","month":11,"weekday":3,"hour":18}"#,
            r#"{"page_likes":120000,"post_type":"photo","month":12,"weekday":4,"hour":18}"#,
            r#"{"page_likes":120000,"post_type":"photo","month":12,"weekday":3,"hour":19}"#,
            r#"{"page_likes":120000,"post_type":"photo","month":12,"weekday":3,"hour":18,"text":"Hola"}"#,
            r#"{"page_likes":120000,"post_type":"photo","month":12,"weekday":3,"hour":18,"text":"Hola","language":"en"}"#,
        ];
        let mut keys: Vec<String> = variants.iter().map(|v| ok(v).cache_key()).collect();
        assert!(keys.iter().all(|v| *v != k));
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), variants.len());
        // Per implementation: apart from each other and from the plain key.
        let (p, o) = (a.cache_key_for("portable"), a.cache_key_for("wasi-nn/onnx"));
        assert!(p != o && p != k && o != k);
        assert_eq!(a.cache_key_for(""), k);
        assert_eq!(p, b.cache_key_for("portable"));

        // Pinned: the key changes only deliberately (with PREDICT_VERSION or
        // MODEL_VERSION), never as a side effect of a refactor.
        assert_eq!(
            k,
            "70339ca3b5cf74bcd4c34acf5035d752eaea76117f3307489c590c26530b527f"
        );
    }

    #[test]
    fn the_posting_window_is_read_defaulted_and_part_of_the_key() {
        let default = ok(&with(r#""month":12,"weekday":3,"hour":18"#));
        assert_eq!(default.posting_window, PostingWindow::DEFAULT);
        let evening = ok(&with(
            r#""month":12,"weekday":3,"hour":18,"posting_window":{"start":"18:00","end":"23:00"}"#,
        ));
        assert_eq!(
            (evening.posting_window.start, evening.posting_window.end),
            (18 * 60, 23 * 60)
        );
        assert_ne!(default.cache_key(), evening.cache_key());
        let spelled = ok(&with(
            r#""month":12,"weekday":3,"hour":18,"posting_window":{"end":"22:00","start":"7:00"}"#,
        ));
        assert_eq!(default.cache_key(), spelled.cache_key());
        assert_err(
            &with(
                r#""month":12,"weekday":3,"hour":18,"posting_window":{"start":"22:00","end":"22:00"}"#,
            ),
            "invalid_field",
            "posting_window",
            &["60 minutes"],
        );
    }

    #[test]
    fn text_languages_are_the_analyzers() {
        for l in [Language::Es, Language::En] {
            let r = ok(&with(&format!(
                r#""month":1,"weekday":1,"hour":1,"text":"Hi","language":"{}""#,
                l.code()
            )));
            assert_eq!(r.quality.unwrap().language, Some(l));
        }
    }
}
