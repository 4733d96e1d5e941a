//! The enhance request: JSON parsing and validation into
//! [`EnhanceRequest`] (with the shared field readers of
//! `fbposts_core::json`), and its stable cache key.
//!
//! Body: `{"text": string, "language"?: "es"|"en", "post_type"?: …,
//! "tone"?: …, "target_score"?: 0..=1 (default 0.8), "max_edits"?: 1..=20
//! (default 8)}`. `null` counts as absent; unknown fields are ignored.

use crate::{REWRITE_VERSION, RewriteError};
use fbposts_core::json::{object, opt_enum, opt_int, opt_number, opt_str};
use fbposts_core::scoring::normalize_text;
use fbposts_core::{Language, MAX_POST_CHARS, PostType, SCORER_VERSION, Tone};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Score the rewrite aims for when the request does not say.
pub const DEFAULT_TARGET: f64 = 0.8;
/// Edits applied at most when the request does not say.
pub const DEFAULT_MAX_EDITS: usize = 8;
/// Largest accepted `max_edits`.
pub const MAX_EDITS_LIMIT: usize = 20;

/// A validated enhance request.
#[derive(Debug, Clone, PartialEq)]
pub struct EnhanceRequest {
    pub text: String,
    pub language: Option<Language>,
    pub post_type: Option<PostType>,
    pub tone: Option<Tone>,
    pub target_score: f64,
    pub max_edits: usize,
}

impl EnhanceRequest {
    /// A request for `text` with the defaults.
    pub fn new(text: impl Into<String>) -> Self {
        EnhanceRequest {
            text: text.into(),
            language: None,
            post_type: None,
            tone: None,
            target_score: DEFAULT_TARGET,
            max_edits: DEFAULT_MAX_EDITS,
        }
    }

    /// Parses and validates a JSON body. Errors (as [`RewriteError`], each
    /// with its HTTP status): `invalid_json` (400), `missing_field`,
    /// `invalid_field`, `empty_text`, `text_too_long`,
    /// `unsupported_language` (422).
    pub fn from_json(body: &[u8]) -> Result<Self, RewriteError> {
        let obj = object(body)?;
        let text = match opt_str(&obj, "text", "a string (the post to enhance)")? {
            None => return Err(RewriteError::MissingText),
            Some(t) => normalize_text(t).into_owned(),
        };
        if text.is_empty() {
            return Err(RewriteError::EmptyText);
        }
        let chars = text.chars().count();
        if chars > MAX_POST_CHARS {
            return Err(RewriteError::TextTooLong(chars));
        }
        let language =
            match opt_str(&obj, "language", "a string: \"es\" or \"en\"")? {
                None => None,
                Some(s) => Some(Language::parse(s).ok_or_else(|| {
                    RewriteError::UnsupportedLanguage(s.chars().take(40).collect())
                })?),
            };
        let post_types: Vec<&str> = PostType::ALL.iter().map(|p| p.code()).collect();
        let post_type = opt_enum(&obj, "post_type", &post_types, PostType::parse)?;
        let tones: Vec<&str> = Tone::ALL.iter().map(|t| t.code()).collect();
        let tone = opt_enum(&obj, "tone", &tones, Tone::parse)?;
        let target_score = opt_number(&obj, "target_score", 0.0, 1.0)?.unwrap_or(DEFAULT_TARGET);
        let max_edits = opt_int(&obj, "max_edits", 1, MAX_EDITS_LIMIT as u64)?
            .map_or(DEFAULT_MAX_EDITS, |n| n as usize);
        Ok(EnhanceRequest {
            text,
            language,
            post_type,
            tone,
            target_score,
            max_edits,
        })
    }

    /// Lowercase hex SHA-256 of the canonical request (fixed field order,
    /// normalised text, absent options omitted), the scorer version and
    /// [`REWRITE_VERSION`]. Independent of the body's field order and
    /// whitespace.
    pub fn cache_key(&self) -> String {
        #[derive(Serialize)]
        struct Canonical<'a> {
            scorer: &'a str,
            rewrite: &'a str,
            text: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            language: Option<Language>,
            #[serde(skip_serializing_if = "Option::is_none")]
            post_type: Option<PostType>,
            #[serde(skip_serializing_if = "Option::is_none")]
            tone: Option<Tone>,
            target_score: f64,
            max_edits: usize,
        }
        let text = normalize_text(&self.text);
        let canonical = Canonical {
            scorer: SCORER_VERSION,
            rewrite: REWRITE_VERSION,
            text: &text,
            language: self.language,
            post_type: self.post_type,
            tone: self.tone,
            target_score: self.target_score,
            max_edits: self.max_edits,
        };
        let bytes = serde_json::to_vec(&canonical).unwrap_or_default();
        hex::encode(Sha256::digest(&bytes))
    }
}

/// Used by tests and callers that build a request by hand.
impl From<&str> for EnhanceRequest {
    fn from(text: &str) -> Self {
        EnhanceRequest::new(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(body: &str) -> fbposts_core::ApiError {
        EnhanceRequest::from_json(body.as_bytes())
            .unwrap_err()
            .into()
    }

    #[test]
    fn parses_defaults_and_options() {
        let r = EnhanceRequest::from_json(br#"{"text":" Hola ","language":"ES","tone":"Playful","target_score":0.9,"max_edits":3,"post_type":null}"#).unwrap();
        assert_eq!(r.text, "Hola");
        assert_eq!(r.language, Some(Language::Es));
        assert_eq!(r.tone, Some(Tone::Playful));
        assert_eq!((r.target_score, r.max_edits), (0.9, 3));
        let r = EnhanceRequest::from_json(br#"{"text":"hi"}"#).unwrap();
        assert_eq!(r, EnhanceRequest::new("hi"));
    }

    #[test]
    fn every_error_path() {
        let cases = [
            ("{nope", 400, "invalid_json"),
            ("[1]", 400, "invalid_json"),
            (r#"{"language":"es"}"#, 422, "missing_field"),
            (r#"{"text":7}"#, 422, "invalid_field"),
            (r#"{"text":"  "}"#, 422, "empty_text"),
            (
                r#"{"text":"hi","language":"fr"}"#,
                422,
                "unsupported_language",
            ),
            (r#"{"text":"hi","tone":"angry"}"#, 422, "invalid_field"),
            (r#"{"text":"hi","post_type":"reel"}"#, 422, "invalid_field"),
            (r#"{"text":"hi","target_score":1.5}"#, 422, "invalid_field"),
            (
                r#"{"text":"hi","target_score":"high"}"#,
                422,
                "invalid_field",
            ),
            (r#"{"text":"hi","max_edits":0}"#, 422, "invalid_field"),
            (r#"{"text":"hi","max_edits":21}"#, 422, "invalid_field"),
            (r#"{"text":"hi","max_edits":2.5}"#, 422, "invalid_field"),
        ];
        for (body, status, code) in cases {
            let e = err(body);
            assert_eq!((e.status, e.code), (status, code), "{body}: {}", e.message);
            assert!(!e.message.is_empty());
        }
        let long = format!(r#"{{"text":"{}"}}"#, "a".repeat(MAX_POST_CHARS + 1));
        assert_eq!(err(&long).code, "text_too_long");
        assert!(
            err(r#"{"text":"hi","target_score":-0.1}"#)
                .message
                .contains("target_score")
        );
    }

    #[test]
    fn cache_key_is_canonical() {
        let a = EnhanceRequest::from_json(br#"{"text":"Hola","tone":"playful","max_edits":8}"#)
            .unwrap();
        let b = EnhanceRequest::from_json(b"{ \"tone\": \"PLAYFUL\", \"text\": \"Hola \\r\\n\" }")
            .unwrap();
        assert_eq!(a.cache_key(), b.cache_key());
        let c = EnhanceRequest {
            target_score: 0.9,
            ..a.clone()
        };
        assert_ne!(a.cache_key(), c.cache_key());
        let d = EnhanceRequest {
            max_edits: 3,
            ..a.clone()
        };
        assert_ne!(a.cache_key(), d.cache_key());
        assert_eq!(a.cache_key().len(), 64);
    }
}
