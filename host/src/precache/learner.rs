//! What a client asks next, learned from the request stream.
//!
//! Rules:
//! - A session is one client connection; its last request on a pre-cachable
//!   component is remembered: the component, the request's JSON body, its
//!   `text` and the texts in its JSON answer (by JSON pointer, array indices
//!   written `*`, so `/candidates/0/text` and `/candidates/2/text` are one
//!   pattern).
//! - When the next request of the session arrives, its `text` is compared
//!   with the last one: the same text (`SameText`), or a text the last
//!   answer held (`FromAnswer(pattern)`), or neither (a new text, only
//!   counted in the total). That is one transition from the last request's
//!   state: its component and how its own text arrived (second order), so
//!   "analyze of a new text" (then comes enhance) and "analyze of the text
//!   enhance wrote" (then comes predict) are told apart. Each transition is
//!   also counted for the component alone (first order), which a state seen
//!   less than [`MIN_EVIDENCE`] times falls back to.
//! - Every transition first multiplies all the weights of its source by
//!   [`DECAY`], so what clients did recently outweighs what they did long ago.
//! - After a request, each transition from its component whose weight is at
//!   least [`MIN_SHARE`] of the total, once the total is at least
//!   [`MIN_EVIDENCE`], becomes a prediction: the body last seen on that
//!   transition's target with `text` replaced by the predicted text (the
//!   request's own text, or each answer text under the pattern, at most
//!   [`MAX_FAN_OUT`]).
//!
//! It refrains from predicting: below the evidence or share, for requests
//! without a string `text`, and for answer texts longer than [`MAX_TEXT`].

use bytes::Bytes;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::OnceLock;

/// Weight kept per transition from the same source (half-life ≈ 69).
pub const DECAY: f64 = 0.99;
/// Smallest share of a source's transitions a prediction needs.
pub const MIN_SHARE: f64 = 0.3;
/// Transitions a source needs (decayed total) before it predicts.
pub const MIN_EVIDENCE: f64 = 5.0;
/// Most predictions made from one answer pattern.
pub const MAX_FAN_OUT: usize = 4;
/// Longest text taken from an answer, in bytes.
pub const MAX_TEXT: usize = 8 * 1024;
/// Sessions remembered at most (the oldest are forgotten first).
pub const MAX_SESSIONS: usize = 4096;

/// How the next request's text relates to the previous request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Relation {
    SameText,
    /// A text found in the previous answer under this pointer pattern.
    FromAnswer(String),
}

/// One request as the learner sees it.
#[derive(Debug, Clone)]
pub struct Observation {
    pub session: String,
    pub component: String,
    /// The request path (what a prediction is sent to).
    pub path: String,
    pub body: Value,
    /// The JSON answer, read only when a text in it is looked for.
    pub answer: Bytes,
}

/// An answer, parsed at most once and only when needed: most transitions
/// keep the same text, so most answers are never read.
#[derive(Debug)]
struct Answer {
    raw: Bytes,
    texts: OnceLock<Vec<(String, String)>>,
}

impl Answer {
    fn new(raw: Bytes) -> Self {
        Self {
            raw,
            texts: OnceLock::new(),
        }
    }

    /// Its texts with their pointer patterns (none if it is not JSON).
    fn texts(&self) -> &[(String, String)] {
        self.texts.get_or_init(|| {
            serde_json::from_slice(&self.raw)
                .map(|answer| answer_texts(&answer))
                .unwrap_or_default()
        })
    }
}

/// A request worth computing ahead.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    pub component: String,
    pub path: String,
    pub body: Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Target {
    component: String,
    relation: Relation,
}

#[derive(Debug)]
struct Edge {
    weight: f64,
    path: String,
    /// The body of the last request seen on this transition.
    template: Value,
}

/// How the text of a request related to the request before it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Arrival {
    /// Any way (the first-order state, what a rarely seen state falls back to).
    Any,
    New,
    Related(Relation),
}

/// Where a transition starts: a component, and how its request's text arrived.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct State {
    component: String,
    arrival: Arrival,
}

impl State {
    fn any(&self) -> State {
        State {
            component: self.component.clone(),
            arrival: Arrival::Any,
        }
    }
}

#[derive(Debug, Default)]
struct Source {
    total: f64,
    edges: HashMap<Target, Edge>,
}

impl Source {
    /// One transition to `next`, related as `relation` (`None`: a new text).
    fn count(&mut self, next: &Observation, relation: Option<Relation>) {
        self.total = self.total * DECAY + 1.0;
        for edge in self.edges.values_mut() {
            edge.weight *= DECAY;
        }
        let Some(relation) = relation else {
            return;
        };
        let target = Target {
            component: next.component.clone(),
            relation,
        };
        let edge = self.edges.entry(target).or_insert_with(|| Edge {
            weight: 0.0,
            path: next.path.clone(),
            template: Value::Null,
        });
        edge.weight += 1.0;
        edge.path.clone_from(&next.path);
        edge.template = next.body.clone();
    }
}

/// The previous request of a session.
#[derive(Debug)]
struct Last {
    state: State,
    text: String,
    answer: Answer,
    seen: u64,
}

/// The transition counts and the sessions' last requests.
#[derive(Debug, Default)]
pub struct Learner {
    sources: HashMap<State, Source>,
    sessions: HashMap<String, Last>,
    clock: u64,
}

impl Learner {
    /// Learns from `observation`, then predicts what its session asks next.
    pub fn observe(&mut self, observation: Observation) -> Vec<Prediction> {
        let Some(text) = body_text(&observation.body) else {
            return Vec::new();
        };
        let text = text.to_string();
        let arrival = match self.sessions.remove(&observation.session) {
            Some(last) => {
                let relation = relation(&last, &text);
                self.learn(&last, &observation, relation.clone());
                relation.map_or(Arrival::New, Arrival::Related)
            }
            None => Arrival::New,
        };
        self.clock += 1;
        let state = State {
            component: observation.component,
            arrival,
        };
        let answer = Answer::new(observation.answer);
        let predictions = self.predict(&state, &text, &answer);
        self.remember(
            observation.session,
            Last {
                state,
                text,
                answer,
                seen: self.clock,
            },
        );
        predictions
    }

    /// Counts the transition from both the last request's state and its
    /// first-order state.
    fn learn(&mut self, last: &Last, next: &Observation, relation: Option<Relation>) {
        for state in [last.state.clone(), last.state.any()] {
            let source = self.sources.entry(state).or_default();
            source.count(next, relation.clone());
        }
    }

    fn predict(&self, state: &State, text: &str, answer: &Answer) -> Vec<Prediction> {
        let evidenced = |state: &State| {
            self.sources
                .get(state)
                .filter(|source| source.total >= MIN_EVIDENCE)
        };
        let Some(source) = evidenced(state).or_else(|| evidenced(&state.any())) else {
            return Vec::new();
        };
        let mut predictions = Vec::new();
        for (target, edge) in &source.edges {
            if edge.weight < MIN_SHARE * source.total {
                continue;
            }
            let texts: Vec<&str> = match &target.relation {
                Relation::SameText => vec![text],
                Relation::FromAnswer(pattern) => answer
                    .texts()
                    .iter()
                    .filter(|(p, _)| p == pattern)
                    .map(|(_, t)| t.as_str())
                    .take(MAX_FAN_OUT)
                    .collect(),
            };
            for predicted in texts {
                let mut body = edge.template.clone();
                body["text"] = Value::String(predicted.to_string());
                predictions.push(Prediction {
                    component: target.component.clone(),
                    path: edge.path.clone(),
                    body,
                });
            }
        }
        predictions
    }

    fn remember(&mut self, session: String, last: Last) {
        if self.sessions.len() >= MAX_SESSIONS {
            let oldest = self
                .sessions
                .iter()
                .min_by_key(|(_, last)| last.seen)
                .map(|(session, _)| session.clone());
            if let Some(oldest) = oldest {
                self.sessions.remove(&oldest);
            }
        }
        self.sessions.insert(session, last);
    }
}

/// How `next_text` relates to the session's `last` request, if it does.
fn relation(last: &Last, next_text: &str) -> Option<Relation> {
    if next_text == last.text {
        return Some(Relation::SameText);
    }
    last.answer
        .texts()
        .iter()
        .find(|(_, text)| text == next_text)
        .map(|(pattern, _)| Relation::FromAnswer(pattern.clone()))
}

/// The request's `text`, if it has a non-empty one.
fn body_text(body: &Value) -> Option<&str> {
    body.get("text")?.as_str().filter(|text| !text.is_empty())
}

/// Every string in `answer` that could be a post's text (two words or more,
/// at most [`MAX_TEXT`]), with its pointer pattern.
fn answer_texts(answer: &Value) -> Vec<(String, String)> {
    let mut found = Vec::new();
    collect_texts(answer, &mut String::new(), &mut found);
    found
}

fn collect_texts(value: &Value, pointer: &mut String, found: &mut Vec<(String, String)>) {
    let mark = pointer.len();
    match value {
        Value::String(text) if text.len() <= MAX_TEXT && text.contains(' ') => {
            found.push((pointer.clone(), text.clone()));
        }
        Value::Array(items) => {
            pointer.push_str("/*");
            for item in items {
                collect_texts(item, pointer, found);
            }
        }
        Value::Object(fields) => {
            for (name, item) in fields {
                pointer.push('/');
                pointer.push_str(name);
                collect_texts(item, pointer, found);
                pointer.truncate(mark);
            }
        }
        _ => {}
    }
    pointer.truncate(mark);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn seen(session: &str, component: &str, body: Value, answer: Value) -> Observation {
        Observation {
            session: session.into(),
            component: component.into(),
            path: format!("/api/{component}"),
            body,
            answer: Bytes::from(answer.to_string()),
        }
    }

    /// `n` sessions doing analyze(t) → enhance(t) → analyze(enhanced),
    /// then predict(enhanced) if `predict` is given (its other fields).
    fn sessions(learner: &mut Learner, n: usize, predict: Option<Value>) {
        for i in 0..n {
            let session = format!("s{i}");
            let text = format!("post number {i}");
            let enhanced = format!("a better post number {i}");
            learner.observe(seen(
                &session,
                "analyze",
                json!({ "text": text }),
                json!({}),
            ));
            learner.observe(seen(
                &session,
                "enhance",
                json!({ "text": text, "tone": "friendly" }),
                json!({ "enhanced": { "text": enhanced } }),
            ));
            learner.observe(seen(
                &session,
                "analyze",
                json!({ "text": enhanced }),
                json!({}),
            ));
            if let Some(mut body) = predict.clone() {
                body["text"] = json!(enhanced);
                learner.observe(seen(&session, "predict", body, json!({})));
            }
        }
    }

    fn train(learner: &mut Learner, n: usize) {
        sessions(learner, n, None);
    }

    #[test]
    fn nothing_is_predicted_before_enough_evidence() {
        let mut learner = Learner::default();
        train(&mut learner, 1);
        let next = learner.observe(seen("new", "analyze", json!({ "text": "x y" }), json!({})));
        assert_eq!(next, Vec::new());
    }

    #[test]
    fn after_analyze_comes_enhance_of_the_same_text_with_the_last_options() {
        let mut learner = Learner::default();
        train(&mut learner, 10);
        let next = learner.observe(seen(
            "new",
            "analyze",
            json!({ "text": "fresh post" }),
            json!({}),
        ));
        assert_eq!(
            next,
            vec![Prediction {
                component: "enhance".into(),
                path: "/api/enhance".into(),
                body: json!({ "text": "fresh post", "tone": "friendly" }),
            }]
        );
    }

    #[test]
    fn after_enhance_comes_analyze_of_the_text_its_answer_held() {
        let mut learner = Learner::default();
        train(&mut learner, 10);
        let next = learner.observe(seen(
            "new",
            "enhance",
            json!({ "text": "fresh post" }),
            json!({ "enhanced": { "text": "fresher post!" }, "note": "a long note here" }),
        ));
        assert_eq!(next.len(), 1, "{next:?}");
        assert_eq!(next[0].component, "analyze");
        assert_eq!(next[0].body, json!({ "text": "fresher post!" }));
    }

    #[test]
    fn analyze_of_a_new_text_and_of_an_enhanced_one_predict_different_next_steps() {
        let mut learner = Learner::default();
        sessions(&mut learner, 10, Some(json!({ "page_likes": 9 })));
        let fresh = learner.observe(seen(
            "new",
            "analyze",
            json!({ "text": "fresh post" }),
            json!({}),
        ));
        let components: Vec<_> = fresh.iter().map(|p| p.component.as_str()).collect();
        assert_eq!(components, ["enhance"]);

        let answer = json!({ "enhanced": { "text": "fresher post!" } });
        learner.observe(seen(
            "new",
            "enhance",
            json!({ "text": "fresh post" }),
            answer,
        ));
        let enhanced = learner.observe(seen(
            "new",
            "analyze",
            json!({ "text": "fresher post!" }),
            json!({}),
        ));
        assert_eq!(
            enhanced,
            vec![Prediction {
                component: "predict".into(),
                path: "/api/predict".into(),
                body: json!({ "text": "fresher post!", "page_likes": 9 }),
            }]
        );
    }

    #[test]
    fn texts_in_an_array_share_one_pattern_and_fan_out() {
        let mut learner = Learner::default();
        for i in 0..10 {
            let session = format!("s{i}");
            let answer =
                json!({ "candidates": [{ "text": "first one" }, { "text": "second one" }] });
            learner.observe(seen(
                &session,
                "generate",
                json!({ "text": "brief here" }),
                answer,
            ));
            learner.observe(seen(
                &session,
                "analyze",
                json!({ "text": "second one" }),
                json!({}),
            ));
        }
        let answer = json!({ "candidates": [{ "text": "new a" }, { "text": "new b" }, { "text": "new c" }] });
        let next = learner.observe(seen(
            "new",
            "generate",
            json!({ "text": "brief x" }),
            answer,
        ));
        let texts: Vec<_> = next.iter().map(|p| p.body["text"].clone()).collect();
        assert_eq!(texts, vec![json!("new a"), json!("new b"), json!("new c")]);
    }

    #[test]
    fn a_habit_that_stopped_fades_below_the_share() {
        let mut learner = Learner::default();
        train(&mut learner, 10);
        // Then clients stop enhancing after analyze: they analyze unrelated texts.
        for i in 0..200 {
            let session = format!("t{i}");
            learner.observe(seen(
                &session,
                "analyze",
                json!({ "text": "one post" }),
                json!({}),
            ));
            learner.observe(seen(
                &session,
                "analyze",
                json!({ "text": "other post" }),
                json!({}),
            ));
        }
        let next = learner.observe(seen(
            "new",
            "analyze",
            json!({ "text": "fresh post" }),
            json!({}),
        ));
        assert_eq!(next, Vec::new());
    }

    #[test]
    fn a_request_without_text_is_not_learned_from() {
        let mut learner = Learner::default();
        train(&mut learner, 10);
        let next = learner.observe(seen("s1", "analyze", json!({ "page": 1 }), json!({})));
        assert_eq!(next, Vec::new());
    }

    #[test]
    fn the_oldest_session_is_forgotten_at_the_bound() {
        let mut learner = Learner::default();
        for i in 0..=MAX_SESSIONS {
            learner.observe(seen(
                &format!("s{i}"),
                "analyze",
                json!({ "text": "a b" }),
                json!({}),
            ));
        }
        assert_eq!(learner.sessions.len(), MAX_SESSIONS);
        assert!(!learner.sessions.contains_key("s0"));
    }
}
