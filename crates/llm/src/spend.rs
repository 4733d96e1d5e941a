//! The server-side spend cap: what the LLM may cost per clock hour, kept in
//! the shared store so every instance (and every host on one store) counts
//! against the same window, whatever each client asks for.
//!
//! Money is counted in whole micro-USD ([`micro_usd`]) so a counter can be an
//! integer (and, with `wasi:keyvalue/atomics`, an atomic increment). The
//! window is the UTC clock hour ([`window_key`]); a new hour starts from
//! zero, and old windows are small and never read again. Each attempt
//! reserves its estimated cost *before* it is sent ([`admit`]), so
//! concurrent requests cannot all pass a nearly spent cap, and a timed-out
//! attempt (which the provider may still bill) stays counted.

/// Seconds in one spend window.
pub const WINDOW_SECONDS: u64 = 3600;

/// The store key of the window holding unix second `now`.
pub fn window_key(now: u64) -> String {
    format!("spend/llm/{}", now / WINDOW_SECONDS)
}

/// USD as whole micro-USD, rounded up (a cost is never counted as 0 unless
/// it is 0); negative or non-finite amounts count as 0.
pub fn micro_usd(usd: f64) -> u64 {
    if usd.is_finite() && usd > 0.0 {
        (usd * 1e6).ceil().min(u64::MAX as f64) as u64
    } else {
        0
    }
}

/// Whether `cost` more fits a window that has `spent` of `cap` (all in
/// micro-USD): `Ok(new total)`, or `Err` with why not, safe to show.
pub fn admit(spent: u64, cost: u64, cap: u64) -> Result<u64, String> {
    let total = spent.saturating_add(cost);
    if total <= cap && cap > 0 {
        Ok(total)
    } else if cap == 0 {
        Err("the LLM spend cap is 0 USD per hour (llm_budget_per_hour)".into())
    } else {
        Err(format!(
            "the server's LLM spend cap of {} USD per hour is reached ({} USD spent this hour)",
            usd_text(cap),
            usd_text(spent)
        ))
    }
}

/// Whether a reason from [`admit`] (or anything built on it) says the cap
/// stopped the call.
pub fn is_cap_reason(reason: &str) -> bool {
    reason.contains("LLM spend cap")
}

fn usd_text(micro: u64) -> String {
    let text = format!("{:.6}", micro as f64 / 1e6);
    let text = text.trim_end_matches('0');
    text.strip_suffix('.').unwrap_or(text).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_clock_hours() {
        assert_eq!(window_key(0), "spend/llm/0");
        assert_eq!(window_key(3599), "spend/llm/0");
        assert_eq!(window_key(3600), "spend/llm/1");
        assert_eq!(window_key(1_700_000_000), "spend/llm/472222");
    }

    #[test]
    fn costs_round_up_to_a_micro_usd() {
        assert_eq!(micro_usd(0.0), 0);
        assert_eq!(micro_usd(0.000_000_1), 1);
        assert_eq!(micro_usd(0.25), 250_000);
        assert_eq!(micro_usd(-1.0), 0);
        assert_eq!(micro_usd(f64::NAN), 0);
    }

    #[test]
    fn a_cost_is_admitted_up_to_the_cap_and_not_past_it() {
        assert_eq!(admit(0, 400, 1000), Ok(400));
        assert_eq!(admit(600, 400, 1000), Ok(1000));
        assert_eq!(
            admit(700, 400, 1000),
            Err("the server's LLM spend cap of 0.001 USD per hour is reached (0.0007 USD spent this hour)".into())
        );
    }

    #[test]
    fn refusals_are_recognised_as_the_cap() {
        assert!(is_cap_reason(&admit(1, 1, 1).unwrap_err()));
        assert!(is_cap_reason(&admit(0, 0, 0).unwrap_err()));
        assert!(!is_cap_reason("circuit breaker open for another 3 s"));
    }

    #[test]
    fn a_zero_cap_admits_nothing() {
        assert_eq!(
            admit(0, 0, 0),
            Err("the LLM spend cap is 0 USD per hour (llm_budget_per_hour)".into())
        );
    }
}
