//! The posting window: the hours of the day a page is willing to publish,
//! as scheduling tools let users set them. Best times are only chosen
//! inside it.
//!
//! Request field (optional, default [`PostingWindow::DEFAULT`], 07:00–22:00):
//!
//! ```json
//! "posting_window": {"start": "07:00", "end": "22:00"}
//! ```
//!
//! - `start` and `end` are wall-clock times `"HH:MM"` (`H:MM` accepted) in
//!   the request's clock: `scheduled_at`'s offset, or with `month`/`weekday`/
//!   `hour` the clock of `hour` (the page's local time). `start` is 00:00 to
//!   23:59; `end` is 00:00 to 24:00.
//! - Both ends are included: a slot at `h:mm` (the minutes of
//!   `scheduled_at`, or `:00`) is inside when `start ≤ h:mm ≤ end`.
//! - `start > end` crosses midnight (`"20:00"`–`"02:00"` is 20:00 to 02:00);
//!   `start == end` is empty and rejected.
//! - The window must span at least [`MIN_WINDOW_MINUTES`], so that at least
//!   one hour slot falls inside whatever the minutes of `scheduled_at`.
//!
//! Errors: `422 invalid_field` naming `posting_window`, `posting_window.start`,
//! `posting_window.end` or an unknown key inside it; `422 missing_field`
//! for `posting_window.start` / `.end` when the object lacks one.

use fbposts_core::ApiError;
use fbposts_core::json::{field, invalid, missing};
use serde_json::{Map, Value};

/// Minutes in a day: the largest `end`, `"24:00"`.
pub const DAY_MINUTES: u16 = 24 * 60;

/// Shortest accepted window: one hour, so an hourly slot always fits.
pub const MIN_WINDOW_MINUTES: u16 = 60;

/// A validated posting window, in minutes after midnight of the request's
/// clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostingWindow {
    /// 0–1439.
    pub start: u16,
    /// 0–1440; may be before `start` (the window crosses midnight).
    pub end: u16,
}

const WINDOW_EXPECTED: &str = "an object {\"start\": \"HH:MM\", \"end\": \"HH:MM\"}, e.g. {\"start\": \"07:00\", \"end\": \"22:00\"}";
const START_EXPECTED: &str = "a time \"HH:MM\" from \"00:00\" to \"23:59\"";
const END_EXPECTED: &str = "a time \"HH:MM\" from \"00:00\" to \"24:00\"";

impl Default for PostingWindow {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl PostingWindow {
    /// 07:00–22:00: waking hours, what scheduling tools commonly default to.
    pub const DEFAULT: PostingWindow = PostingWindow {
        start: 7 * 60,
        end: 22 * 60,
    };

    /// A window from minutes after midnight; `None` when out of range,
    /// empty or shorter than [`MIN_WINDOW_MINUTES`].
    pub fn new(start: u16, end: u16) -> Option<Self> {
        let window = PostingWindow { start, end };
        (start < DAY_MINUTES && end <= DAY_MINUTES && window.minutes() >= MIN_WINDOW_MINUTES)
            .then_some(window)
    }

    /// Its length in minutes (0 when `start == end`).
    pub fn minutes(&self) -> u16 {
        if self.end >= self.start {
            self.end - self.start
        } else {
            DAY_MINUTES - self.start + self.end
        }
    }

    /// Whether `minute` after midnight (0–1439) is inside, both ends included.
    pub fn contains(&self, minute: u16) -> bool {
        if self.start <= self.end {
            (self.start..=self.end).contains(&minute)
        } else {
            minute >= self.start || minute <= self.end
        }
    }

    /// Whether a slot at `hour`:`minute` is inside.
    pub fn contains_slot(&self, hour: u8, minute: u8) -> bool {
        self.contains(u16::from(hour) * 60 + u16::from(minute))
    }

    /// `"HH:MM"` of `start`.
    pub fn start_text(&self) -> String {
        clock(self.start)
    }

    /// `"HH:MM"` of `end` (`"24:00"` for the end of the day).
    pub fn end_text(&self) -> String {
        clock(self.end)
    }

    /// Reads the optional `posting_window` field of a request (see the
    /// module docs); absent or `null`: [`PostingWindow::DEFAULT`].
    pub fn from_field(obj: &Map<String, Value>) -> Result<Self, ApiError> {
        let Some(value) = field(obj, "posting_window") else {
            return Ok(Self::DEFAULT);
        };
        let Value::Object(window) = value else {
            return Err(invalid("posting_window", WINDOW_EXPECTED, value));
        };
        if let Some(unknown) = window.keys().find(|k| *k != "start" && *k != "end") {
            return Err(ApiError::new(
                422,
                "invalid_field",
                format!(
                    "field 'posting_window.{unknown}' is not part of a posting window; use 'start' and 'end' (\"HH:MM\")"
                ),
            ));
        }
        let start = time_field(window, "start", START_EXPECTED, DAY_MINUTES - 1)?;
        let end = time_field(window, "end", END_EXPECTED, DAY_MINUTES)?;
        PostingWindow::new(start, end).ok_or_else(|| {
            ApiError::new(
                422,
                "invalid_field",
                format!(
                    "field 'posting_window' must span at least {MIN_WINDOW_MINUTES} minutes (got {} to {}); a window whose end is before its start crosses midnight",
                    clock(start),
                    clock(end)
                ),
            )
        })
    }
}

/// `posting_window.<name>` as minutes after midnight, at most `max`.
fn time_field(
    window: &Map<String, Value>,
    name: &str,
    expected: &str,
    max: u16,
) -> Result<u16, ApiError> {
    let path = format!("posting_window.{name}");
    let value = field(window, name).ok_or_else(|| missing(&path, expected))?;
    value
        .as_str()
        .and_then(parse_clock)
        .filter(|minutes| *minutes <= max)
        .ok_or_else(|| invalid(&path, expected, value))
}

/// `"HH:MM"` or `"H:MM"` (minutes 00–59, at most 24:00) to minutes after
/// midnight.
fn parse_clock(text: &str) -> Option<u16> {
    let (hours, minutes) = text.trim().split_once(':')?;
    let well_formed = (1..=2).contains(&hours.len())
        && minutes.len() == 2
        && hours
            .bytes()
            .chain(minutes.bytes())
            .all(|b| b.is_ascii_digit());
    if !well_formed {
        return None;
    }
    let (hours, minutes): (u16, u16) = (hours.parse().ok()?, minutes.parse().ok()?);
    let total = hours * 60 + minutes;
    (minutes < 60 && total <= DAY_MINUTES).then_some(total)
}

/// Minutes after midnight as `"HH:MM"`.
fn clock(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(value: Value) -> Result<PostingWindow, ApiError> {
        let obj = json!({ "posting_window": value });
        PostingWindow::from_field(obj.as_object().unwrap())
    }

    /// Asserts a 422 with `code` whose message names `field`.
    fn assert_rejected(value: Value, code: &str, field: &str) {
        let e = parse(value.clone()).unwrap_err();
        assert_eq!((e.status, e.code), (422, code), "{value}: {}", e.message);
        assert!(
            e.message.contains(&format!("'{field}'")),
            "{value}: {}",
            e.message
        );
    }

    #[test]
    fn absent_or_null_is_seven_to_ten_pm() {
        let empty = Map::new();
        assert_eq!(
            PostingWindow::from_field(&empty).unwrap(),
            PostingWindow::DEFAULT
        );
        assert_eq!(parse(Value::Null).unwrap(), PostingWindow::DEFAULT);
        let w = PostingWindow::DEFAULT;
        assert_eq!(
            (w.start_text(), w.end_text()),
            ("07:00".into(), "22:00".into())
        );
        assert!(w.contains_slot(7, 0) && w.contains_slot(21, 30) && w.contains_slot(22, 0));
        assert!(!w.contains_slot(6, 59) && !w.contains_slot(22, 30) && !w.contains_slot(3, 30));
    }

    #[test]
    fn windows_may_cross_midnight() {
        let w = parse(json!({"start": "20:00", "end": "02:00"})).unwrap();
        assert_eq!(w.minutes(), 6 * 60);
        for (hour, minute) in [(20, 0), (23, 59), (0, 0), (1, 30), (2, 0)] {
            assert!(w.contains_slot(hour, minute), "{hour}:{minute}");
        }
        for (hour, minute) in [(2, 1), (12, 0), (19, 59)] {
            assert!(!w.contains_slot(hour, minute), "{hour}:{minute}");
        }
        let whole_day = parse(json!({"start": "00:00", "end": "24:00"})).unwrap();
        assert!((0..24).all(|h| whole_day.contains_slot(h, 59)));
        let short_hours = parse(json!({"start": "9:15", "end": " 10:15 "})).unwrap();
        assert_eq!((short_hours.start, short_hours.end), (555, 615));
    }

    #[test]
    fn bad_windows_are_rejected_naming_the_field() {
        for bad in [json!("07:00-22:00"), json!(7), json!(["07:00", "22:00"])] {
            assert_rejected(bad, "invalid_field", "posting_window");
        }
        for start in [
            "25:00", "24:00", "7", "07:60", "ab:cd", "-1:00", "07:5", "007:00", "",
        ] {
            assert_rejected(
                json!({"start": start, "end": "22:00"}),
                "invalid_field",
                "posting_window.start",
            );
        }
        for end in ["24:01", "22", "22:000", "noon"] {
            assert_rejected(
                json!({"start": "07:00", "end": end}),
                "invalid_field",
                "posting_window.end",
            );
        }
        assert_rejected(
            json!({"start": 7, "end": "22:00"}),
            "invalid_field",
            "posting_window.start",
        );
        assert_rejected(
            json!({"end": "22:00"}),
            "missing_field",
            "posting_window.start",
        );
        assert_rejected(
            json!({"start": "07:00"}),
            "missing_field",
            "posting_window.end",
        );
        assert_rejected(
            json!({"start": "07:00", "end": "22:00", "tz": "CET"}),
            "invalid_field",
            "posting_window.tz",
        );
        // Empty or shorter than an hour: no hourly slot is sure to fit.
        for (start, end) in [("09:00", "09:00"), ("09:00", "09:59"), ("23:30", "00:15")] {
            assert_rejected(
                json!({"start": start, "end": end}),
                "invalid_field",
                "posting_window",
            );
        }
        assert!(parse(json!({"start": "23:30", "end": "00:30"})).is_ok());
    }
}
