//! The crate's error type, [`LlmError`]: bad configuration and unusable
//! chat-completions responses. Messages never contain the API key.

/// Why the configuration or a response could not be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LlmError {
    /// A Spin variable has an invalid value. The message names the variable
    /// and never repeats its value.
    #[error("Spin variable `{name}` {reason}")]
    Config { name: &'static str, reason: String },
    /// The response body is not JSON.
    #[error("LLM response body is not valid JSON: {0}")]
    InvalidJson(String),
    /// The server answered with an error object (`{"error": …}`); this is its
    /// message. Pass it through [`crate::redact`] before logging.
    #[error("LLM server returned an error: {0}")]
    Server(String),
    /// The body has no `choices[0].message.content` string.
    #[error("LLM response has no choices[0].message.content")]
    MissingContent,
    /// The content is empty (e.g. `finish_reason` "length" when a reasoning
    /// model spent every token thinking).
    #[error(
        "LLM response content is empty (finish_reason: {})",
        finish_reason.as_deref().unwrap_or("none")
    )]
    EmptyContent { finish_reason: Option<String> },
    /// The content has text but no post could be extracted from it.
    #[error("LLM response content contains no posts")]
    NoPosts,
}
