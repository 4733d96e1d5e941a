//! LLM endpoint configuration: parsing the `llm_*` Spin variables into an
//! [`LlmConfig`], the chat-completions URL, request headers and the cost
//! estimate. `Debug` redacts the API key.

use std::fmt;
use std::ops::RangeInclusive;
use std::str::FromStr;

use crate::LlmError;

/// Model used when `llm_model` is unset.
pub const DEFAULT_MODEL: &str = "gpt-4o-mini";
/// Per-attempt timeout when `llm_timeout_ms` is unset.
pub const DEFAULT_TIMEOUT_MS: u64 = 8000;
/// Accepted values of `llm_timeout_ms`.
pub const TIMEOUT_MS_RANGE: RangeInclusive<u64> = 100..=60_000;
/// Retries (after the first attempt) when `llm_max_retries` is unset.
pub const DEFAULT_MAX_RETRIES: u32 = 2;
/// Accepted values of `llm_max_retries`.
pub const MAX_RETRIES_RANGE: RangeInclusive<u32> = 0..=5;
/// Price in USD per 1000 tokens when `llm_cost_per_thousand_tokens` is unset.
pub const DEFAULT_COST_PER_1K_TOKENS_USD: f64 = 0.0006;
/// Server-side spend cap per hour (USD) when `llm_budget_per_hour` is unset.
pub const DEFAULT_BUDGET_PER_HOUR_USD: f64 = 1.0;
/// Time the whole LLM call (every attempt and backoff) may take when
/// `llm_deadline_ms` is unset: well inside the host's default 30 s request
/// deadline, leaving time to score, predict and answer.
pub const DEFAULT_DEADLINE_MS: u64 = 20_000;
/// Accepted values of `llm_deadline_ms`.
pub const DEADLINE_MS_RANGE: RangeInclusive<u64> = 100..=600_000;
/// Rough characters per token used by [`LlmConfig::estimate_cost_usd`].
pub const CHARS_PER_TOKEN: usize = 4;

const CHAT_COMPLETIONS_PATH: &str = "/chat/completions";

/// Where and how to call an OpenAI-compatible chat-completions endpoint.
///
/// `base_url` is the API root, e.g. `https://api.openai.com/v1`,
/// `http://127.0.0.1:11434/v1` (Ollama), `http://127.0.0.1:8080/v1`
/// (llama.cpp, vLLM) or, for Azure OpenAI,
/// `https://RES.openai.azure.com/openai/v1` (or a deployment URL with an
/// `?api-version=…` query). A full URL already ending in `/chat/completions`
/// is used as is.
#[derive(Clone, PartialEq)]
pub struct LlmConfig {
    pub base_url: String,
    pub model: String,
    pub api_key: Option<String>,
    /// Per attempt, in milliseconds.
    pub timeout_ms: u64,
    /// Retries after the first attempt.
    pub max_retries: u32,
    pub cost_per_1k_tokens_usd: f64,
    /// The most the server spends on the LLM per clock hour, USD, whatever
    /// the clients ask (`budget`, `seed`, `generator: "llm"`); 0 = never call.
    pub budget_per_hour_usd: f64,
    /// The whole call, every attempt and backoff included, in milliseconds;
    /// attempts that would run past it are cut short or not made
    /// ([`crate::AttemptPlan`]).
    pub deadline_ms: u64,
}

impl fmt::Debug for LlmConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LlmConfig")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .field("timeout_ms", &self.timeout_ms)
            .field("max_retries", &self.max_retries)
            .field("cost_per_1k_tokens_usd", &self.cost_per_1k_tokens_usd)
            .field("budget_per_hour_usd", &self.budget_per_hour_usd)
            .field("deadline_ms", &self.deadline_ms)
            .finish()
    }
}

impl LlmConfig {
    /// Reads the configuration from Spin variable values (`None` or an
    /// empty/blank string = unset):
    ///
    /// - `llm_base_url`: required to enable the LLM; `http://` or `https://`;
    ///   trailing slashes are removed. Unset → `Ok(None)`.
    /// - `llm_model`: default [`DEFAULT_MODEL`].
    /// - `llm_api_key`: secret, optional (Ollama and most local servers need none).
    /// - `llm_timeout_ms`: default 8000, 100..=60000.
    /// - `llm_max_retries`: default 2, 0..=5.
    /// - `llm_cost_per_thousand_tokens`: USD, default 0.0006, finite and ≥ 0.
    /// - `llm_budget_per_hour`: USD, default 1, finite and ≥ 0.
    /// - `llm_deadline_ms`: default 20000, 100..=600000.
    ///
    /// Errors name the variable and never include its value.
    pub fn from_values(
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<LlmConfig>, LlmError> {
        let value = |name: &str| {
            get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let Some(base_url) = value("llm_base_url") else {
            return Ok(None);
        };
        let base_url = parse_base_url(&base_url)?;
        let model = value("llm_model").unwrap_or_else(|| DEFAULT_MODEL.to_string());
        let api_key = value("llm_api_key");
        let timeout_ms = parse_in_range(
            value("llm_timeout_ms"),
            "llm_timeout_ms",
            DEFAULT_TIMEOUT_MS,
            TIMEOUT_MS_RANGE,
        )?;
        let max_retries = parse_in_range(
            value("llm_max_retries"),
            "llm_max_retries",
            DEFAULT_MAX_RETRIES,
            MAX_RETRIES_RANGE,
        )?;
        let cost_per_1k_tokens_usd = parse_usd(
            value("llm_cost_per_thousand_tokens"),
            "llm_cost_per_thousand_tokens",
            DEFAULT_COST_PER_1K_TOKENS_USD,
            "per 1000 tokens",
        )?;
        let budget_per_hour_usd = parse_usd(
            value("llm_budget_per_hour"),
            "llm_budget_per_hour",
            DEFAULT_BUDGET_PER_HOUR_USD,
            "per hour",
        )?;
        let deadline_ms = parse_in_range(
            value("llm_deadline_ms"),
            "llm_deadline_ms",
            DEFAULT_DEADLINE_MS,
            DEADLINE_MS_RANGE,
        )?;
        Ok(Some(LlmConfig {
            base_url,
            model,
            api_key,
            timeout_ms,
            max_retries,
            cost_per_1k_tokens_usd,
            budget_per_hour_usd,
            deadline_ms,
        }))
    }

    /// The chat-completions URL: `base_url` + `/chat/completions`, unless
    /// `base_url` already ends with it. A query string (Azure's
    /// `?api-version=…`) stays at the end.
    pub fn endpoint(&self) -> String {
        let (path, query) = split_query(&self.base_url);
        let path = path.trim_end_matches('/');
        let mut url = if path.ends_with(CHAT_COMPLETIONS_PATH) {
            path.to_string()
        } else {
            format!("{path}{CHAT_COMPLETIONS_PATH}")
        };
        if let Some(query) = query {
            url.push('?');
            url.push_str(query);
        }
        url
    }

    /// Request headers (lowercase names): `content-type: application/json`
    /// and, when a key is set, `authorization: Bearer <key>` — or
    /// `api-key: <key>` for Azure OpenAI hosts (`*.openai.azure.com`,
    /// `*.cognitiveservices.azure.com`), which expect their keys there.
    pub fn headers(&self) -> Vec<(String, String)> {
        let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
        if let Some(key) = &self.api_key {
            if self.is_azure() {
                headers.push(("api-key".to_string(), key.clone()));
            } else {
                headers.push(("authorization".to_string(), format!("Bearer {key}")));
            }
        }
        headers
    }

    /// Estimated cost in USD of one request whose prompt has `prompt_chars`
    /// characters and which asks for `n_posts` posts of at most
    /// `max_tokens_per_post` tokens each (~[`CHARS_PER_TOKEN`] characters per
    /// token; the completion is counted at its maximum).
    pub fn estimate_cost_usd(
        &self,
        prompt_chars: usize,
        n_posts: usize,
        max_tokens_per_post: usize,
    ) -> f64 {
        let tokens = prompt_chars
            .div_ceil(CHARS_PER_TOKEN)
            .saturating_add(n_posts.saturating_mul(max_tokens_per_post));
        tokens as f64 / 1000.0 * self.cost_per_1k_tokens_usd
    }

    fn is_azure(&self) -> bool {
        let host = host_of(&self.base_url).to_ascii_lowercase();
        host.ends_with(".openai.azure.com") || host.ends_with(".cognitiveservices.azure.com")
    }
}

fn split_query(url: &str) -> (&str, Option<&str>) {
    match url.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (url, None),
    }
}

/// Host (without port or user info) of an `http(s)://` URL.
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    authority.split(':').next().unwrap_or("")
}

fn parse_base_url(raw: &str) -> Result<String, LlmError> {
    let err = |reason: &str| LlmError::Config {
        name: "llm_base_url",
        reason: reason.to_string(),
    };
    let lower = raw.to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return Err(err(
            "must be an http:// or https:// URL such as https://api.openai.com/v1",
        ));
    }
    if raw.chars().any(char::is_whitespace) {
        return Err(err("must not contain whitespace"));
    }
    if host_of(raw).is_empty() {
        return Err(err("must name a host, e.g. http://127.0.0.1:11434/v1"));
    }
    let (path, query) = split_query(raw);
    let path = path.trim_end_matches('/');
    Ok(match query {
        Some(query) => format!("{path}?{query}"),
        None => path.to_string(),
    })
}

/// A non-negative, finite amount of USD; `None` → `default`.
fn parse_usd(
    raw: Option<String>,
    name: &'static str,
    default: f64,
    per: &str,
) -> Result<f64, LlmError> {
    let Some(raw) = raw else {
        return Ok(default);
    };
    raw.parse::<f64>()
        .ok()
        .filter(|c| c.is_finite() && *c >= 0.0)
        .ok_or_else(|| LlmError::Config {
            name,
            reason: format!("must be a non-negative number of USD {per}"),
        })
}

fn parse_in_range<T>(
    raw: Option<String>,
    name: &'static str,
    default: T,
    range: RangeInclusive<T>,
) -> Result<T, LlmError>
where
    T: FromStr + PartialOrd + fmt::Display,
{
    let Some(raw) = raw else {
        return Ok(default);
    };
    raw.parse::<T>()
        .ok()
        .filter(|v| range.contains(v))
        .ok_or_else(|| LlmError::Config {
            name,
            reason: format!(
                "must be an integer from {} to {}",
                range.start(),
                range.end()
            ),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const KEY: &str = "sk-SECRET-9f8e7d";

    fn from(pairs: &[(&str, &str)]) -> Result<Option<LlmConfig>, LlmError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        LlmConfig::from_values(|name| map.get(name).cloned())
    }

    fn config(base_url: &str, api_key: Option<&str>) -> LlmConfig {
        LlmConfig {
            base_url: base_url.to_string(),
            model: "m".to_string(),
            api_key: api_key.map(str::to_string),
            timeout_ms: 8000,
            max_retries: 2,
            cost_per_1k_tokens_usd: 0.001,
            budget_per_hour_usd: 1.0,
            deadline_ms: 20_000,
        }
    }

    #[test]
    fn unset_or_blank_base_url_disables() {
        assert_eq!(from(&[]).unwrap(), None);
        assert_eq!(from(&[("llm_base_url", "  ")]).unwrap(), None);
        assert_eq!(
            from(&[("llm_base_url", ""), ("llm_api_key", KEY)]).unwrap(),
            None
        );
    }

    #[test]
    fn defaults() {
        let c = from(&[("llm_base_url", "http://127.0.0.1:11434/v1/")])
            .unwrap()
            .unwrap();
        assert_eq!(c.base_url, "http://127.0.0.1:11434/v1");
        assert_eq!(c.model, "gpt-4o-mini");
        assert_eq!(c.api_key, None);
        assert_eq!(c.timeout_ms, 8000);
        assert_eq!(c.max_retries, 2);
        assert_eq!(c.cost_per_1k_tokens_usd, 0.0006);
        assert_eq!(c.budget_per_hour_usd, 1.0);
        assert_eq!(c.deadline_ms, 20_000);
    }

    #[test]
    fn spend_cap_and_deadline_are_read_and_checked() {
        let c = from(&[
            ("llm_base_url", "http://127.0.0.1:1/v1"),
            ("llm_budget_per_hour", "0.25"),
            ("llm_deadline_ms", "2500"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(c.budget_per_hour_usd, 0.25);
        assert_eq!(c.deadline_ms, 2500);
        let bad = |name: &str, value: &str| {
            from(&[("llm_base_url", "http://127.0.0.1:1/v1"), (name, value)])
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            bad("llm_budget_per_hour", "-1"),
            "Spin variable `llm_budget_per_hour` must be a non-negative number of USD per hour"
        );
        assert_eq!(
            bad("llm_deadline_ms", "50"),
            "Spin variable `llm_deadline_ms` must be an integer from 100 to 600000"
        );
    }

    #[test]
    fn all_values_set_and_blank_optionals_use_defaults() {
        let c = from(&[
            ("llm_base_url", "https://api.openai.com/v1"),
            ("llm_model", "gpt-4.1-nano"),
            ("llm_api_key", KEY),
            ("llm_timeout_ms", "100"),
            ("llm_max_retries", "5"),
            ("llm_cost_per_thousand_tokens", "0"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(c.model, "gpt-4.1-nano");
        assert_eq!(c.api_key.as_deref(), Some(KEY));
        assert_eq!((c.timeout_ms, c.max_retries), (100, 5));
        assert_eq!(c.cost_per_1k_tokens_usd, 0.0);

        let c = from(&[
            ("llm_base_url", "https://x/v1"),
            ("llm_model", ""),
            ("llm_api_key", " "),
            ("llm_timeout_ms", ""),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(c.model, DEFAULT_MODEL);
        assert_eq!(c.api_key, None);
        assert_eq!(c.timeout_ms, DEFAULT_TIMEOUT_MS);
    }

    fn error_for(pairs: &[(&str, &str)]) -> LlmError {
        let mut all = vec![("llm_api_key", KEY)];
        all.extend_from_slice(pairs);
        let err = from(&all).unwrap_err();
        assert!(!err.to_string().contains(KEY));
        assert!(!format!("{err:?}").contains(KEY));
        err
    }

    fn assert_names(err: &LlmError, var: &str) {
        match err {
            LlmError::Config { name, .. } => assert_eq!(*name, var),
            other => panic!("expected a config error, got {other:?}"),
        }
        assert!(err.to_string().contains(var), "{err}");
    }

    #[test]
    fn invalid_values_name_the_variable() {
        for bad in [
            "ftp://x",
            "api.openai.com/v1",
            "https://",
            "http:///v1",
            "http://a b",
        ] {
            assert_names(&error_for(&[("llm_base_url", bad)]), "llm_base_url");
        }
        let ok = ("llm_base_url", "http://localhost:8080/v1");
        for bad in ["99", "60001", "abc", "-1", "1.5"] {
            assert_names(&error_for(&[ok, ("llm_timeout_ms", bad)]), "llm_timeout_ms");
        }
        for bad in ["6", "-1", "x"] {
            assert_names(
                &error_for(&[ok, ("llm_max_retries", bad)]),
                "llm_max_retries",
            );
        }
        for bad in ["-0.1", "NaN", "inf", "cheap"] {
            assert_names(
                &error_for(&[ok, ("llm_cost_per_thousand_tokens", bad)]),
                "llm_cost_per_thousand_tokens",
            );
        }
    }

    #[test]
    fn key_pasted_into_another_variable_is_not_echoed() {
        let err = from(&[("llm_base_url", "http://h/v1"), ("llm_timeout_ms", KEY)]).unwrap_err();
        assert!(!err.to_string().contains(KEY));
        let err = from(&[("llm_base_url", KEY)]).unwrap_err();
        assert!(!err.to_string().contains(KEY));
    }

    #[test]
    fn debug_redacts_the_key() {
        let c = config("https://api.openai.com/v1", Some(KEY));
        let debug = format!("{c:?}");
        assert!(!debug.contains(KEY), "{debug}");
        assert!(debug.contains("***"), "{debug}");
        assert!(debug.contains("api.openai.com"), "{debug}");
        assert!(format!("{:?}", config("http://h", None)).contains("api_key: None"));
    }

    #[test]
    fn endpoint_joining() {
        let cases = [
            (
                "https://api.openai.com/v1",
                "https://api.openai.com/v1/chat/completions",
            ),
            (
                "https://api.openai.com/v1/",
                "https://api.openai.com/v1/chat/completions",
            ),
            (
                "http://127.0.0.1:11434/v1",
                "http://127.0.0.1:11434/v1/chat/completions",
            ),
            (
                "http://h:8000/v1/chat/completions",
                "http://h:8000/v1/chat/completions",
            ),
            (
                "http://h:8000/v1/chat/completions/",
                "http://h:8000/v1/chat/completions",
            ),
            ("http://h:8080", "http://h:8080/chat/completions"),
            (
                "https://r.openai.azure.com/openai/deployments/d?api-version=2024-10-21",
                "https://r.openai.azure.com/openai/deployments/d/chat/completions?api-version=2024-10-21",
            ),
        ];
        for (base, want) in cases {
            assert_eq!(config(base, None).endpoint(), want, "{base}");
        }
        let parsed = from(&[("llm_base_url", "http://h/v1//?api-version=1")])
            .unwrap()
            .unwrap();
        assert_eq!(
            parsed.endpoint(),
            "http://h/v1/chat/completions?api-version=1"
        );
    }

    #[test]
    fn headers_with_and_without_key() {
        let ct = ("content-type".to_string(), "application/json".to_string());
        assert_eq!(config("http://h/v1", None).headers(), vec![ct.clone()]);
        assert_eq!(
            config("https://api.openai.com/v1", Some("k1")).headers(),
            vec![
                ct.clone(),
                ("authorization".to_string(), "Bearer k1".to_string())
            ]
        );
        assert_eq!(
            config("https://res.openai.azure.com/openai/v1", Some("k2")).headers(),
            vec![ct, ("api-key".to_string(), "k2".to_string())]
        );
    }

    #[test]
    fn host_extraction() {
        assert_eq!(
            host_of("https://u:p@Res.openai.azure.com:443/x?y"),
            "Res.openai.azure.com"
        );
        assert_eq!(host_of("http://127.0.0.1:11434/v1"), "127.0.0.1");
        assert_eq!(host_of("http://"), "");
    }

    #[test]
    fn cost_estimate() {
        let c = config("http://h", None); // 0.001 USD / 1k tokens
        // 4000 chars = 1000 tokens, + 3 × 200 = 1600 tokens.
        assert!((c.estimate_cost_usd(4000, 3, 200) - 0.0016).abs() < 1e-12);
        // Partial tokens round up.
        assert!((c.estimate_cost_usd(1, 0, 0) - 0.000001).abs() < 1e-15);
        assert_eq!(c.estimate_cost_usd(0, 0, 0), 0.0);
    }
}
