//! The chat-completions request body ([`chat_request_body`]).

use serde_json::{Map, Number, Value, json};

use crate::LlmConfig;

/// The JSON body of a chat-completions request:
/// `{"model", "messages": [{"role", "content"}…], "max_tokens", "temperature"[, "seed"]}`.
///
/// `n` is never sent (one completion; the posts come back as one JSON array)
/// and neither is `stream`. `temperature` is clamped to 0..=2 (a non-finite
/// value becomes 1) and written with its shortest decimal form (0.7, not
/// 0.699999988…).
pub fn chat_request_body(
    config: &LlmConfig,
    messages: &[(String, String)],
    max_tokens: u32,
    temperature: f32,
    seed: Option<u64>,
) -> Vec<u8> {
    let messages: Vec<Value> = messages
        .iter()
        .map(|(role, content)| json!({ "role": role, "content": content }))
        .collect();
    let mut body = Map::new();
    body.insert("model".into(), config.model.clone().into());
    body.insert("messages".into(), messages.into());
    body.insert("max_tokens".into(), max_tokens.into());
    body.insert("temperature".into(), temperature_number(temperature));
    if let Some(seed) = seed {
        body.insert("seed".into(), seed.into());
    }
    serde_json::to_vec(&Value::Object(body)).unwrap_or_default()
}

fn temperature_number(temperature: f32) -> Value {
    let t = if temperature.is_finite() {
        temperature.clamp(0.0, 2.0)
    } else {
        1.0
    };
    // f32 → shortest decimal string → f64, so 0.7f32 is sent as 0.7.
    let t: f64 = t.to_string().parse().unwrap_or(1.0);
    Number::from_f64(t).map_or(Value::from(1), Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> LlmConfig {
        LlmConfig {
            base_url: "http://h/v1".to_string(),
            model: "llama3.2:3b".to_string(),
            api_key: Some("sk-x".to_string()),
            timeout_ms: 8000,
            max_retries: 2,
            cost_per_1k_tokens_usd: 0.0,
            budget_per_hour_usd: 1.0,
            deadline_ms: 20_000,
        }
    }

    fn body(temperature: f32, seed: Option<u64>) -> Value {
        let messages = vec![
            ("system".to_string(), "You write posts.".to_string()),
            (
                "user".to_string(),
                "Write 3 posts about \"bread\"\n".to_string(),
            ),
        ];
        serde_json::from_slice(&chat_request_body(
            &config(),
            &messages,
            600,
            temperature,
            seed,
        ))
        .unwrap()
    }

    #[test]
    fn body_shape() {
        let v = body(0.7, Some(42));
        assert_eq!(
            v,
            json!({
                "model": "llama3.2:3b",
                "messages": [
                    {"role": "system", "content": "You write posts."},
                    {"role": "user", "content": "Write 3 posts about \"bread\"\n"}
                ],
                "max_tokens": 600,
                "temperature": 0.7,
                "seed": 42
            })
        );
        let obj = v.as_object().unwrap();
        assert!(!obj.contains_key("n"));
        assert!(!obj.contains_key("stream"));
        assert!(!obj.contains_key("api_key"));
    }

    #[test]
    fn seed_omitted_when_none() {
        let v = body(1.0, None);
        assert!(!v.as_object().unwrap().contains_key("seed"));
        assert_eq!(v["temperature"], json!(1.0));
    }

    #[test]
    fn temperature_clamped() {
        assert_eq!(body(5.0, None)["temperature"], json!(2.0));
        assert_eq!(body(-1.0, None)["temperature"], json!(0.0));
        assert_eq!(body(f32::NAN, None)["temperature"], json!(1.0));
    }

    #[test]
    fn key_never_in_body() {
        let raw = chat_request_body(&config(), &[], 1, 0.0, None);
        assert!(!String::from_utf8(raw).unwrap().contains("sk-x"));
    }
}
