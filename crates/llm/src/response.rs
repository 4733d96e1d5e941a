//! Parsing a chat-completions response body into posts
//! ([`parse_chat_response`]): error objects, `choices[0].message.content`,
//! JSON-array extraction (fenced, with prose around, raw newlines inside
//! strings) and the plain-text fallbacks (numbered/bulleted list, paragraphs).

use std::collections::HashSet;

use serde_json::Value;

use crate::LlmError;

/// Posts extracted from one response.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChatOutput {
    /// Trimmed, non-empty, deduplicated, in the model's order.
    pub posts: Vec<String>,
    /// `usage.total_tokens` (or prompt + completion tokens) when reported.
    pub total_tokens: Option<u64>,
}

/// `[` positions tried when looking for a JSON array inside the content.
const MAX_ARRAY_CANDIDATES: usize = 64;
/// Object fields that may hold a post's text in an array of objects.
const TEXT_FIELDS: [&str; 4] = ["text", "post", "content", "message"];

/// Parses a chat-completions response body.
///
/// - `{"error": {"message": …}}` or `{"error": "…"}` (OpenAI, Ollama, vLLM,
///   llama.cpp) → [`LlmError::Server`] with that message.
/// - `choices[0].message.content` (or legacy `choices[0].text`) must be a
///   non-empty string; a leading `<think>…</think>` block is dropped.
/// - The content should be a JSON array of strings (objects with a `text`,
///   `post`, `content` or `message` string and `{"posts": […]}` are accepted
///   too), possibly inside a ```` ```json ```` fence or with prose around it.
/// - Otherwise it falls back to a numbered or bulleted list (each item is a
///   post; text before the first item is dropped), then to blank-line
///   separated paragraphs (a first paragraph ending with `:` is dropped).
pub fn parse_chat_response(body: &[u8]) -> Result<ChatOutput, LlmError> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| LlmError::InvalidJson(e.to_string()))?;
    if let Some(message) = server_error(&v) {
        return Err(LlmError::Server(message));
    }
    let choice = v.get("choices").and_then(|c| c.get(0));
    let content = match choice.and_then(|c| c.pointer("/message/content").or_else(|| c.get("text")))
    {
        Some(Value::String(s)) => s.as_str(),
        // `null` content: refused, filtered, or all tokens spent reasoning.
        Some(Value::Null) => "",
        _ => return Err(LlmError::MissingContent),
    };
    let content = strip_think(content).trim();
    if content.is_empty() {
        let finish_reason = choice
            .and_then(|c| c.get("finish_reason"))
            .and_then(Value::as_str)
            .map(str::to_string);
        return Err(LlmError::EmptyContent { finish_reason });
    }
    let raw_posts = posts_from_json(content).unwrap_or_else(|| posts_from_text(content));
    let posts = clean(raw_posts);
    if posts.is_empty() {
        return Err(LlmError::NoPosts);
    }
    Ok(ChatOutput {
        posts,
        total_tokens: total_tokens(&v),
    })
}

fn server_error(v: &Value) -> Option<String> {
    let error = v.get("error").filter(|e| !e.is_null())?;
    Some(match error {
        Value::String(s) => s.clone(),
        Value::Object(o) => o
            .get("message")
            .and_then(Value::as_str)
            .map_or_else(|| error.to_string(), str::to_string),
        other => other.to_string(),
    })
}

fn total_tokens(v: &Value) -> Option<u64> {
    let usage = v.get("usage")?;
    usage
        .get("total_tokens")
        .and_then(Value::as_u64)
        .or_else(|| {
            let prompt = usage.get("prompt_tokens").and_then(Value::as_u64)?;
            let completion = usage.get("completion_tokens").and_then(Value::as_u64)?;
            Some(prompt.saturating_add(completion))
        })
}

/// Drops a reasoning model's `<think>…</think>` block (DeepSeek-R1, Qwen3
/// via Ollama/vLLM). An unclosed block (truncated) keeps what precedes it.
fn strip_think(content: &str) -> &str {
    if let Some((_, after)) = content.rsplit_once("</think>") {
        after
    } else if let Some((before, _)) = content.split_once("<think>") {
        before
    } else {
        content
    }
}

/// The whole content as JSON, else the first JSON value starting at a `[`
/// that yields posts (trailing prose and fences are ignored by reading one
/// value only). Each candidate is retried with raw newlines/tabs inside
/// strings escaped, a common small-model mistake.
fn posts_from_json(content: &str) -> Option<Vec<String>> {
    if let Ok(v) = serde_json::from_str::<Value>(content) {
        // Valid JSON as a whole: no text fallback ("[]" means no posts).
        return Some(match v {
            Value::String(s) => vec![s],
            v => posts_from_value(&v).unwrap_or_default(),
        });
    }
    content
        .match_indices('[')
        .take(MAX_ARRAY_CANDIDATES)
        .find_map(|(i, _)| {
            let slice = &content[i..];
            first_value(slice)
                .or_else(|| first_value(&escape_raw_controls(slice)))
                .and_then(|v| posts_from_value(&v))
        })
}

fn first_value(text: &str) -> Option<Value> {
    serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .next()?
        .ok()
}

fn posts_from_value(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::Array(items) => {
            let posts: Vec<String> = items.iter().filter_map(post_text).collect();
            (!posts.is_empty()).then_some(posts)
        }
        Value::Object(o) => o.get("posts").and_then(posts_from_value),
        _ => None,
    }
}

fn post_text(item: &Value) -> Option<String> {
    match item {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => TEXT_FIELDS
            .iter()
            .find_map(|f| o.get(*f).and_then(Value::as_str))
            .map(str::to_string),
        _ => None,
    }
}

/// Escapes raw `\n`, `\r` and `\t` inside JSON strings (tracking quotes and
/// backslash escapes from the start of `text`, which is outside a string).
fn escape_raw_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let (mut in_string, mut escaped) = (false, false);
    for c in text.chars() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                '\n' => {
                    out.push_str("\\n");
                    continue;
                }
                '\r' => {
                    out.push_str("\\r");
                    continue;
                }
                '\t' => {
                    out.push_str("\\t");
                    continue;
                }
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
        }
        out.push(c);
    }
    out
}

fn posts_from_text(content: &str) -> Vec<String> {
    let lines: Vec<&str> = content
        .lines()
        .filter(|l| !l.trim_start().starts_with("```"))
        .collect();
    let list_items = lines.iter().filter(|l| list_item(l).is_some()).count();
    if list_items >= 2 {
        posts_from_list(&lines)
    } else {
        posts_from_paragraphs(&lines)
    }
}

/// Each list item is a post; lines right after an item continue it; a blank
/// line ends it (text after that, like "Want more?", is dropped).
fn posts_from_list(lines: &[&str]) -> Vec<String> {
    let mut posts: Vec<String> = Vec::new();
    let mut open = false;
    for line in lines {
        if let Some(rest) = list_item(line) {
            posts.push(rest.trim().to_string());
            open = true;
        } else if line.trim().is_empty() {
            // A marker alone on its line ("1.") keeps its item open.
            open = open && posts.last().is_some_and(String::is_empty);
        } else if open && let Some(post) = posts.last_mut() {
            if !post.is_empty() {
                post.push('\n');
            }
            post.push_str(line.trim());
        }
    }
    posts
}

fn posts_from_paragraphs(lines: &[&str]) -> Vec<String> {
    let mut paragraphs: Vec<String> = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in lines.iter().chain([&""]) {
        if line.trim().is_empty() {
            if !current.is_empty() {
                paragraphs.push(current.join("\n"));
                current.clear();
            }
        } else {
            current.push(line.trim());
        }
    }
    if paragraphs.len() > 1 && paragraphs[0].ends_with(':') {
        paragraphs.remove(0);
    }
    paragraphs
}

/// The text after a list marker: `1.`, `2)`, `3:` (1–3 digits) or `-`, `*`,
/// `•` followed by whitespace (or nothing). "1.5 million" is not an item.
fn list_item(line: &str) -> Option<&str> {
    let t = line.trim_start();
    for bullet in ["- ", "* ", "• "] {
        if let Some(rest) = t.strip_prefix(bullet) {
            return Some(rest);
        }
    }
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    if !(1..=3).contains(&digits) {
        return None;
    }
    let rest = t[digits..].strip_prefix(['.', ')', ':'])?;
    (rest.is_empty() || rest.starts_with(char::is_whitespace)).then_some(rest)
}

/// Trims, strips one pair of surrounding quotes, drops empties and duplicates.
fn clean(raw: Vec<String>) -> Vec<String> {
    let mut seen = HashSet::new();
    raw.into_iter()
        .map(|p| unquote(p.trim()).trim().to_string())
        .filter(|p| !p.is_empty() && seen.insert(p.clone()))
        .collect()
}

fn unquote(s: &str) -> &str {
    for (open, close) in [('"', '"'), ('“', '”')] {
        if s.chars().count() >= 2
            && let Some(inner) = s.strip_prefix(open).and_then(|r| r.strip_suffix(close))
            && !inner.contains(open)
        {
            return inner;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn response(content: &str) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop"
            }],
            "usage": {"prompt_tokens": 50, "completion_tokens": 70, "total_tokens": 120}
        }))
        .unwrap()
    }

    fn posts(content: &str) -> Vec<String> {
        parse_chat_response(&response(content)).unwrap().posts
    }

    #[test]
    fn plain_array_with_usage() {
        let out = parse_chat_response(&response(r#"["First post", "Second post"]"#)).unwrap();
        assert_eq!(out.posts, ["First post", "Second post"]);
        assert_eq!(out.total_tokens, Some(120));
    }

    #[test]
    fn trims_drops_empty_and_dedups() {
        assert_eq!(posts(r#"["  a ", "", "b", "a", "   "]"#), ["a", "b"]);
    }

    #[test]
    fn fenced_array() {
        let content = "```json\n[\n  \"Fresh bread at 7am!\",\n  \"Sourdough Saturday\"\n]\n```";
        assert_eq!(
            posts(content),
            ["Fresh bread at 7am!", "Sourdough Saturday"]
        );
    }

    #[test]
    fn prose_around_array() {
        let content = "Sure! Here are your posts [as requested]:\n\n[\"One\", \"Two [beta]\"]\n\nLet me know if you want changes.";
        assert_eq!(posts(content), ["One", "Two [beta]"]);
    }

    #[test]
    fn raw_newlines_inside_strings() {
        let content = "[\"Line one\nline two\", \"Other\"]";
        assert_eq!(posts(content), ["Line one\nline two", "Other"]);
    }

    #[test]
    fn objects_and_posts_wrapper() {
        assert_eq!(posts(r#"{"posts": ["a", "b"]}"#), ["a", "b"]);
        assert_eq!(
            posts(r#"[{"text": "a"}, {"post": "b"}, {"n": 1}]"#),
            ["a", "b"]
        );
    }

    #[test]
    fn numbered_list_fallback() {
        let content = "Here are 3 posts:\n\n1. Fresh bread daily.\n2) Visit us on \"Main St\".\n3. Sale: 1.5 million loaves\nsold so far!\n\nWant more?";
        assert_eq!(
            posts(content),
            [
                "Fresh bread daily.",
                "Visit us on \"Main St\".",
                "Sale: 1.5 million loaves\nsold so far!"
            ]
        );
    }

    #[test]
    fn bulleted_list_with_quotes_fallback() {
        let content = "- \"Quoted post one\"\n- “Curly post two”\n* third";
        assert_eq!(
            posts(content),
            ["Quoted post one", "Curly post two", "third"]
        );
    }

    #[test]
    fn marker_alone_on_its_line() {
        assert_eq!(posts("1.\nAlpha\n2.\n\nBeta"), ["Alpha", "Beta"]);
    }

    #[test]
    fn paragraph_fallback() {
        let content = "Here you go:\n\nFirst paragraph post.\nStill first.\n\n\nSecond post.";
        assert_eq!(
            posts(content),
            ["First paragraph post.\nStill first.", "Second post."]
        );
        assert_eq!(posts("Just one post."), ["Just one post."]);
    }

    #[test]
    fn think_block_is_dropped() {
        assert_eq!(
            posts("<think>Let me plan [\"x\"]</think>\n[\"Real\"]"),
            ["Real"]
        );
    }

    #[test]
    fn empty_content_is_an_error() {
        assert_eq!(
            parse_chat_response(&response("  \n ")),
            Err(LlmError::EmptyContent {
                finish_reason: Some("stop".to_string())
            })
        );
        assert_eq!(
            parse_chat_response(&response("```\n```")),
            Err(LlmError::NoPosts)
        );
        assert_eq!(parse_chat_response(&response("[]")), Err(LlmError::NoPosts));
        assert_eq!(
            parse_chat_response(&response("{\"posts\": []}")),
            Err(LlmError::NoPosts)
        );
        assert_eq!(posts("\"a lone JSON string\""), ["a lone JSON string"]);
    }

    #[test]
    fn missing_content_is_an_error() {
        let null = json!({"choices": [{"message": {"content": null}, "finish_reason": "length"}]});
        assert_eq!(
            parse_chat_response(&serde_json::to_vec(&null).unwrap()),
            Err(LlmError::EmptyContent {
                finish_reason: Some("length".to_string())
            })
        );
        for body in [
            json!({"choices": []}),
            json!({"choices": [{"message": {"role": "assistant"}}]}),
            json!({"choices": [{"message": {"content": 42}}]}),
            json!({}),
        ] {
            let body = serde_json::to_vec(&body).unwrap();
            assert_eq!(parse_chat_response(&body), Err(LlmError::MissingContent));
        }
    }

    #[test]
    fn legacy_text_field() {
        let body = serde_json::to_vec(&json!({"choices": [{"text": "[\"a\"]"}]})).unwrap();
        let out = parse_chat_response(&body).unwrap();
        assert_eq!(out.posts, ["a"]);
        assert_eq!(out.total_tokens, None);
    }

    #[test]
    fn usage_without_total() {
        let body = serde_json::to_vec(&json!({
            "choices": [{"message": {"content": "[\"a\"]"}}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 4}
        }))
        .unwrap();
        assert_eq!(parse_chat_response(&body).unwrap().total_tokens, Some(7));
    }

    #[test]
    fn invalid_json_is_an_error() {
        assert!(matches!(
            parse_chat_response(b"<html>502</html>"),
            Err(LlmError::InvalidJson(_))
        ));
        assert!(matches!(
            parse_chat_response(b""),
            Err(LlmError::InvalidJson(_))
        ));
    }

    #[test]
    fn server_error_object() {
        let openai = br#"{"error": {"message": "Rate limit reached for gpt-4o-mini", "type": "requests", "code": "rate_limit_exceeded"}}"#;
        assert_eq!(
            parse_chat_response(openai),
            Err(LlmError::Server(
                "Rate limit reached for gpt-4o-mini".to_string()
            ))
        );
        let ollama = br#"{"error": "model \"llama9\" not found, try pulling it first"}"#;
        let err = parse_chat_response(ollama).unwrap_err();
        assert_eq!(
            err,
            LlmError::Server("model \"llama9\" not found, try pulling it first".into())
        );
        assert!(err.to_string().contains("not found"));
        let odd = br#"{"error": {"code": 500}}"#;
        assert_eq!(
            parse_chat_response(odd),
            Err(LlmError::Server(r#"{"code":500}"#.into()))
        );
    }

    #[test]
    fn null_error_field_is_ignored() {
        let body = serde_json::to_vec(&json!({
            "error": null,
            "choices": [{"message": {"content": "[\"ok\"]"}}]
        }))
        .unwrap();
        assert_eq!(parse_chat_response(&body).unwrap().posts, ["ok"]);
    }

    #[test]
    fn list_markers() {
        assert_eq!(list_item("  12. x"), Some(" x"));
        assert_eq!(list_item("1)"), Some(""));
        assert_eq!(list_item("1.5 million"), None);
        assert_eq!(list_item("2024: a year"), None);
        assert_eq!(list_item("-dash"), None);
        assert_eq!(list_item("• dot"), Some("dot"));
    }
}
