//! Best time to post: ranks the week's 168 weekday × hour slots, scored in
//! the same batch as the requested slot, and picks the top [`TOP_N`].
//!
//! Method:
//! - every slot keeps the request's page likes, post type, category, paid
//!   and **month**; only weekday and hour vary, so the ranking isolates
//!   timing (a week that crosses into the next month is still scored in the
//!   requested month);
//! - slots are ranked by the predicted **p50 of `total_interactions`**
//!   (comments + likes + shares: the engagement the post itself earns);
//!   ties go to the earlier slot (after `scheduled_at` when given, else from
//!   Sunday 0:00);
//! - **at most one slot per weekday**: the model's weekday effect is much
//!   larger than its hour effect, so the raw top 3 are nearly always three
//!   neighbouring hours of one day (e.g. Wednesday 2, 3 and 4 h) and say
//!   nothing new; the best hour of each of the three best days is a real
//!   choice. The global best slot is always first;
//! - `uplift_pct` = (slot p50 / requested p50 − 1) × 100, from unrounded
//!   model outputs, rounded to 0.1; `null` when the requested p50 is 0;
//! - with `scheduled_at`, `at` is the slot's next date-time at or after it
//!   in the same offset, keeping its minutes and seconds (so the requested
//!   slot is `scheduled_at` itself and every slot falls in the week that
//!   starts there); without it, weekday and hour only.

use crate::encoding::{TOTAL_INTERACTIONS, hour_has_low_data, weekday_code};
use crate::engine::{Prediction, SlotPrediction};
use crate::request::PredictRequest;
use time::{Duration, OffsetDateTime};

/// Best times returned.
pub const TOP_N: usize = 3;

/// One recommended slot.
#[derive(Debug, Clone, PartialEq)]
pub struct BestTime {
    /// 1 = Sunday … 7 = Saturday.
    pub weekday: u8,
    /// 0–23.
    pub hour: u8,
    /// Next date-time of the slot at or after `scheduled_at`, when given.
    pub at: Option<OffsetDateTime>,
    /// Predicted p50 of `total_interactions`, unrounded.
    pub total_interactions_p50: f32,
    /// Percent change of that p50 vs the requested slot's.
    pub uplift_pct: Option<f64>,
    /// Whether this is the requested slot.
    pub requested: bool,
    /// Whether the training data had fewer than 5 posts at this hour.
    pub low_data: bool,
}

/// `(slot / requested − 1) × 100`, rounded to 0.1; `None` when `requested`
/// is not positive or either value is not finite.
pub fn uplift_pct(slot: f32, requested: f32) -> Option<f64> {
    let (slot, requested) = (f64::from(slot), f64::from(requested));
    if !(requested > 0.0 && slot.is_finite() && requested.is_finite()) {
        return None;
    }
    let pct = (slot / requested - 1.0) * 100.0;
    // Avoid "-0.0" for a slot equal to the request.
    Some(((pct * 10.0).round() / 10.0) + 0.0)
}

/// Days from `from`'s local weekday to the next `weekday` at `hour` (0–7;
/// 7 only for the same weekday at an earlier hour).
fn days_until(from: OffsetDateTime, weekday: u8, hour: u8) -> i64 {
    let days = (i64::from(weekday) - i64::from(weekday_code(from.weekday()))).rem_euclid(7);
    if days == 0 && hour < from.hour() {
        7
    } else {
        days
    }
}

/// The first date-time at or after `from`, in `from`'s offset, that falls on
/// `weekday` (1 = Sunday … 7) at `hour` with `from`'s minutes, seconds and
/// fraction. `None` for out-of-range input or past year 9999.
pub fn next_occurrence(from: OffsetDateTime, weekday: u8, hour: u8) -> Option<OffsetDateTime> {
    if !(1..=7).contains(&weekday) {
        return None;
    }
    let time = from.time().replace_hour(hour).ok()?;
    let date = from
        .date()
        .checked_add(Duration::days(days_until(from, weekday, hour)))?;
    Some(date.with_time(time).assume_offset(from.offset()))
}

/// Position of a slot in the ranked week, for ties: hours after
/// `scheduled_at` when given, else hours after Sunday 0:00.
fn week_order(req: &PredictRequest, weekday: u8, hour: u8) -> i64 {
    match req.scheduled_at {
        Some(from) => {
            days_until(from, weekday, hour) * 24 + i64::from(hour) - i64::from(from.hour())
        }
        None => i64::from(weekday) * 24 + i64::from(hour),
    }
}

/// The top [`TOP_N`] slots (see the module docs for the method). `requested`
/// is the requested row's prediction (the uplift baseline).
pub fn best_times(
    req: &PredictRequest,
    requested: &Prediction,
    slots: &[SlotPrediction],
) -> Vec<BestTime> {
    let score = |s: &SlotPrediction| s.prediction.p50[TOTAL_INTERACTIONS];
    let mut ranked: Vec<&SlotPrediction> = slots.iter().filter(|s| score(s).is_finite()).collect();
    ranked.sort_by(|a, b| {
        score(b).total_cmp(&score(a)).then_with(|| {
            week_order(req, a.weekday, a.hour).cmp(&week_order(req, b.weekday, b.hour))
        })
    });
    let mut days_taken: Vec<u8> = Vec::with_capacity(TOP_N);
    let mut best = Vec::with_capacity(TOP_N);
    for slot in ranked {
        if best.len() == TOP_N {
            break;
        }
        if days_taken.contains(&slot.weekday) {
            continue;
        }
        days_taken.push(slot.weekday);
        best.push(BestTime {
            weekday: slot.weekday,
            hour: slot.hour,
            at: req
                .scheduled_at
                .and_then(|from| next_occurrence(from, slot.weekday, slot.hour)),
            total_interactions_p50: score(slot),
            uplift_pct: uplift_pct(score(slot), requested.p50[TOTAL_INTERACTIONS]),
            requested: slot.weekday == req.weekday && slot.hour == req.hour,
            low_data: hour_has_low_data(slot.hour),
        });
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::week_slots;
    use time::format_description::well_known::Rfc3339;

    fn req(extra: &str) -> PredictRequest {
        PredictRequest::from_json(
            format!(r#"{{"page_likes":120000,"post_type":"photo",{extra}}}"#).as_bytes(),
        )
        .unwrap()
    }

    fn pred(ti: f32) -> Prediction {
        Prediction {
            p10: [ti * 0.5, 1.0, 1.0, 1.0],
            p50: [ti, 2.0, 2.0, 2.0],
            p90: [ti * 2.0, 3.0, 3.0, 3.0],
        }
    }

    /// A fake model's week: `f(weekday, hour)` is the p50 of total interactions.
    fn week(f: impl Fn(u8, u8) -> f32) -> Vec<SlotPrediction> {
        week_slots()
            .map(|(weekday, hour)| SlotPrediction {
                weekday,
                hour,
                prediction: pred(f(weekday, hour)),
            })
            .collect()
    }

    fn at(s: &str) -> OffsetDateTime {
        OffsetDateTime::parse(s, &Rfc3339).unwrap()
    }

    fn fmt(t: Option<OffsetDateTime>) -> String {
        t.unwrap().format(&Rfc3339).unwrap()
    }

    #[test]
    fn picks_the_fake_models_maximum_first_and_at_most_three() {
        let r = req(r#""month":12,"weekday":3,"hour":18"#);
        // A single peak on Thursday 10h, otherwise flat-ish.
        let slots = week(|d, h| {
            if (d, h) == (5, 10) {
                500.0
            } else {
                100.0 + f32::from(h)
            }
        });
        let best = best_times(&r, &pred(100.0), &slots);
        assert_eq!(best.len(), TOP_N);
        assert_eq!((best[0].weekday, best[0].hour), (5, 10));
        assert_eq!(best[0].total_interactions_p50, 500.0);
        assert_eq!(best[0].uplift_pct, Some(400.0));
        // The rest: hour 23 (the next best) on other days, earliest day first.
        assert_eq!((best[1].weekday, best[1].hour), (1, 23));
        assert_eq!((best[2].weekday, best[2].hour), (2, 23));
        assert!(best.iter().all(|b| b.at.is_none() && !b.requested));
        assert!(best[1].low_data && !best[0].low_data);

        // Never more than three, whatever the model says; fewer slots → fewer.
        for f in [
            |_: u8, _: u8| 7.0f32,
            |d: u8, h: u8| f32::from(d) * f32::from(h),
        ] {
            assert_eq!(best_times(&r, &pred(1.0), &week(f)).len(), 3);
        }
        assert_eq!(
            best_times(&r, &pred(1.0), &slots[..2]).len(),
            1,
            "one weekday"
        );
        assert_eq!(best_times(&r, &pred(1.0), &slots[..30]).len(), 2);
        assert!(best_times(&r, &pred(1.0), &[]).is_empty());
    }

    #[test]
    fn one_slot_per_weekday_in_score_order() {
        let r = req(r#""month":1,"weekday":1,"hour":0"#);
        // Wednesday dominates at every hour, as the real model's weekday effect does.
        let slots = week(|d, h| {
            let day = [0.0, 70.0, 87.0, 69.0, 106.0, 79.0, 70.0, 54.0][usize::from(d)];
            day + 10.0 - (f32::from(h) - 3.0).abs() * 0.1
        });
        let best = best_times(&r, &pred(50.0), &slots);
        let got: Vec<(u8, u8)> = best.iter().map(|b| (b.weekday, b.hour)).collect();
        assert_eq!(got, vec![(4, 3), (2, 3), (5, 3)]);
        assert!(
            best.windows(2)
                .all(|w| w[0].total_interactions_p50 >= w[1].total_interactions_p50)
        );
    }

    #[test]
    fn ties_and_non_finite_values() {
        let r = req(r#""month":1,"weekday":4,"hour":12"#);
        let flat = best_times(&r, &pred(10.0), &week(|_, _| 10.0));
        let got: Vec<(u8, u8)> = flat.iter().map(|b| (b.weekday, b.hour)).collect();
        assert_eq!(
            got,
            vec![(1, 0), (2, 0), (3, 0)],
            "earliest from Sunday 0:00"
        );
        assert!(flat.iter().all(|b| b.uplift_pct == Some(0.0)));
        let nan = week(|d, _| if d == 1 { f32::NAN } else { f32::from(d) });
        let best = best_times(&r, &pred(1.0), &nan);
        assert_eq!(best[0].weekday, 7);
        assert!(best.iter().all(|b| b.weekday != 1));
    }

    #[test]
    fn uplift_math() {
        assert_eq!(uplift_pct(150.0, 100.0), Some(50.0));
        assert_eq!(uplift_pct(100.0, 100.0), Some(0.0));
        assert_eq!(uplift_pct(80.0, 100.0), Some(-20.0));
        assert_eq!(uplift_pct(114.37, 72.5), Some(57.8));
        assert_eq!(uplift_pct(1.0, 3.0), Some(-66.7));
        assert_eq!(uplift_pct(100.0001, 100.0), Some(0.0));
        assert_eq!(
            uplift_pct(99.99, 100.0).map(f64::is_sign_negative),
            Some(false)
        );
        assert_eq!(uplift_pct(5.0, 0.0), None);
        assert_eq!(uplift_pct(5.0, f32::NAN), None);
        assert_eq!(uplift_pct(f32::INFINITY, 1.0), None);
    }

    #[test]
    fn scheduled_requests_get_the_next_dates_in_their_offset() {
        // Tuesday 1 Dec 2026 18:30 at UTC-5.
        let r = req(r#""scheduled_at":"2026-12-01T18:30:00-05:00""#);
        let from = r.scheduled_at.unwrap();
        // The requested slot itself.
        assert_eq!(
            fmt(next_occurrence(from, 3, 18)),
            "2026-12-01T18:30:00-05:00"
        );
        // Later the same day; earlier the same weekday → next week.
        assert_eq!(
            fmt(next_occurrence(from, 3, 23)),
            "2026-12-01T23:30:00-05:00"
        );
        assert_eq!(
            fmt(next_occurrence(from, 3, 17)),
            "2026-12-08T17:30:00-05:00"
        );
        // Other days: Wednesday 2nd, Monday 7th, Sunday 6th.
        assert_eq!(
            fmt(next_occurrence(from, 4, 0)),
            "2026-12-02T00:30:00-05:00"
        );
        assert_eq!(
            fmt(next_occurrence(from, 2, 9)),
            "2026-12-07T09:30:00-05:00"
        );
        assert_eq!(
            fmt(next_occurrence(from, 1, 9)),
            "2026-12-06T09:30:00-05:00"
        );
        // Positive offset across a month and year end.
        let nye = at("2026-12-31T23:45:10+09:00"); // Thursday
        assert_eq!(fmt(next_occurrence(nye, 6, 8)), "2027-01-01T08:45:10+09:00");
        assert_eq!(
            fmt(next_occurrence(nye, 5, 22)),
            "2027-01-07T22:45:10+09:00"
        );
        assert_eq!(next_occurrence(nye, 0, 8), None);
        assert_eq!(next_occurrence(nye, 6, 24), None);
        assert_eq!(next_occurrence(at("9999-12-31T10:00:00Z"), 1, 9), None);

        // Every slot lands in [scheduled_at, scheduled_at + 7 days), on its
        // weekday and hour in the same offset.
        for (d, h) in week_slots() {
            let t = next_occurrence(from, d, h).unwrap();
            assert!(t >= from && t < from + Duration::days(7), "{d} {h}");
            assert_eq!((weekday_code(t.weekday()), t.hour()), (d, h));
            assert_eq!(t.offset(), from.offset());
        }

        // best_times fills `at` and marks the requested slot.
        let slots = week(|d, h| {
            if (d, h) == (3, 18) {
                90.0
            } else {
                f32::from(h)
            }
        });
        let best = best_times(&r, &pred(90.0), &slots);
        assert_eq!(
            (best[0].weekday, best[0].hour, best[0].requested),
            (3, 18, true)
        );
        assert_eq!(best[0].uplift_pct, Some(0.0));
        assert_eq!(fmt(best[0].at), "2026-12-01T18:30:00-05:00");
        // Ties after scheduled_at: hour 23 of Wednesday 2nd comes before Thursday's.
        assert_eq!((best[1].weekday, best[1].hour), (4, 23));
        assert_eq!(fmt(best[1].at), "2026-12-02T23:30:00-05:00");
        assert_eq!((best[2].weekday, best[2].hour), (5, 23));
    }
}
