//! The analyse request: JSON parsing and validation into
//! [`AnalyzeRequest`], the client-facing [`ApiError`], and the stable
//! cache key.
//!
//! Body: `{"text": string, "language"?: "es"|"en", "post_type"?:
//! "status"|"photo"|"video"|"link", "audience"?: string, "tone"?:
//! "friendly"|"professional"|"playful"|"inspirational"|"urgent"|"informative"}`.
//! `null` optional fields are treated as absent; unknown fields are ignored.
//! Enum values are case-insensitive, and a language may carry a region
//! subtag (`es-MX`, `en_US`).

use crate::json::{opt_str, quote_list, request_object, type_name};
use crate::scoring::normalize_text;
use crate::{Language, MAX_POST_CHARS, PostType, SCORER_VERSION, Tone};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Longest accepted `audience` description, in chars.
pub const MAX_AUDIENCE_CHARS: usize = 500;

/// A validated analyse request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnalyzeRequest {
    pub text: String,
    pub language: Option<Language>,
    pub post_type: Option<PostType>,
    pub audience: Option<String>,
    pub tone: Option<Tone>,
}

/// Client error for the HTTP layer: a status (400/413/415/422), a stable
/// machine-readable code and a human message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    /// `{"error": {"code": …, "message": …}}`
    pub fn to_json(&self) -> Value {
        serde_json::json!({ "error": { "code": self.code, "message": self.message } })
    }

    fn invalid_field(field: &str, expected: &str) -> Self {
        ApiError::new(
            422,
            "invalid_field",
            format!("field '{field}' must be {expected}"),
        )
    }
}

impl AnalyzeRequest {
    /// A request for `text` with no options.
    pub fn new(text: impl Into<String>) -> Self {
        AnalyzeRequest {
            text: text.into(),
            language: None,
            post_type: None,
            audience: None,
            tone: None,
        }
    }

    /// Parses and validates a JSON body (see the module docs). Errors:
    /// `invalid_json` (400), `invalid_field` / `missing_field` /
    /// `empty_text` / `text_too_long` / `unsupported_language` (422).
    pub fn from_json(body: &[u8]) -> Result<Self, ApiError> {
        let obj = request_object(body, "a 'text' field")?;

        let text = match obj.get("text") {
            None | Some(Value::Null) => {
                return Err(ApiError::new(
                    422,
                    "missing_field",
                    "field 'text' is required (the post to analyse)",
                ));
            }
            Some(Value::String(s)) => s,
            Some(other) => {
                return Err(ApiError::invalid_field(
                    "text",
                    &format!("a string (got {})", type_name(other)),
                ));
            }
        };
        let text = normalize_text(text);
        if text.is_empty() {
            return Err(ApiError::new(
                422,
                "empty_text",
                "field 'text' must contain some non-whitespace text",
            ));
        }
        let chars = text.chars().count();
        if chars > MAX_POST_CHARS {
            return Err(ApiError::new(
                422,
                "text_too_long",
                format!(
                    "field 'text' has {chars} characters; Facebook's limit is {MAX_POST_CHARS}"
                ),
            ));
        }

        let language = match opt_str(&obj, "language", "a string: \"es\" or \"en\"")? {
            None => None,
            Some(s) => Some(Language::parse(s).ok_or_else(|| {
                ApiError::new(
                    422,
                    "unsupported_language",
                    format!(
                        "field 'language' must be \"es\" or \"en\" (got \"{}\")",
                        s.chars().take(40).collect::<String>()
                    ),
                )
            })?),
        };

        let post_types = quote_list(PostType::ALL.iter().map(|p| p.code()));
        let post_type = match opt_str(&obj, "post_type", &format!("one of {post_types}"))? {
            None => None,
            Some(s) => Some(PostType::parse(s).ok_or_else(|| {
                ApiError::invalid_field(
                    "post_type",
                    &format!(
                        "one of {post_types} (got \"{}\")",
                        s.chars().take(40).collect::<String>()
                    ),
                )
            })?),
        };

        let tones = quote_list(Tone::ALL.iter().map(|t| t.code()));
        let tone = match opt_str(&obj, "tone", &format!("one of {tones}"))? {
            None => None,
            Some(s) => Some(Tone::parse(s).ok_or_else(|| {
                ApiError::invalid_field(
                    "tone",
                    &format!(
                        "one of {tones} (got \"{}\")",
                        s.chars().take(40).collect::<String>()
                    ),
                )
            })?),
        };

        let audience = match opt_str(&obj, "audience", "a string describing the audience")? {
            None => None,
            Some(s) => {
                let s = s.trim();
                if s.chars().count() > MAX_AUDIENCE_CHARS {
                    return Err(ApiError::invalid_field(
                        "audience",
                        &format!("a string of at most {MAX_AUDIENCE_CHARS} characters"),
                    ));
                }
                (!s.is_empty()).then(|| s.to_string())
            }
        };

        Ok(AnalyzeRequest {
            text: text.into_owned(),
            language,
            post_type,
            audience,
            tone,
        })
    }

    /// Stable cache key: lowercase hex SHA-256 of a canonical JSON of the
    /// normalised request (fields in a fixed order, absent ones omitted)
    /// plus [`SCORER_VERSION`]. Independent of the JSON body's field order
    /// and whitespace; changes when the text, any option or the scorer
    /// version changes.
    pub fn cache_key(&self) -> String {
        #[derive(Serialize)]
        struct Canonical<'a> {
            v: &'a str,
            text: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            language: Option<Language>,
            #[serde(skip_serializing_if = "Option::is_none")]
            post_type: Option<PostType>,
            #[serde(skip_serializing_if = "Option::is_none")]
            audience: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            tone: Option<Tone>,
        }
        let text = normalize_text(&self.text);
        let audience = self
            .audience
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty());
        let canonical = Canonical {
            v: SCORER_VERSION,
            text: &text,
            language: self.language,
            post_type: self.post_type,
            audience,
            tone: self.tone,
        };
        let bytes = serde_json::to_vec(&canonical).unwrap_or_default();
        hex::encode(Sha256::digest(&bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(body: &str) -> ApiError {
        AnalyzeRequest::from_json(body.as_bytes()).unwrap_err()
    }

    #[test]
    fn parses_a_full_request() {
        let r = AnalyzeRequest::from_json(
            br#"{"text":"  Hola mundo  ","language":"ES","post_type":"Photo","audience":" pymes ","tone":"friendly","extra":1}"#,
        )
        .unwrap();
        assert_eq!(r.text, "Hola mundo");
        assert_eq!(r.language, Some(Language::Es));
        assert_eq!(r.post_type, Some(PostType::Photo));
        assert_eq!(r.audience.as_deref(), Some("pymes"));
        assert_eq!(r.tone, Some(Tone::Friendly));
        let r = AnalyzeRequest::from_json(
            br#"{"text":"hi","language":null,"tone":null,"language2":"fr"}"#,
        )
        .unwrap();
        assert_eq!(r, AnalyzeRequest::new("hi"));
        let r = AnalyzeRequest::from_json(br#"{"text":"hi","language":"en-US"}"#).unwrap();
        assert_eq!(r.language, Some(Language::En));
    }

    #[test]
    fn every_error_path() {
        let e = err("{not json");
        assert_eq!((e.status, e.code), (400, "invalid_json"));
        let e = AnalyzeRequest::from_json(&[0xff, 0xfe]).unwrap_err();
        assert_eq!((e.status, e.code), (400, "invalid_json"));
        let e = err("");
        assert_eq!((e.status, e.code), (400, "invalid_json"));

        for body in ["[1,2]", "\"text\"", "42", "null"] {
            let e = err(body);
            assert_eq!((e.status, e.code), (422, "invalid_field"), "{body}");
            assert!(e.message.contains("JSON object"));
        }

        let e = err(r#"{"language":"es"}"#);
        assert_eq!((e.status, e.code), (422, "missing_field"));
        assert!(e.message.contains("'text'"));
        let e = err(r#"{"text":null}"#);
        assert_eq!(e.code, "missing_field");

        let e = err(r#"{"text":42}"#);
        assert_eq!((e.status, e.code), (422, "invalid_field"));
        assert!(e.message.contains("'text'") && e.message.contains("a number"));

        for body in [r#"{"text":""}"#, r#"{"text":"   \n\t "}"#] {
            let e = err(body);
            assert_eq!((e.status, e.code), (422, "empty_text"));
        }

        let long = format!(r#"{{"text":"{}"}}"#, "é".repeat(MAX_POST_CHARS + 1));
        let e = err(&long);
        assert_eq!((e.status, e.code), (422, "text_too_long"));
        assert!(e.message.contains("63206"));
        let ok = format!(r#"{{"text":"{}"}}"#, "é".repeat(MAX_POST_CHARS));
        assert!(
            AnalyzeRequest::from_json(ok.as_bytes()).is_ok(),
            "the limit counts chars, not bytes"
        );

        let e = err(r#"{"text":"hi","language":"fr"}"#);
        assert_eq!((e.status, e.code), (422, "unsupported_language"));
        assert!(
            e.message.contains("'language'")
                && e.message.contains("\"es\"")
                && e.message.contains("\"en\"")
        );
        let e = err(r#"{"text":"hi","language":7}"#);
        assert_eq!((e.status, e.code), (422, "invalid_field"));
        assert!(e.message.contains("'language'"));

        let e = err(r#"{"text":"hi","post_type":"reel"}"#);
        assert_eq!((e.status, e.code), (422, "invalid_field"));
        assert!(
            e.message.contains("'post_type'")
                && e.message.contains("\"status\"")
                && e.message.contains("\"link\"")
        );
        let e = err(r#"{"text":"hi","post_type":true}"#);
        assert_eq!(e.code, "invalid_field");

        let e = err(r#"{"text":"hi","tone":"angry"}"#);
        assert_eq!((e.status, e.code), (422, "invalid_field"));
        assert!(
            e.message.contains("'tone'")
                && e.message.contains("\"friendly\"")
                && e.message.contains("\"informative\"")
        );
        let e = err(r#"{"text":"hi","tone":["friendly"]}"#);
        assert_eq!(e.code, "invalid_field");

        let e = err(r#"{"text":"hi","audience":{"a":1}}"#);
        assert!(e.code == "invalid_field" && e.message.contains("'audience'"));
        let e = err(&format!(
            r#"{{"text":"hi","audience":"{}"}}"#,
            "a".repeat(MAX_AUDIENCE_CHARS + 1)
        ));
        assert!(e.code == "invalid_field" && e.message.contains("'audience'"));
    }

    #[test]
    fn error_json_shape() {
        let e = err(r#"{"text":"hi","language":"fr"}"#);
        let j = e.to_json();
        assert_eq!(j["error"]["code"], "unsupported_language");
        assert_eq!(j["error"]["message"], e.message);
        assert_eq!(e.to_string(), e.message);
    }

    #[test]
    fn cache_key_is_stable_under_field_order_and_whitespace() {
        let a = AnalyzeRequest::from_json(br#"{"text":"Hola","language":"es","tone":"playful"}"#)
            .unwrap();
        let b = AnalyzeRequest::from_json(
            b"{ \"tone\" : \"Playful\",\n  \"language\": \"es\",\n \"text\": \"  Hola \\r\\n\", \"unknown\": 1 }",
        )
        .unwrap();
        assert_eq!(a.cache_key(), b.cache_key());
        let k = a.cache_key();
        assert_eq!(k.len(), 64);
        assert!(
            k.bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
        );
        // Constructed directly, the same normalisation applies.
        let c = AnalyzeRequest {
            text: "Hola\r\n".into(),
            language: Some(Language::Es),
            tone: Some(Tone::Playful),
            ..AnalyzeRequest::new("")
        };
        assert_eq!(c.cache_key(), k);
    }

    #[test]
    fn cache_key_differs_when_anything_differs() {
        let base = AnalyzeRequest::new("Hola mundo");
        let k = base.cache_key();
        let variants = [
            AnalyzeRequest::new("Hola mundo!"),
            AnalyzeRequest {
                language: Some(Language::Es),
                ..base.clone()
            },
            AnalyzeRequest {
                language: Some(Language::En),
                ..base.clone()
            },
            AnalyzeRequest {
                post_type: Some(PostType::Photo),
                ..base.clone()
            },
            AnalyzeRequest {
                audience: Some("pymes".into()),
                ..base.clone()
            },
            AnalyzeRequest {
                tone: Some(Tone::Urgent),
                ..base.clone()
            },
        ];
        let mut keys: Vec<String> = variants.iter().map(AnalyzeRequest::cache_key).collect();
        assert!(keys.iter().all(|v| *v != k));
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), variants.len());
    }
}
