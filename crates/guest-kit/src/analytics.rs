//! The analytics aggregates: what the `analytics` consumer adds up from the
//! events ([`crate::events`]) and what `GET /api/analytics/summary` shows.
//!
//! Each event lands in exactly one bucket, `analytics/<hour>/<post type>/<page>`
//! (`hour`: the UTC hour of the event, in seconds since the Unix epoch;
//! `page` last, so it may hold `/`), a [`Tally`] of counts and sums. The
//! consumer changes a bucket with [`crate::state::StateStore::apply_once`],
//! so an event delivered twice (a replay) is counted once. The summary adds
//! the buckets at or after `since` (and of one page, if asked) into totals
//! and views per page, per post type, per hour of day and per hour.
//!
//! A/B variants: an event that names the variant of the candidate it is
//! about — `post.published` (`variant`, from the candidate the feedback
//! credits) and `post.generated` (`variants`, one per candidate) — is also
//! counted in `analytics-variant/<hour>/<variant>/<page>` ([`by_variant`]),
//! which the summary adds up into `by_variant`: per variant, the calls that
//! offered it, its published posts and their observed vs predicted
//! interactions.

use crate::events::Event;
use fbposts_core::ApiError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where the buckets live.
pub const PREFIX: &str = "analytics/";
/// Where the per-variant buckets live.
pub const VARIANT_PREFIX: &str = "analytics-variant/";
/// What both kinds of bucket keys start with (one listing reads both).
pub const ANY_PREFIX: &str = "analytics";
/// The page of an event that names none (e.g. an analysis of loose text).
pub const NO_PAGE: &str = "-";

/// The counts and sums of one bucket (or of many, added up).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tally {
    pub analyzed: u64,
    pub score_sum: f64,
    pub published: u64,
    pub observed_sum: f64,
    pub predicted_sum: f64,
    #[serde(default)]
    pub enhanced: u64,
    #[serde(default)]
    pub generated: u64,
    #[serde(default)]
    pub predicted: u64,
    /// Analyses per score tenth: `[0] = [0, 0.1)`, …, `[9] = [0.9, 1]`.
    #[serde(default)]
    pub score_bins: [u64; SCORE_BINS],
}

/// Bins of the score distribution.
pub const SCORE_BINS: usize = 10;

/// The bin of a score in `[0, 1]` (outside values go to the end bins).
fn score_bin(score: f64) -> usize {
    ((score * SCORE_BINS as f64).floor().max(0.0) as usize).min(SCORE_BINS - 1)
}

impl Tally {
    fn add(&mut self, fact: Fact) {
        match fact {
            Fact::Analyzed { score } => {
                self.analyzed += 1;
                self.score_sum += score;
                self.score_bins[score_bin(score)] += 1;
            }
            Fact::Published {
                observed,
                predicted,
            } => {
                self.published += 1;
                self.observed_sum += observed;
                self.predicted_sum += predicted;
            }
            Fact::Enhanced => self.enhanced += 1,
            Fact::Generated => self.generated += 1,
            Fact::Predicted => self.predicted += 1,
        }
    }

    fn merge(&mut self, other: &Tally) {
        self.analyzed += other.analyzed;
        self.score_sum += other.score_sum;
        for (bin, n) in self.score_bins.iter_mut().zip(other.score_bins) {
            *bin += n;
        }
        self.published += other.published;
        self.observed_sum += other.observed_sum;
        self.predicted_sum += other.predicted_sum;
        self.enhanced += other.enhanced;
        self.generated += other.generated;
        self.predicted += other.predicted;
    }

    /// The bucket's bytes after `fact` (an unreadable bucket starts over).
    pub fn apply(current: Option<&[u8]>, fact: Fact) -> Vec<u8> {
        let mut tally = current
            .and_then(|bytes| serde_json::from_slice::<Tally>(bytes).ok())
            .unwrap_or_default();
        tally.add(fact);
        serde_json::to_vec(&tally).unwrap_or_default()
    }

    fn view(&self) -> TallyView {
        let mean = |sum: f64, n: u64| (n > 0).then(|| round(sum / n as f64));
        TallyView {
            analyzed: self.analyzed,
            mean_score: mean(self.score_sum, self.analyzed),
            score_histogram: self.score_bins,
            published: self.published,
            mean_observed_interactions: mean(self.observed_sum, self.published),
            mean_predicted_interactions: mean(self.predicted_sum, self.published),
            observed_over_predicted: (self.predicted_sum > 0.0)
                .then(|| round(self.observed_sum / self.predicted_sum)),
            enhanced: self.enhanced,
            generated: self.generated,
            predicted: self.predicted,
        }
    }
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// What one event adds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fact {
    Analyzed { score: f64 },
    Published { observed: f64, predicted: f64 },
    Enhanced,
    Generated,
    Predicted,
}

/// Where an event is counted and what it adds.
#[derive(Debug, Clone, PartialEq)]
pub struct Counted {
    pub key: String,
    pub fact: Fact,
}

/// Reads an event; `Err` names what is missing (the event is skipped).
pub fn counted(event: &Event) -> Result<Counted, String> {
    let number = |field: &str| event.number(field);
    let fact = match event.kind.as_str() {
        "post.analyzed" => Fact::Analyzed {
            score: number("score")?,
        },
        "post.published" => Fact::Published {
            observed: number("observed_interactions")?,
            predicted: number("predicted_interactions")?,
        },
        "post.enhanced" => Fact::Enhanced,
        "post.generated" => Fact::Generated,
        "post.predicted" => Fact::Predicted,
        other => return Err(format!("event {}: unknown type '{other}'", event.id)),
    };
    let text = |field: &str, absent: &str| event.text(field).unwrap_or(absent).to_string();
    let post_type = text("post_type", "unspecified").replace('/', "_");
    let hour = event.at_ms / 3_600_000 * 3600;
    Ok(Counted {
        key: format!("{PREFIX}{hour}/{post_type}/{}", text("page_id", NO_PAGE)),
        fact,
    })
}

/// The per-variant buckets an event also counts in (none for most events).
pub fn by_variant(event: &Event) -> Vec<Counted> {
    let data = &event.data;
    let page = event.text("page_id").unwrap_or(NO_PAGE);
    let hour = event.at_ms / 3_600_000 * 3600;
    let key = |variant: &str| {
        format!(
            "{VARIANT_PREFIX}{hour}/{}/{page}",
            variant.replace('/', "_")
        )
    };
    match event.kind.as_str() {
        "post.published" => {
            let variant = event.text("variant");
            let fact = counted(event).ok().map(|c| c.fact);
            match (variant, fact) {
                (Some(variant), Some(fact)) if !variant.is_empty() => vec![Counted {
                    key: key(variant),
                    fact,
                }],
                _ => Vec::new(),
            }
        }
        "post.generated" => {
            let mut variants: Vec<&str> = data
                .get("variants")
                .and_then(serde_json::Value::as_array)
                .map(|list| list.iter().filter_map(serde_json::Value::as_str).collect())
                .unwrap_or_default();
            variants.sort_unstable();
            variants.dedup();
            variants
                .into_iter()
                .filter(|v| !v.is_empty())
                .map(|variant| Counted {
                    key: key(variant),
                    fact: Fact::Generated,
                })
                .collect()
        }
        _ => Vec::new(),
    }
}

/// Which buckets a summary adds up.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub page: Option<String>,
    /// Seconds since the Unix epoch; buckets of hours ending before it are left out.
    pub since: Option<u64>,
}

impl Filter {
    /// `page` and `since` (seconds since the Unix epoch, or RFC 3339) from
    /// a query string; anything else is 400 `invalid_query`.
    pub fn from_query(query: &str) -> Result<Filter, ApiError> {
        let mut filter = Filter::default();
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            match key.as_ref() {
                "page" => filter.page = Some(value.into_owned()),
                "since" => filter.since = Some(parse_since(&value)?),
                other => {
                    return Err(invalid_query(format!(
                        "unknown query parameter '{other}'; use 'page' and/or 'since'"
                    )));
                }
            }
        }
        Ok(filter)
    }
}

fn invalid_query(message: String) -> ApiError {
    ApiError::new(400, "invalid_query", message)
}

fn parse_since(value: &str) -> Result<u64, ApiError> {
    if let Ok(seconds) = value.parse::<u64>() {
        return Ok(seconds);
    }
    time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339)
        .ok()
        .and_then(|t| u64::try_from(t.unix_timestamp()).ok())
        .ok_or_else(|| {
            invalid_query(format!(
                "'since' must be seconds since the Unix epoch or an RFC 3339 time, not '{value}'"
            ))
        })
}

/// A bucket key's parts.
#[derive(Debug, Clone, PartialEq)]
struct BucketKey<'a> {
    hour: u64,
    post_type: &'a str,
    page: &'a str,
}

/// A bucket key's parts; `post_type` is the variant in a variant bucket.
fn parse_key(key: &str) -> Option<(BucketKey<'_>, bool)> {
    let (rest, is_variant) = match key.strip_prefix(VARIANT_PREFIX) {
        Some(rest) => (rest, true),
        None => (key.strip_prefix(PREFIX)?, false),
    };
    let mut parts = rest.splitn(3, '/');
    let bucket = BucketKey {
        hour: parts.next()?.parse().ok()?,
        post_type: parts.next()?,
        page: parts.next()?,
    };
    Some((bucket, is_variant))
}

/// A tally as shown: counts, means and the observed/predicted ratio.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TallyView {
    pub analyzed: u64,
    pub mean_score: Option<f64>,
    /// Analyses per score tenth (see [`Tally::score_bins`]).
    pub score_histogram: [u64; SCORE_BINS],
    pub published: u64,
    pub mean_observed_interactions: Option<f64>,
    pub mean_predicted_interactions: Option<f64>,
    pub observed_over_predicted: Option<f64>,
    pub enhanced: u64,
    pub generated: u64,
    pub predicted: u64,
}

/// `GET /api/analytics/summary`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub page: Option<String>,
    pub since: Option<u64>,
    pub totals: TallyView,
    pub by_page: BTreeMap<String, TallyView>,
    pub by_post_type: BTreeMap<String, TallyView>,
    /// By UTC hour of day, `"00"`..`"23"`.
    pub by_hour_of_day: BTreeMap<String, TallyView>,
    /// By hour (its start, seconds since the Unix epoch).
    pub by_hour: BTreeMap<u64, TallyView>,
    /// By A/B variant: `generated` (calls that offered it), `published`
    /// and observed vs predicted interactions (see [`by_variant`]).
    pub by_variant: BTreeMap<String, TallyView>,
}

/// Adds up the buckets `filter` selects.
pub fn summarize<'a>(
    buckets: impl IntoIterator<Item = (&'a str, Tally)>,
    filter: &Filter,
) -> Summary {
    let mut totals = Tally::default();
    let mut by_page: BTreeMap<String, Tally> = BTreeMap::new();
    let mut by_post_type: BTreeMap<String, Tally> = BTreeMap::new();
    let mut by_hour_of_day: BTreeMap<String, Tally> = BTreeMap::new();
    let mut by_hour: BTreeMap<u64, Tally> = BTreeMap::new();
    let mut by_variant: BTreeMap<String, Tally> = BTreeMap::new();
    for (key, tally) in buckets {
        let Some((bucket, is_variant)) = parse_key(key) else {
            continue;
        };
        if filter
            .page
            .as_deref()
            .is_some_and(|page| page != bucket.page)
            || filter
                .since
                .is_some_and(|since| bucket.hour + 3600 <= since)
        {
            continue;
        }
        if is_variant {
            by_variant
                .entry(bucket.post_type.into())
                .or_default()
                .merge(&tally);
            continue;
        }
        totals.merge(&tally);
        by_page.entry(bucket.page.into()).or_default().merge(&tally);
        by_post_type
            .entry(bucket.post_type.into())
            .or_default()
            .merge(&tally);
        by_hour_of_day
            .entry(format!("{:02}", bucket.hour / 3600 % 24))
            .or_default()
            .merge(&tally);
        by_hour.entry(bucket.hour).or_default().merge(&tally);
    }
    let views =
        |map: BTreeMap<String, Tally>| map.into_iter().map(|(k, t)| (k, t.view())).collect();
    Summary {
        page: filter.page.clone(),
        since: filter.since,
        totals: totals.view(),
        by_page: views(by_page),
        by_post_type: views(by_post_type),
        by_hour_of_day: views(by_hour_of_day),
        by_hour: by_hour.into_iter().map(|(k, t)| (k, t.view())).collect(),
        by_variant: views(by_variant),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(kind: &str, at_ms: u64, data: serde_json::Value) -> Event {
        Event {
            id: "e-1".into(),
            kind: kind.into(),
            at_ms,
            data,
        }
    }

    #[test]
    fn an_analyzed_event_counts_in_its_hour_type_and_page_bucket() {
        let c = counted(&event(
            "post.analyzed",
            7_200_500,
            json!({"score": 0.8, "post_type": "photo", "page_id": "bakery/es"}),
        ))
        .unwrap();
        assert_eq!(c.key, "analytics/7200/photo/bakery/es");
        assert_eq!(c.fact, Fact::Analyzed { score: 0.8 });
    }

    #[test]
    fn a_published_candidate_and_a_generation_count_per_variant_apart_from_the_totals() {
        let published = event(
            "post.published",
            3_600_000,
            json!({"page_id": "p", "observed_interactions": 30.0, "predicted_interactions": 60.0,
                   "variant": "question-hook/cta-end"}),
        );
        let generated = event(
            "post.generated",
            3_600_000,
            json!({"page_id": "p", "variants": ["question-hook/cta-end", "number-hook", "number-hook"]}),
        );
        let mut buckets: Vec<(String, Tally)> = Vec::new();
        for e in [&published, &generated] {
            for c in by_variant(e).into_iter().chain(counted(e).ok()) {
                let bytes = Tally::apply(None, c.fact);
                buckets.push((c.key, serde_json::from_slice(&bytes).unwrap()));
            }
        }
        assert!(
            buckets
                .iter()
                .any(|(k, _)| k == "analytics-variant/3600/question-hook_cta-end/p")
        );
        let summary = summarize(
            buckets.iter().map(|(k, t)| (k.as_str(), t.clone())),
            &Filter::default(),
        );
        let question = &summary.by_variant["question-hook_cta-end"];
        assert_eq!((question.generated, question.published), (1, 1));
        assert_eq!(question.observed_over_predicted, Some(0.5));
        assert_eq!(
            summary.by_variant["number-hook"].generated, 1,
            "one call, counted once"
        );
        assert_eq!((summary.totals.generated, summary.totals.published), (1, 1));
        assert!(by_variant(&event("post.analyzed", 0, json!({"score": 0.5}))).is_empty());
    }

    #[test]
    fn analyses_fill_the_score_histogram_by_tenths() {
        let mut tally = Tally::default();
        for score in [0.0, 0.05, 0.55, 0.999, 1.0] {
            tally.add(Fact::Analyzed { score });
        }
        let mut expected = [0; SCORE_BINS];
        expected[0] = 2;
        expected[5] = 1;
        expected[9] = 2;
        assert_eq!(tally.view().score_histogram, expected);
        let mut merged = Tally::default();
        merged.merge(&tally);
        merged.merge(&tally);
        assert_eq!(merged.score_bins[9], 4);
        let old: Tally = serde_json::from_str(
            r#"{"analyzed":1,"score_sum":0.5,"published":0,"observed_sum":0,"predicted_sum":0}"#,
        )
        .unwrap();
        assert_eq!(
            old.score_bins, [0; SCORE_BINS],
            "buckets from before the histogram still read"
        );
    }

    #[test]
    fn enhanced_generated_and_predicted_events_are_counted() {
        let mut tally = Tally::default();
        for kind in [
            "post.enhanced",
            "post.generated",
            "post.predicted",
            "post.predicted",
        ] {
            let c = counted(&event(kind, 0, json!({"page_id": "p"}))).unwrap();
            assert_eq!(c.key, "analytics/0/unspecified/p");
            tally.add(c.fact);
        }
        let view = tally.view();
        assert_eq!((view.enhanced, view.generated, view.predicted), (1, 1, 2));
        assert_eq!(view.analyzed, 0);
    }

    #[test]
    fn an_event_without_page_or_type_goes_to_the_placeholders() {
        let c = counted(&event("post.analyzed", 0, json!({"score": 0.5}))).unwrap();
        assert_eq!(c.key, "analytics/0/unspecified/-");
    }

    #[test]
    fn an_event_missing_its_numbers_or_of_an_unknown_type_is_refused() {
        assert!(
            counted(&event(
                "post.published",
                0,
                json!({"observed_interactions": 3})
            ))
            .is_err()
        );
        assert!(counted(&event("post.exploded", 0, json!({}))).is_err());
    }

    #[test]
    fn the_summary_adds_buckets_and_filters_by_page_and_since() {
        let mut a = Tally::default();
        a.add(Fact::Analyzed { score: 0.6 });
        a.add(Fact::Analyzed { score: 0.8 });
        let mut b = Tally::default();
        b.add(Fact::Published {
            observed: 30.0,
            predicted: 20.0,
        });
        let buckets = vec![
            ("analytics/3600/photo/p1", a.clone()),
            ("analytics/7200/photo/p2", b.clone()),
            ("not-a-bucket", a.clone()),
        ];
        let all = summarize(buckets.clone(), &Filter::default());
        assert_eq!(all.totals.analyzed, 2);
        assert_eq!(all.totals.mean_score, Some(0.7));
        assert_eq!(all.totals.published, 1);
        assert_eq!(all.totals.observed_over_predicted, Some(1.5));
        assert_eq!(all.by_page.len(), 2);
        assert_eq!(all.by_post_type["photo"].analyzed, 2);
        assert_eq!(all.by_hour_of_day["01"].analyzed, 2);
        let p2 = summarize(
            buckets.clone(),
            &Filter {
                page: Some("p2".into()),
                since: None,
            },
        );
        assert_eq!(p2.totals.analyzed, 0);
        assert_eq!(p2.totals.published, 1);
        let late = summarize(
            buckets,
            &Filter {
                page: None,
                since: Some(7200),
            },
        );
        assert_eq!(late.totals.analyzed, 0);
        assert_eq!(late.totals.published, 1);
    }

    #[test]
    fn page_and_since_are_read_from_the_query_and_decoded() {
        let f = Filter::from_query("page=caf%C3%A9+bar&since=2026-12-01T20:00:00Z").unwrap();
        assert_eq!(f.page.as_deref(), Some("café bar"));
        assert_eq!(f.since, Some(1_796_155_200));
        assert_eq!(Filter::from_query("since=60").unwrap().since, Some(60));
        assert_eq!(Filter::from_query("").unwrap(), Filter::default());
    }

    #[test]
    fn a_bad_since_or_an_unknown_parameter_is_invalid_query() {
        for query in ["since=yesterday", "pages=x", "since=-5"] {
            let err = Filter::from_query(query).unwrap_err();
            assert_eq!((err.status, err.code), (400, "invalid_query"), "{query}");
        }
    }

    #[test]
    fn applying_to_an_unreadable_bucket_starts_it_over() {
        let bytes = Tally::apply(Some(b"garbage"), Fact::Analyzed { score: 1.0 });
        let tally: Tally = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(tally.analyzed, 1);
    }
}
