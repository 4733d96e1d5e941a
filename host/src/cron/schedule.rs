//! When a cron trigger fires: a cron expression with seconds (the syntax of
//! Spin's `trigger-cron` plugin, parsed by the `cron` crate as the plugin's
//! scheduler does), evaluated in UTC.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::Utc;

/// A parsed cron schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    expression: String,
    parsed: cron::Schedule,
}

impl FromStr for Schedule {
    type Err = cron::error::Error;

    fn from_str(expression: &str) -> Result<Self, Self::Err> {
        Ok(Self {
            expression: expression.to_string(),
            parsed: cron::Schedule::from_str(expression)?,
        })
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.expression)
    }
}

impl Schedule {
    /// How long until the next time strictly after now; `None` when the
    /// schedule has no future time (e.g. a past year).
    pub fn until_next(&self) -> Option<Duration> {
        let now = Utc::now();
        let next = self.parsed.after(&now).next()?;
        Some((next - now).to_std().unwrap_or(Duration::ZERO))
    }

    /// The current time in whole seconds since the Unix epoch (the
    /// `timestamp` the component is given).
    pub fn now_unix_seconds(&self) -> u64 {
        u64::try_from(Utc::now().timestamp()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_every_second_schedule_fires_within_a_second() {
        let schedule: Schedule = "* * * * * *".parse().unwrap();
        let wait = schedule.until_next().unwrap();
        assert!(wait <= Duration::from_secs(1), "{wait:?}");
    }

    #[test]
    fn an_hourly_schedule_waits_at_most_an_hour() {
        let schedule: Schedule = "0 0 * * * *".parse().unwrap();
        let wait = schedule.until_next().unwrap();
        assert!(wait <= Duration::from_secs(3600), "{wait:?}");
    }

    #[test]
    fn a_five_field_unix_expression_is_refused() {
        assert!("*/5 * * * *".parse::<Schedule>().is_err());
    }

    #[test]
    fn a_schedule_in_a_past_year_has_no_next_time() {
        let schedule: Schedule = "0 0 0 1 1 * 2001".parse().unwrap();
        assert_eq!(schedule.until_next(), None);
    }

    #[test]
    fn it_displays_as_written() {
        let schedule: Schedule = "*/5 * * * * *".parse().unwrap();
        assert_eq!(schedule.to_string(), "*/5 * * * * *");
    }
}
