//! The feedback request: what really happened to a published post.
//!
//! Body:
//!
//! ```json
//! {"id": "c-…",                       // a candidate from /api/generate, or:
//!  "text": "…", "page_id": "acme",    // raw text + page
//!  "page_likes": 120000, "post_type": "photo", "paid": false, "category": 2,
//!  "published_at": "2026-12-01T18:30:00-05:00",
//!  "metrics": {"reactions": 120, "comments": 14, "shares": 9,
//!              "reach": 5400, "impressions": 8000, "clicks": 75}}
//! ```
//!
//! - `id` or `text` (at least one). With `id`, missing `page_id`,
//!   `page_likes` and `post_type` are taken from the stored candidate.
//! - `page_id` (string or integer), `page_likes`, `post_type`: required in
//!   the end (from the body or the candidate); `paid` (default false) and
//!   `category` as for `/api/predict`.
//! - `published_at`: RFC 3339 with an offset (required).
//! - `metrics.reactions`, `.comments`, `.shares` (required, integers ≥ 0);
//!   `.reach`, `.impressions`, `.clicks` (optional).
//!
//! Observed `total_interactions` = reactions + comments + shares, the
//! training data's definition (likes + comments + shares).

use crate::request::{MAX_PAGE_LIKES, PredictRequest, page_id_field};
use fbposts_core::json::{field, int_in, invalid, missing, object, opt_str};
use fbposts_core::{ApiError, MAX_POST_CHARS};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// Largest accepted metric value.
pub const MAX_METRIC: u64 = 10_000_000_000;

/// Longest accepted candidate id.
pub const MAX_ID_CHARS: usize = 64;

/// Observed outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metrics {
    pub reactions: u64,
    pub comments: u64,
    pub shares: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reach: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impressions: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clicks: Option<u64>,
}

impl Metrics {
    /// reactions + comments + shares.
    pub fn total_interactions(&self) -> u64 {
        self.reactions + self.comments + self.shares
    }
}

/// A parsed feedback body, before the candidate (if any) fills the gaps.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedbackRequest {
    pub id: Option<String>,
    pub text: Option<String>,
    pub page_id: Option<String>,
    pub page_likes: Option<u64>,
    pub post_type: Option<String>,
    pub paid: bool,
    pub category: Option<Value>,
    pub published_at: String,
    pub metrics: Metrics,
}

fn metric(obj: &Map<String, Value>, name: &str, required: bool) -> Result<Option<u64>, ApiError> {
    let path = format!("metrics.{name}");
    let expected = format!("an integer from 0 to {MAX_METRIC}");
    match field(obj, name) {
        None if required => Err(missing(&path, "an integer count, 0 or more")),
        None => Ok(None),
        Some(v) => int_in(&path, v, 0, MAX_METRIC, &expected).map(Some),
    }
}

impl FeedbackRequest {
    /// Parses and validates a body (see the module docs): `invalid_json`
    /// (400), `missing_field` / `invalid_field` (422).
    pub fn from_json(body: &[u8]) -> Result<Self, ApiError> {
        let obj = object(body)?;
        let id = match opt_str(&obj, "id", "a candidate id from /api/generate")? {
            None => None,
            Some(s) => {
                let s = s.trim();
                let ok = !s.is_empty()
                    && s.len() <= MAX_ID_CHARS
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
                if !ok {
                    return Err(invalid(
                        "id",
                        "a candidate id from /api/generate (letters, digits, '-', '_')",
                        &obj["id"],
                    ));
                }
                Some(s.to_string())
            }
        };
        let text = opt_str(&obj, "text", "the published post's text")?
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if let Some(t) = &text
            && t.chars().count() > MAX_POST_CHARS
        {
            return Err(ApiError::new(
                422,
                "text_too_long",
                format!(
                    "field 'text' is longer than Facebook's limit of {MAX_POST_CHARS} characters"
                ),
            ));
        }
        if id.is_none() && text.is_none() {
            return Err(missing(
                "id",
                "the candidate id from /api/generate, or else 'text' and 'page_id'",
            ));
        }
        let page_id = page_id_field(&obj, "page_id")?;
        let page_likes = field(&obj, "page_likes")
            .map(|v| {
                int_in(
                    "page_likes",
                    v,
                    0,
                    MAX_PAGE_LIKES,
                    &format!("an integer from 0 to {MAX_PAGE_LIKES}"),
                )
            })
            .transpose()?;
        let post_type = opt_str(
            &obj,
            "post_type",
            "one of \"photo\", \"status\", \"link\", \"video\"",
        )?
        .map(str::to_string);
        let paid = match field(&obj, "paid") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(v) => return Err(invalid("paid", "true or false", v)),
        };
        let published_at = match field(&obj, "published_at") {
            None => {
                return Err(missing(
                    "published_at",
                    "when the post was published, RFC 3339 with an offset",
                ));
            }
            Some(Value::String(s)) => s.trim().to_string(),
            Some(v) => {
                return Err(invalid(
                    "published_at",
                    "an RFC 3339 date-time with an offset",
                    v,
                ));
            }
        };
        let metrics = match field(&obj, "metrics") {
            None => {
                return Err(missing(
                    "metrics",
                    "an object with reactions, comments and shares",
                ));
            }
            Some(Value::Object(m)) => Metrics {
                reactions: metric(m, "reactions", true)?.unwrap_or_default(),
                comments: metric(m, "comments", true)?.unwrap_or_default(),
                shares: metric(m, "shares", true)?.unwrap_or_default(),
                reach: metric(m, "reach", false)?,
                impressions: metric(m, "impressions", false)?,
                clicks: metric(m, "clicks", false)?,
            },
            Some(v) => {
                return Err(invalid(
                    "metrics",
                    "an object with reactions, comments and shares",
                    v,
                ));
            }
        };
        let request = FeedbackRequest {
            id,
            text,
            page_id,
            page_likes,
            post_type,
            paid,
            category: field(&obj, "category").cloned(),
            published_at,
            metrics,
        };
        // Validate what can be validated without the candidate.
        request.context(None, None, None)?;
        Ok(request)
    }

    /// The predict request for the post's context, gaps filled from the
    /// candidate (`page_id`, `page_likes`, `post_type`), validated by the
    /// predict step's own rules. Placeholders stand in for values the
    /// candidate may still provide when called without them.
    pub fn context(
        &self,
        page_id: Option<&str>,
        page_likes: Option<u64>,
        post_type: Option<&str>,
    ) -> Result<PredictRequest, ApiError> {
        let final_check =
            page_id.is_some() || page_likes.is_some() || post_type.is_some() || self.id.is_none();
        let likes = self.page_likes.or(page_likes);
        let kind = self.post_type.as_deref().or(post_type);
        let page = self.page_id.as_deref().or(page_id);
        if final_check {
            if page.is_none() {
                return Err(missing("page_id", "the page the post was published on"));
            }
            if likes.is_none() {
                return Err(missing(
                    "page_likes",
                    "the page's total likes when it posted",
                ));
            }
            if kind.is_none() {
                return Err(missing(
                    "post_type",
                    "\"photo\", \"status\", \"link\" or \"video\"",
                ));
            }
        }
        let mut body = json!({
            "page_likes": likes.unwrap_or(0),
            "post_type": kind.unwrap_or("status"),
            "paid": self.paid,
            "scheduled_at": self.published_at,
        });
        if let Some(category) = &self.category {
            body["category"] = category.clone();
        }
        if let Some(page) = page {
            body["page_id"] = Value::String(page.to_string());
        }
        PredictRequest::from_json(body.to_string().as_bytes()).map_err(|mut e| {
            if e.message.contains("'scheduled_at'") {
                e.message = e.message.replace("'scheduled_at'", "'published_at'");
            }
            e
        })
    }

    /// When the post was published, in seconds since the Unix epoch
    /// (`None` if `published_at` does not parse, which validation refuses).
    pub fn published_unix(&self) -> Option<i64> {
        time::OffsetDateTime::parse(
            self.published_at.trim(),
            &time::format_description::well_known::Rfc3339,
        )
        .ok()
        .map(time::OffsetDateTime::unix_timestamp)
    }

    /// The event's idempotency key: the candidate id, or a hash of page,
    /// text and publication time for raw posts.
    pub fn event_id(&self, page_id: &str) -> String {
        match &self.id {
            Some(id) => id.clone(),
            None => {
                let mut h = Sha256::new();
                for part in [
                    page_id,
                    self.text.as_deref().unwrap_or(""),
                    &self.published_at,
                ] {
                    h.update(part.as_bytes());
                    h.update([0]);
                }
                format!("raw-{}", &hex::encode(h.finalize())[..32])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RAW: &str = r#"{"text":"Nuevo sabor 🍓","page_id":"acme","page_likes":120000,"post_type":"photo",
        "published_at":"2026-12-01T18:30:00-05:00","metrics":{"reactions":120,"comments":14,"shares":9,"reach":5400}}"#;

    #[test]
    fn the_publication_time_is_read_with_its_offset() {
        let f = FeedbackRequest::from_json(
            br#"{"id":"c-1a2b","page_id":"p","page_likes":10,"post_type":"photo","published_at":"2026-12-01T09:00:00+01:00","metrics":{"reactions":1,"comments":0,"shares":0}}"#,
        )
        .unwrap();
        assert_eq!(f.published_unix(), Some(1_796_112_000));
    }

    #[test]
    fn parses_a_raw_event() {
        let f = FeedbackRequest::from_json(RAW.as_bytes()).unwrap();
        assert_eq!(f.metrics.total_interactions(), 143);
        assert_eq!(f.metrics.reach, Some(5400));
        let ctx = f.context(None, None, None).unwrap();
        assert_eq!((ctx.weekday, ctx.hour, ctx.month), (3, 18, 12));
        assert_eq!(ctx.page_id.as_deref(), Some("acme"));
        let id = f.event_id("acme");
        assert!(id.starts_with("raw-") && id.len() == 36);
        assert_eq!(
            id,
            FeedbackRequest::from_json(RAW.as_bytes())
                .unwrap()
                .event_id("acme")
        );
    }

    #[test]
    fn a_candidate_fills_the_gaps() {
        let f = FeedbackRequest::from_json(
            br#"{"id":"c-1a2b","published_at":"2026-12-01T09:00:00Z","metrics":{"reactions":1,"comments":0,"shares":0}}"#,
        )
        .unwrap();
        assert!(f.context(Some("p1"), None, Some("status")).is_err());
        let ctx = f.context(Some("p1"), Some(5000), Some("status")).unwrap();
        assert_eq!(ctx.page_likes, 5000);
        assert_eq!(f.event_id("p1"), "c-1a2b");
    }

    #[test]
    fn bad_events_are_rejected_with_the_field_named() {
        let cases = [
            (r#"[1]"#, "invalid_json"),
            (
                r#"{"published_at":"2026-12-01T09:00:00Z","metrics":{"reactions":1,"comments":0,"shares":0}}"#,
                "'id'",
            ),
            (
                r#"{"id":"x y","published_at":"2026-12-01T09:00:00Z","metrics":{"reactions":1,"comments":0,"shares":0}}"#,
                "'id'",
            ),
            (
                r#"{"id":"c1","metrics":{"reactions":1,"comments":0,"shares":0}}"#,
                "'published_at'",
            ),
            (
                r#"{"id":"c1","published_at":"yesterday","metrics":{"reactions":1,"comments":0,"shares":0}}"#,
                "'published_at'",
            ),
            (
                r#"{"id":"c1","published_at":"2026-12-01T09:00:00Z"}"#,
                "'metrics'",
            ),
            (
                r#"{"id":"c1","published_at":"2026-12-01T09:00:00Z","metrics":{"reactions":-1,"comments":0,"shares":0}}"#,
                "'metrics.reactions'",
            ),
            (
                r#"{"id":"c1","published_at":"2026-12-01T09:00:00Z","metrics":{"reactions":1,"shares":0}}"#,
                "'metrics.comments'",
            ),
            (
                r#"{"text":"hola","page_id":"p","page_likes":1,"post_type":"reel","published_at":"2026-12-01T09:00:00Z","metrics":{"reactions":1,"comments":0,"shares":0}}"#,
                "'post_type'",
            ),
            (
                r#"{"text":"hola","page_likes":1,"post_type":"photo","published_at":"2026-12-01T09:00:00Z","metrics":{"reactions":1,"comments":0,"shares":0}}"#,
                "'page_id'",
            ),
        ];
        for (body, needle) in cases {
            let err = FeedbackRequest::from_json(body.as_bytes()).unwrap_err();
            assert!(err.status == 400 || err.status == 422, "{body}");
            assert!(
                err.message.contains(needle) || err.code == needle,
                "{body}: {} / {}",
                err.code,
                err.message
            );
        }
    }
}
