//! Reading fields of a JSON request body into typed values with the
//! client-facing errors every step uses: `missing_field` and `invalid_field`
//! (422) whose messages name the field, what it must be, and what was sent.
//!
//! Conventions shared by all request parsers: `null` counts as absent,
//! unknown fields are ignored, enum strings are case-insensitive.

use crate::ApiError;
use serde_json::{Map, Value};

/// "a string", "a number", … for messages.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// What the client sent, short: numbers and (truncated) strings verbatim,
/// other values by type.
pub fn describe(v: &Value) -> String {
    match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("\"{}\"", s.chars().take(40).collect::<String>()),
        other => type_name(other).to_string(),
    }
}

/// `invalid_field`: `"field 'x' must be <expected> (got <value>)"`.
pub fn invalid(field: &str, expected: &str, value: &Value) -> ApiError {
    ApiError::new(
        422,
        "invalid_field",
        format!(
            "field '{field}' must be {expected} (got {})",
            describe(value)
        ),
    )
}

/// `missing_field`: `"field 'x' is required (<what>)"`.
pub fn missing(field: &str, what: &str) -> ApiError {
    ApiError::new(
        422,
        "missing_field",
        format!("field '{field}' is required ({what})"),
    )
}

/// `"a", "b", "c"` for messages listing allowed values.
pub fn quote_list<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    items
        .into_iter()
        .map(|s| format!("\"{s}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses a body that must be a JSON object (`invalid_json`, 400, otherwise).
pub fn object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(ApiError::new(
            400,
            "invalid_json",
            format!("the body must be a JSON object, not {}", type_name(&other)),
        )),
        Err(e) => Err(ApiError::new(
            400,
            "invalid_json",
            format!("the body is not valid JSON: {e}"),
        )),
    }
}

/// Like [`object`], but a body that is valid JSON of another type is a 422
/// `invalid_field` whose message says what the object must hold (`shape`,
/// e.g. "a 'text' field").
pub fn request_object(body: &[u8], shape: &str) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(ApiError::new(
            422,
            "invalid_field",
            format!(
                "request body must be a JSON object with {shape} (got {})",
                type_name(&other)
            ),
        )),
        Err(e) => Err(ApiError::new(
            400,
            "invalid_json",
            format!("request body is not valid JSON: {e}"),
        )),
    }
}

/// A field's value, with `null` read as absent.
pub fn field<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name).filter(|v| !v.is_null())
}

/// An optional string field; not a string → `invalid_field`.
pub fn opt_str<'a>(
    obj: &'a Map<String, Value>,
    name: &str,
    expected: &str,
) -> Result<Option<&'a str>, ApiError> {
    match field(obj, name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(invalid(name, expected, other)),
    }
}

/// An optional boolean field.
pub fn opt_bool(obj: &Map<String, Value>, name: &str) -> Result<Option<bool>, ApiError> {
    match field(obj, name) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(invalid(name, "true or false", other)),
    }
}

/// An integer in `min..=max`. Accepts JSON integers and integral floats
/// (`3.0`); anything else is `invalid_field` with `expected` in the message.
pub fn int_in(name: &str, v: &Value, min: u64, max: u64, expected: &str) -> Result<u64, ApiError> {
    let n = match v {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= max as f64)
                .map(|f| f as u64)
        }),
        _ => None,
    };
    match n {
        Some(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(invalid(name, expected, v)),
    }
}

/// An optional integer field in `min..=max`.
pub fn opt_int(
    obj: &Map<String, Value>,
    name: &str,
    min: u64,
    max: u64,
) -> Result<Option<u64>, ApiError> {
    field(obj, name)
        .map(|v| {
            int_in(
                name,
                v,
                min,
                max,
                &format!("an integer from {min} to {max}"),
            )
        })
        .transpose()
}

/// An optional finite number in `min..=max`.
pub fn opt_number(
    obj: &Map<String, Value>,
    name: &str,
    min: f64,
    max: f64,
) -> Result<Option<f64>, ApiError> {
    match field(obj, name) {
        None => Ok(None),
        Some(v) => match v.as_f64() {
            Some(x) if x.is_finite() && (min..=max).contains(&x) => Ok(Some(x)),
            _ => Err(invalid(name, &format!("a number from {min} to {max}"), v)),
        },
    }
}

/// An optional enum: a case-insensitive string matched by `parse`; the
/// message lists `allowed`.
pub fn opt_enum<T>(
    obj: &Map<String, Value>,
    name: &str,
    allowed: &[&str],
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Option<T>, ApiError> {
    let expected = format!("one of {}", quote_list(allowed.iter().copied()));
    match field(obj, name) {
        None => Ok(None),
        Some(v @ Value::String(s)) => parse(&s.trim().to_ascii_lowercase())
            .map(Some)
            .ok_or_else(|| invalid(name, &expected, v)),
        Some(other) => Err(invalid(name, &expected, other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn integers_accept_integral_floats_and_reject_the_rest() {
        assert_eq!(int_in("n", &json!(3.0), 1, 5, "1-5").unwrap(), 3);
        let err = int_in("n", &json!(2.5), 1, 5, "1-5").unwrap_err();
        assert_eq!((err.status, err.code), (422, "invalid_field"));
        assert!(err.message.contains("'n'") && err.message.contains("2.5"));
        assert!(int_in("n", &json!(-1), 0, 5, "0-5").is_err());
        assert!(int_in("n", &json!("3"), 0, 5, "0-5").is_err());
    }

    #[test]
    fn null_is_absent_and_wrong_types_are_named() {
        let o = obj(json!({"a": null, "b": 7, "c": "Yes"}));
        assert_eq!(opt_str(&o, "a", "text").unwrap(), None);
        let err = opt_str(&o, "b", "text").unwrap_err();
        assert!(err.message.contains("got 7"), "{}", err.message);
        assert!(opt_bool(&o, "c").is_err());
        assert_eq!(opt_int(&o, "b", 0, 10).unwrap(), Some(7));
        assert!(opt_int(&o, "b", 0, 5).is_err());
        assert_eq!(opt_number(&o, "b", 0.0, 7.0).unwrap(), Some(7.0));
    }

    #[test]
    fn enums_are_case_insensitive_and_list_allowed_values() {
        let o = obj(json!({"mode": " FAST ", "bad": "slow"}));
        let parse = |s: &str| (s == "fast").then_some(1);
        assert_eq!(opt_enum(&o, "mode", &["fast"], parse).unwrap(), Some(1));
        let err = opt_enum(&o, "bad", &["fast", "quick"], parse).unwrap_err();
        assert!(
            err.message.contains("\"fast\", \"quick\""),
            "{}",
            err.message
        );
    }

    #[test]
    fn bodies_must_be_objects() {
        assert_eq!(object(b"[1]").unwrap_err().code, "invalid_json");
        assert_eq!(object(b"{").unwrap_err().status, 400);
        assert!(object(b"{\"a\":1}").is_ok());
    }
}
