//! Optimization triggers from published outcomes: what the `suggestions`
//! consumer makes of each `post.published` event, and what
//! `GET /api/analytics/suggestions` shows.
//!
//! - A post whose observed interactions fall below the forecast's p10 for
//!   its context (the global model's, as `feedback` computed it) gets a
//!   [`Suggestion`]: by how much it missed, why — the weakest signals of its
//!   text's analysis, when the outcome carried the text — and what to try
//!   next (the analysis' own suggestions, most impactful first).
//! - Each page has a [`Streak`] of published posts in a row below p10; the
//!   third one raises a [`BusinessAlert`] ("engagement of page X three
//!   posts in a row below p10"), which stays active, its count growing,
//!   until a post of the page reaches p10 again.
//!
//! Keys (`default` store): `suggestions/post/<page>/<event id>` and
//! `suggestions/streak/<page>` (changed with `apply_once`, so a replayed
//! event is counted once).

use crate::events::Event;
use fbposts_core::Analysis;
use serde::{Deserialize, Serialize};

/// Where suggestions live.
pub const POST_PREFIX: &str = "suggestions/post/";
/// Where each page's streak lives.
pub const STREAK_PREFIX: &str = "suggestions/streak/";
/// Posts in a row below p10 that raise a business alert.
pub const STREAK_ALERT_AT: u32 = 3;
/// Weak signals named in a suggestion's `why` (those scoring under 0.5).
const WEAK_SIGNALS_SHOWN: usize = 3;
/// Analysis suggestions carried into `try_next`.
const TRIES_SHOWN: usize = 3;

/// What a `post.published` event says about one post.
#[derive(Debug, Clone, PartialEq)]
pub struct Published {
    pub page_id: String,
    pub post_type: String,
    pub observed: f64,
    pub predicted_p10: f64,
    pub predicted_p50: f64,
    pub text: Option<String>,
}

impl Published {
    /// Reads the event; `Err` names what is missing.
    pub fn from_event(event: &Event) -> Result<Published, String> {
        let number = |field: &str| event.number(field);
        let text = |field: &str| {
            event
                .text(field)
                .filter(|s| !s.trim().is_empty())
                .map(str::to_string)
        };
        Ok(Published {
            page_id: text("page_id").ok_or_else(|| format!("{}: no 'page_id'", event.id))?,
            post_type: text("post_type").unwrap_or_else(|| "unspecified".into()),
            observed: number("observed_interactions")?,
            predicted_p10: number("predicted_p10_interactions")?,
            predicted_p50: number("predicted_interactions")?,
            text: text("text"),
        })
    }

    /// Whether the outcome fell short of the forecast's p10.
    pub fn below_p10(&self) -> bool {
        self.observed < self.predicted_p10
    }

    /// The key of this event's suggestion.
    pub fn suggestion_key(&self, event_id: &str) -> String {
        format!("{POST_PREFIX}{}/{event_id}", self.page_id)
    }

    pub fn streak_key(&self) -> String {
        format!("{STREAK_PREFIX}{}", self.page_id)
    }
}

/// Why one post fell short and what to try.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    pub event_id: String,
    pub page_id: String,
    pub post_type: String,
    pub at_ms: u64,
    pub observed_interactions: f64,
    pub predicted_p10_interactions: f64,
    pub predicted_interactions: f64,
    /// Observed over the forecast's p50.
    pub observed_over_predicted: f64,
    pub why: Vec<String>,
    pub try_next: Vec<String>,
}

/// The suggestion for a post below p10; `analysis` is its text's, when the
/// outcome carried the text.
pub fn suggestion(event: &Event, post: &Published, analysis: Option<&Analysis>) -> Suggestion {
    let mut why = vec![format!(
        "{} interactions, below the forecast's p10 of {} for a {} post of this page's size (p50 {})",
        post.observed.round(),
        post.predicted_p10.round(),
        post.post_type,
        post.predicted_p50.round()
    )];
    let mut try_next = Vec::new();
    match analysis {
        Some(analysis) => {
            let mut weak: Vec<_> = analysis
                .breakdown
                .iter()
                .filter(|s| s.score < 0.5)
                .collect();
            weak.sort_by(|a, b| a.score.total_cmp(&b.score));
            why.extend(
                weak.iter()
                    .take(WEAK_SIGNALS_SHOWN)
                    .map(|s| format!("weak {} ({:.2}): {}", s.name, s.score, s.detail)),
            );
            if weak.is_empty() {
                why.push(format!(
                    "the text itself scores {:.2} ({}): look at timing and audience rather than wording",
                    analysis.score, analysis.grade
                ));
            }
            try_next.extend(analysis.suggestions.iter().take(TRIES_SHOWN).cloned());
        }
        None => why
            .push("the outcome came without the post's text, so the text was not analysed".into()),
    }
    if try_next.is_empty() {
        try_next.push(format!(
            "compare with this page's posts that reached their p50 (GET /api/analytics/summary?page={})",
            post.page_id
        ));
    }
    Suggestion {
        event_id: event.id.clone(),
        page_id: post.page_id.clone(),
        post_type: post.post_type.clone(),
        at_ms: event.at_ms,
        observed_interactions: post.observed,
        predicted_p10_interactions: post.predicted_p10,
        predicted_interactions: post.predicted_p50,
        observed_over_predicted: if post.predicted_p50 > 0.0 {
            (post.observed / post.predicted_p50 * 1000.0).round() / 1000.0
        } else {
            0.0
        },
        why,
        try_next,
    }
}

/// "Engagement of page X, N posts in a row below p10."
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BusinessAlert {
    pub page_id: String,
    pub posts_below_p10: u32,
    /// When the first post of the streak was published (its event's time).
    pub since_ms: u64,
    pub fired_at_ms: u64,
    pub message: String,
}

/// A page's posts in a row below p10, and its alert while it lasts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Streak {
    pub below: u32,
    pub since_ms: Option<u64>,
    pub alert: Option<BusinessAlert>,
}

impl Streak {
    /// The streak after one more published post of `page_id`.
    pub fn after(mut self, page_id: &str, below_p10: bool, at_ms: u64) -> Streak {
        if !below_p10 {
            self.below = 0;
            self.since_ms = None;
            self.alert = None;
            return self;
        }
        self.below += 1;
        let since_ms = *self.since_ms.get_or_insert(at_ms);
        if self.below >= STREAK_ALERT_AT {
            let fired_at_ms = self.alert.as_ref().map_or(at_ms, |a| a.fired_at_ms);
            self.alert = Some(BusinessAlert {
                page_id: page_id.to_string(),
                posts_below_p10: self.below,
                since_ms,
                fired_at_ms,
                message: format!(
                    "engagement of page {page_id}: {} posts in a row below the forecast's p10",
                    self.below
                ),
            });
        }
        self
    }

    /// The bytes after one post (an unreadable value starts over;
    /// `apply_once` keeps the applied event ids beside these fields).
    pub fn apply(current: Option<&[u8]>, page_id: &str, below_p10: bool, at_ms: u64) -> Vec<u8> {
        let streak: Streak = current
            .and_then(|bytes| serde_json::from_slice(bytes).ok())
            .unwrap_or_default();
        serde_json::to_vec(&streak.after(page_id, below_p10, at_ms)).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fbposts_core::{AnalyzeRequest, analyze};

    fn event(observed: f64, text: Option<&str>) -> Event {
        Event {
            id: "fb-1".into(),
            kind: "post.published".into(),
            at_ms: 1_000,
            data: serde_json::json!({
                "page_id": "bakery", "post_type": "photo",
                "observed_interactions": observed,
                "predicted_interactions": 120.0,
                "predicted_p10_interactions": 40.0,
                "text": text,
            }),
        }
    }

    #[test]
    fn an_outcome_below_p10_says_why_from_the_weakest_signals_and_what_to_try() {
        let event = event(12.0, Some("ok"));
        let post = Published::from_event(&event).unwrap();
        assert!(post.below_p10());
        let request = AnalyzeRequest {
            text: "ok".into(),
            language: None,
            post_type: None,
            audience: None,
            tone: None,
        };
        let analysis = analyze(&request);
        let s = suggestion(&event, &post, Some(&analysis));
        assert!(
            s.why[0].starts_with("12 interactions, below the forecast's p10 of 40"),
            "{:?}",
            s.why
        );
        assert!(
            s.why.len() > 1 && s.why[1].starts_with("weak "),
            "{:?}",
            s.why
        );
        assert_eq!(
            s.try_next,
            analysis.suggestions[..TRIES_SHOWN.min(analysis.suggestions.len())]
        );
        assert_eq!(s.observed_over_predicted, 0.1);
    }

    #[test]
    fn without_the_text_the_suggestion_says_it_was_not_analysed() {
        let event = event(12.0, None);
        let post = Published::from_event(&event).unwrap();
        let s = suggestion(&event, &post, None);
        assert!(s.why[1].contains("without the post's text"));
        assert!(s.try_next[0].contains("summary?page=bakery"));
    }

    #[test]
    fn an_event_without_the_p10_is_not_read() {
        let mut event = event(12.0, None);
        event
            .data
            .as_object_mut()
            .unwrap()
            .remove("predicted_p10_interactions");
        assert!(
            Published::from_event(&event)
                .unwrap_err()
                .contains("predicted_p10")
        );
    }

    #[test]
    fn the_third_post_in_a_row_below_p10_raises_an_alert_and_a_good_post_clears_it() {
        let mut streak = Streak::default();
        for at in [10, 20] {
            streak = streak.after("bakery", true, at);
            assert_eq!(streak.alert, None);
        }
        streak = streak.after("bakery", true, 30);
        let alert = streak.alert.clone().expect("an alert at the third");
        assert_eq!(
            (alert.posts_below_p10, alert.since_ms, alert.fired_at_ms),
            (3, 10, 30)
        );
        assert!(alert.message.contains("page bakery: 3 posts in a row"));
        streak = streak.after("bakery", true, 40);
        let alert = streak.alert.clone().unwrap();
        assert_eq!((alert.posts_below_p10, alert.fired_at_ms), (4, 30));
        streak = streak.after("bakery", false, 50);
        assert_eq!((streak.below, streak.alert), (0, None));
    }

    #[test]
    fn a_post_at_p10_breaks_the_streak() {
        let streak = Streak::default()
            .after("p", true, 1)
            .after("p", true, 2)
            .after("p", false, 3)
            .after("p", true, 4);
        assert_eq!((streak.below, streak.since_ms), (1, Some(4)));
        assert_eq!(streak.alert, None);
    }
}
