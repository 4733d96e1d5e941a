//! Best time to post: ranks the week's weekday × hour slots inside the
//! request's posting window ([`crate::window`]), scored in the same batch as
//! the requested slot, and picks the top [`TOP_N`].
//!
//! Why the method is careful: the global model learned its hour effect from
//! ONE brand page's 400 posts in 2014, published mostly at 2–4 h (143 of
//! 400) in a clock whose time zone the data does not state. Mapped one-to-one
//! onto every user's local time, it told a 120k-likes photo scheduled on a
//! Tuesday at 18:30 (-05:00) to post on Wednesday 03:30, Monday 11:30 and
//! Thursday 02:30. So:
//!
//! - **window**: only slots whose wall-clock time (`hour:mm`, with the
//!   minutes of `scheduled_at`, else `:00`) is inside the posting window
//!   (default 07:00–22:00, in `scheduled_at`'s offset) are candidates;
//! - **basis** ([`BestTimesBasis`]): once the page's own model knows its
//!   hours (`fbposts_learning::PageModel::knows_hours`: at least 20
//!   feedback events spread over the day, and blended into this answer),
//!   slots are ranked by the blended p50 — the global prediction times the
//!   page's own learned ratio for that weekday and hour, i.e. the page's own
//!   outcomes — and the source is `page_feedback`. Until then the source is
//!   `global_model_2014_single_page` and the hour effect is **weighed down**:
//!   each slot's log p50 is pulled halfway ([`crate::basis::GLOBAL_HOUR_EFFECT_WEIGHT`])
//!   towards its day's mean over the window, so the weekday effect (larger,
//!   and seen on every weekday) weighs more than the hour, and the picks are
//!   **spread**: at least [`crate::basis::MIN_HOUR_GAP`] hours apart (then, if the window
//!   is too narrow for that, the next best). Three suggestions at different
//!   times of day are also what the page's model needs to learn its hours
//!   from the feedback on them;
//! - in both bases, slots are ranked by that score (the predicted **p50 of
//!   `total_interactions`**: comments + likes + shares, the engagement the
//!   post itself earns), ties to the earlier slot (after `scheduled_at`
//!   when given, else from Sunday 0:00), and **at most one slot per
//!   weekday**: the weekday effect is larger than the hour effect, so the
//!   raw top 3 would be neighbouring hours of one day. The best slot is
//!   always first; the list is best first by the ranking score;
//! - every slot keeps the request's page likes, post type, category, paid
//!   and **month**; only weekday and hour vary, so the ranking isolates
//!   timing (a week that crosses into the next month is still scored in the
//!   requested month);
//! - each best time carries the model's p10/p50/p90 of total interactions
//!   for its slot (its uncertainty) and `uplift_pct` = (slot p50 /
//!   requested p50 − 1) × 100, from unrounded (blended) model outputs,
//!   rounded to 0.1; `null` when the requested p50 is 0;
//! - with `scheduled_at`, `at` is the slot's next date-time at or after it
//!   in the same offset, keeping its minutes and seconds (so the requested
//!   slot is `scheduled_at` itself and every slot falls in the week that
//!   starts there); without it, weekday and hour only.

use crate::basis::BestTimesBasis;
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
    /// Predicted p10 / p50 / p90 of `total_interactions`, unrounded.
    pub total_interactions_p10: f32,
    pub total_interactions_p50: f32,
    pub total_interactions_p90: f32,
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

/// The slots of the week inside the request's posting window, with a
/// finite p50.
fn candidates<'a>(req: &PredictRequest, slots: &'a [SlotPrediction]) -> Vec<&'a SlotPrediction> {
    slots
        .iter()
        .filter(|s| p50(s).is_finite() && req.slot_in_window(s.hour))
        .collect()
}

fn p50(slot: &SlotPrediction) -> f32 {
    slot.total_interactions.p50
}

/// Each candidate's ranking score: `ln(1 + p50)` pulled towards its day's
/// mean over the candidates by `1 − hour_effect_weight`.
fn ranking_scores(candidates: &[&SlotPrediction], hour_effect_weight: f64) -> Vec<f64> {
    let log_p50: Vec<f64> = candidates
        .iter()
        .map(|s| f64::from(p50(s)).max(0.0).ln_1p())
        .collect();
    let day_mean = |weekday: u8| {
        let of_day: Vec<f64> = candidates
            .iter()
            .zip(&log_p50)
            .filter(|(s, _)| s.weekday == weekday)
            .map(|(_, v)| *v)
            .collect();
        of_day.iter().sum::<f64>() / of_day.len() as f64
    };
    candidates
        .iter()
        .zip(&log_p50)
        .map(|(s, v)| {
            let mean = day_mean(s.weekday);
            mean + hour_effect_weight * (v - mean)
        })
        .collect()
}

/// Hours between two hours of the day, around the clock.
fn hour_distance(a: u8, b: u8) -> u8 {
    let d = a.abs_diff(b) % 24;
    d.min(24 - d)
}

/// Up to [`TOP_N`] of `ranked` (best first), one per weekday: first those
/// at least `min_hour_gap` hours from every earlier pick, then, if fewer
/// than [`TOP_N`] fit, the next best of any hour. Returned best first.
fn pick(ranked: &[&SlotPrediction], min_hour_gap: u8) -> Vec<usize> {
    let mut picked: Vec<usize> = Vec::with_capacity(TOP_N);
    for gap in [min_hour_gap, 0] {
        for (i, slot) in ranked.iter().enumerate() {
            if picked.len() == TOP_N {
                break;
            }
            let fits = picked.iter().all(|&p| {
                ranked[p].weekday != slot.weekday && hour_distance(ranked[p].hour, slot.hour) >= gap
            });
            if fits {
                picked.push(i);
            }
        }
    }
    picked.sort_unstable();
    picked
}

/// The top [`TOP_N`] slots inside the posting window, ranked on `basis`
/// (see the module docs for the method). `requested` is the requested
/// row's prediction (the uplift baseline).
pub fn best_times(
    req: &PredictRequest,
    requested: &Prediction,
    slots: &[SlotPrediction],
    basis: &BestTimesBasis,
) -> Vec<BestTime> {
    let candidates = candidates(req, slots);
    let scores = ranking_scores(&candidates, basis.hour_effect_weight);
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by(|&a, &b| {
        scores[b].total_cmp(&scores[a]).then_with(|| {
            let (a, b) = (candidates[a], candidates[b]);
            week_order(req, a.weekday, a.hour).cmp(&week_order(req, b.weekday, b.hour))
        })
    });
    let ranked: Vec<&SlotPrediction> = order.iter().map(|&i| candidates[i]).collect();
    pick(&ranked, basis.min_hour_gap)
        .into_iter()
        .map(|i| best_time(req, requested, ranked[i]))
        .collect()
}

fn best_time(req: &PredictRequest, requested: &Prediction, slot: &SlotPrediction) -> BestTime {
    BestTime {
        weekday: slot.weekday,
        hour: slot.hour,
        at: req
            .scheduled_at
            .and_then(|from| next_occurrence(from, slot.weekday, slot.hour)),
        total_interactions_p10: slot.total_interactions.p10,
        total_interactions_p50: p50(slot),
        total_interactions_p90: slot.total_interactions.p90,
        uplift_pct: uplift_pct(p50(slot), requested.p50[TOTAL_INTERACTIONS]),
        requested: slot.weekday == req.weekday && slot.hour == req.hour,
        low_data: hour_has_low_data(slot.hour),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::basis::MIN_HOUR_GAP;
    use crate::engine::week_slots;
    use time::format_description::well_known::Rfc3339;

    fn req(extra: &str) -> PredictRequest {
        PredictRequest::from_json(
            format!(r#"{{"page_likes":120000,"post_type":"photo",{extra}}}"#).as_bytes(),
        )
        .unwrap()
    }

    /// A request whose window is the whole day.
    fn all_day(extra: &str) -> PredictRequest {
        req(&format!(
            r#"{extra},"posting_window":{{"start":"00:00","end":"24:00"}}"#
        ))
    }

    /// Pure ranking: no hour weighing, no gap.
    fn ranked(
        r: &PredictRequest,
        requested: &Prediction,
        slots: &[SlotPrediction],
    ) -> Vec<BestTime> {
        best_times(r, requested, slots, &BestTimesBasis::page_feedback(20))
    }

    fn global(
        r: &PredictRequest,
        requested: &Prediction,
        slots: &[SlotPrediction],
    ) -> Vec<BestTime> {
        best_times(r, requested, slots, &BestTimesBasis::global(0))
    }

    fn slots_of(best: &[BestTime]) -> Vec<(u8, u8)> {
        best.iter().map(|b| (b.weekday, b.hour)).collect()
    }

    /// The shape of the real model's week for a 120k-likes photo: a strong
    /// night peak at 2–4 h (where the training page posted), a smaller one
    /// at 10–11 h, Wednesday best, Saturday worst.
    fn night_peaked_week() -> Vec<SlotPrediction> {
        week(|d, h| {
            let day = [0.0, 0.8, 0.9, 0.85, 1.3, 0.95, 0.9, 0.7][usize::from(d)];
            let hour = match h {
                2..=4 => 3.0,
                10 | 11 => 1.6,
                9 | 12 | 13 => 1.3,
                _ => 1.0 + f32::from(h) / 100.0,
            };
            100.0 * day * hour
        })
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
                total_interactions: pred(f(weekday, hour)).target(TOTAL_INTERACTIONS),
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
        let r = all_day(r#""month":12,"weekday":3,"hour":18"#);
        // A single peak on Thursday 10h, otherwise flat-ish.
        let slots = week(|d, h| {
            if (d, h) == (5, 10) {
                500.0
            } else {
                100.0 + f32::from(h)
            }
        });
        let best = ranked(&r, &pred(100.0), &slots);
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
            assert_eq!(ranked(&r, &pred(1.0), &week(f)).len(), 3);
        }
        assert_eq!(ranked(&r, &pred(1.0), &slots[..2]).len(), 1, "one weekday");
        assert_eq!(ranked(&r, &pred(1.0), &slots[..30]).len(), 2);
        assert!(ranked(&r, &pred(1.0), &[]).is_empty());
    }

    #[test]
    fn one_slot_per_weekday_in_score_order() {
        let r = all_day(r#""month":1,"weekday":1,"hour":0"#);
        // Wednesday dominates at every hour, as the real model's weekday effect does.
        let slots = week(|d, h| {
            let day = [0.0, 70.0, 87.0, 69.0, 106.0, 79.0, 70.0, 54.0][usize::from(d)];
            day + 10.0 - (f32::from(h) - 3.0).abs() * 0.1
        });
        let best = ranked(&r, &pred(50.0), &slots);
        let got: Vec<(u8, u8)> = best.iter().map(|b| (b.weekday, b.hour)).collect();
        assert_eq!(got, vec![(4, 3), (2, 3), (5, 3)]);
        assert!(
            best.windows(2)
                .all(|w| w[0].total_interactions_p50 >= w[1].total_interactions_p50)
        );
    }

    #[test]
    fn ties_and_non_finite_values() {
        let r = all_day(r#""month":1,"weekday":4,"hour":12"#);
        let flat = ranked(&r, &pred(10.0), &week(|_, _| 10.0));
        let got: Vec<(u8, u8)> = flat.iter().map(|b| (b.weekday, b.hour)).collect();
        assert_eq!(
            got,
            vec![(1, 0), (2, 0), (3, 0)],
            "earliest from Sunday 0:00"
        );
        assert!(flat.iter().all(|b| b.uplift_pct == Some(0.0)));
        let nan = week(|d, _| if d == 1 { f32::NAN } else { f32::from(d) });
        let best = ranked(&r, &pred(1.0), &nan);
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
        let r = all_day(r#""scheduled_at":"2026-12-01T18:30:00-05:00""#);
        let best = ranked(&r, &pred(90.0), &slots);
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

    #[test]
    fn the_issues_night_peak_gives_spread_daytime_suggestions_in_the_default_window() {
        // The issue's case: a 120k-likes photo on Tuesday 18:30 at -05:00.
        let at = r#""scheduled_at":"2026-12-01T18:30:00-05:00""#;
        let r = req(at);
        let slots = night_peaked_week();
        // Before: the raw ranking over the whole day goes to the night.
        let raw = ranked(&all_day(at), &pred(100.0), &slots);
        assert!(
            raw.iter().all(|b| (2..=4).contains(&b.hour)),
            "{:?}",
            slots_of(&raw)
        );

        let best = global(&r, &pred(100.0), &slots);
        assert_eq!(best.len(), TOP_N);
        for b in &best {
            let at = b.at.unwrap();
            assert!((7..=21).contains(&at.hour()), "{at}");
            assert_eq!(at.offset(), r.scheduled_at.unwrap().offset());
        }
        // Wednesday's morning peak first; then other days, hours ≥ 3 apart.
        assert_eq!((best[0].weekday, best[0].hour), (4, 10));
        for (i, a) in best.iter().enumerate() {
            for b in &best[i + 1..] {
                assert_ne!(a.weekday, b.weekday);
                assert!(
                    hour_distance(a.hour, b.hour) >= MIN_HOUR_GAP,
                    "{:?}",
                    slots_of(&best)
                );
            }
        }
        // The model's own numbers and band are reported for each slot.
        assert_eq!(best[0].total_interactions_p50, 100.0 * 1.3 * 1.6);
        assert_eq!(
            best[0].total_interactions_p10,
            best[0].total_interactions_p50 * 0.5
        );
        assert_eq!(
            best[0].total_interactions_p90,
            best[0].total_interactions_p50 * 2.0
        );
    }

    #[test]
    fn a_custom_window_is_respected_even_across_midnight() {
        let r = req(
            r#""scheduled_at":"2026-12-01T18:30:00-05:00","posting_window":{"start":"20:00","end":"02:00"}"#,
        );
        let best = global(&r, &pred(100.0), &night_peaked_week());
        assert_eq!(best.len(), TOP_N);
        for b in &best {
            let minute = u16::from(b.hour) * 60 + 30;
            assert!(
                minute >= 20 * 60 || minute <= 2 * 60,
                "{:?}",
                slots_of(&best)
            );
        }
        // 20:30 … 01:30: hour 2 (02:30) is just outside.
        assert!(best.iter().all(|b| b.hour != 2));
        // Without scheduled_at the slots are on the hour: 02:00 is inside.
        let r = req(
            r#""month":12,"weekday":3,"hour":18,"posting_window":{"start":"20:00","end":"02:00"}"#,
        );
        let best = ranked(&r, &pred(100.0), &night_peaked_week());
        assert!(best.iter().all(|b| b.hour == 2), "{:?}", slots_of(&best));
    }

    #[test]
    fn the_global_basis_spreads_hours_and_the_page_basis_follows_the_page() {
        let r = req(r#""month":5,"weekday":2,"hour":9"#);
        // 19 h is best on every day by a clear margin; Friday is the best day.
        let slots = week(|d, h| {
            let day = if d == 6 { 1.2 } else { 1.0 };
            let hour = if h == 19 {
                2.0
            } else {
                1.0 + f32::from(h) / 200.0
            };
            100.0 * day * hour
        });
        let page = ranked(&r, &pred(100.0), &slots);
        assert_eq!(page.iter().map(|b| b.hour).collect::<Vec<_>>(), vec![19; 3]);
        assert_eq!(page[0].weekday, 6);
        let spread = global(&r, &pred(100.0), &slots);
        assert_eq!((spread[0].weekday, spread[0].hour), (6, 19));
        assert!(
            spread[1..]
                .iter()
                .all(|b| hour_distance(b.hour, 19) >= MIN_HOUR_GAP)
        );
        assert!(
            spread.windows(2).all(|w| w[0].weekday != w[1].weekday),
            "{:?}",
            slots_of(&spread)
        );
    }

    #[test]
    fn a_narrow_window_still_gives_three_days() {
        let r = req(
            r#""month":5,"weekday":2,"hour":9,"posting_window":{"start":"07:00","end":"09:00"}"#,
        );
        let best = global(&r, &pred(100.0), &night_peaked_week());
        assert_eq!(best.len(), TOP_N);
        assert!(best.iter().all(|b| (7..=9).contains(&b.hour)));
        let mut days: Vec<u8> = best.iter().map(|b| b.weekday).collect();
        days.sort_unstable();
        days.dedup();
        assert_eq!(days.len(), TOP_N);
    }

    #[test]
    fn weighing_down_the_hour_lets_the_weekday_decide() {
        // Monday's best hour beats Thursday's by its hour effect only;
        // Thursday is the better day on average.
        let slots = week(|d, h| match (d, h) {
            (2, 12) => 300.0,
            (2, _) => 100.0,
            (5, 12) => 220.0,
            (5, _) => 180.0,
            _ => 50.0,
        });
        let r = req(r#""month":5,"weekday":2,"hour":9"#);
        assert_eq!(ranked(&r, &pred(1.0), &slots)[0].weekday, 2);
        assert_eq!(global(&r, &pred(1.0), &slots)[0].weekday, 5);
    }

    #[test]
    fn hours_are_apart_around_the_clock() {
        assert_eq!(hour_distance(23, 1), 2);
        assert_eq!(hour_distance(3, 15), 12);
        assert_eq!(hour_distance(7, 7), 0);
    }
}
