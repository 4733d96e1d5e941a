//! Predictive pre-caching: answers computed ahead of the request that asks
//! for them, off the request path, so that request is a cache hit.
//!
//! Which components: those whose `[component.X.tool.fbposts]` says
//! `precache = true` — a promise that a request to it is pure (no effect but
//! its cached answer), so replaying a guessed one is safe. Their answered
//! POSTs (status 200, JSON, at most [`MAX_OBSERVED_BYTES`]) are handed, body
//! and answer, to one worker task through a bounded queue (full: dropped,
//! never waited for), which it drains in batches while requests keep
//! coming (one wake-up per [`BATCH_INTERVAL`], not one per request). The
//! worker learns what sessions ask next ([`learner`]) and replays each
//! prediction through the component's
//! handler (not through the listener: no admission slot, no request log,
//! no request metrics), marked with [`COMPUTED_AHEAD_HEADER`]; the
//! component stores the answer in the cache as for any request, and
//! publishes no event for it.
//!
//! It never slows the foreground on purpose:
//! - the worker (learning, deciding) is a thread of its own at the lowest
//!   priority (`nice 19`, which Linux applies per thread), so on a busy
//!   core the request path preempts it; only the replays themselves run on
//!   the serving runtime;
//! - a replay starts only when no foreground request is running (it waits
//!   up to [`IDLE_WAIT`] for that, then refrains);
//! - learning and replays together spend at most `cpu_share` of one core
//!   ([`budget`]): learning is charged the worker thread's CPU time, a
//!   replay the time it ran on the serving runtime (neither counts the time
//!   the low-priority worker waited for a core); an observation that
//!   arrives while the budget is spent is dropped unread;
//! - a prediction replayed in the last [`RECENT_TTL`], or equal to the
//!   request just answered, is not replayed again.

pub mod budget;
pub mod learner;

use budget::Budget;
use bytes::Bytes;
use learner::{Learner, Observation, Prediction};
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// The header a replay carries, so the component publishes no event for an
/// answer nobody asked for (`fbposts-guest-kit`'s `computed_ahead`); the
/// host removes it from every client's request.
pub const COMPUTED_AHEAD_HEADER: &str = "fbposts-precache";

/// Largest answer (and body) observed; bigger ones are served untouched.
pub const MAX_OBSERVED_BYTES: usize = 256 * 1024;
/// Observations waiting for the worker at most.
const QUEUE: usize = 64;
/// While observations keep arriving, the worker takes them in batches this
/// often rather than being woken for each: a wake-up is a context switch on
/// the core that serves the requests (measured: 2.4 more switches and about
/// 27 µs more CPU per `/api/analyze` cache hit at c=1 when woken each time).
/// At most `QUEUE` observations wait meanwhile (beyond that they are dropped).
const BATCH_INTERVAL: Duration = Duration::from_millis(2);
/// How long a replay waits for the foreground to be idle before it refrains.
pub const IDLE_WAIT: Duration = Duration::from_millis(50);
/// A replayed request is not replayed again for this long.
pub const RECENT_TTL: Duration = Duration::from_secs(300);
/// The default share of one core pre-caching may use.
pub const DEFAULT_CPU_SHARE: f64 = 0.1;

/// `--no-precache`, `--precache-cpu-share`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PrecacheOptions {
    pub enabled: bool,
    /// 0 < share ≤ 1 of one core.
    pub cpu_share: f64,
}

impl Default for PrecacheOptions {
    fn default() -> Self {
        Self {
            enabled: true,
            cpu_share: DEFAULT_CPU_SHARE,
        }
    }
}

/// One answered request of a watched component, as the listener saw it.
#[derive(Debug)]
pub struct Seen {
    /// The client connection (a session).
    pub session: String,
    pub component: String,
    pub path: String,
    /// The request's `Host` (a replay carries it too).
    pub authority: String,
    pub body: Bytes,
    pub answer: Bytes,
}

/// A prediction to replay, with the `Host` it is sent to.
#[derive(Debug)]
pub struct Replayed<'a> {
    pub prediction: &'a Prediction,
    pub authority: &'a str,
}

/// What the worker replays predictions through: the HTTP app.
pub trait Replay: Send + Sync + 'static {
    /// Runs the request through its component; `true` if it answered 200.
    fn replay(&self, request: Replayed<'_>) -> impl Future<Output = bool> + Send;
    /// No foreground request is running now.
    fn idle(&self) -> bool;
}

/// What pre-caching did, for `/metrics`.
#[derive(Debug, Default)]
pub struct PrecacheCounts {
    pub observed: AtomicU64,
    /// Observations the worker read and learned from.
    pub learned: AtomicU64,
    /// Dropped unread: the queue was full or the budget spent.
    pub dropped: AtomicU64,
    pub predicted: AtomicU64,
    /// Replays that answered 200 (their answer is in the cache now).
    pub computed: AtomicU64,
    pub failed: AtomicU64,
    /// Predictions not replayed: replayed recently or just asked.
    pub skipped_recent: AtomicU64,
    /// Predictions not replayed: the foreground stayed busy.
    pub refrained_busy: AtomicU64,
}

/// The pre-caching of one app: which components it watches and the queue
/// to its worker.
#[derive(Debug)]
pub struct Precache {
    components: HashSet<String>,
    queue: mpsc::Sender<Seen>,
    inbox: std::sync::Mutex<Option<mpsc::Receiver<Seen>>>,
    cpu_share: f64,
    counts: Arc<PrecacheCounts>,
}

impl Precache {
    /// Pre-caching for `components`; `None` when it is off or none asks.
    pub fn new(components: HashSet<String>, options: PrecacheOptions) -> Option<Self> {
        if !options.enabled || components.is_empty() {
            return None;
        }
        let (queue, inbox) = mpsc::channel(QUEUE);
        Some(Self {
            components,
            queue,
            inbox: std::sync::Mutex::new(Some(inbox)),
            cpu_share: options.cpu_share,
            counts: Arc::default(),
        })
    }

    /// Whether `component`'s answers are observed.
    pub fn watches(&self, component: &str) -> bool {
        self.components.contains(component)
    }

    pub fn counts(&self) -> Arc<PrecacheCounts> {
        self.counts.clone()
    }

    /// Hands an answered request to the worker, or drops it if the queue is full.
    pub fn observe(&self, seen: Seen) {
        self.counts.observed.fetch_add(1, Ordering::Relaxed);
        if self.queue.try_send(seen).is_err() {
            self.counts.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Starts the worker thread (once; call it inside the serving tokio
    /// runtime, where the replays run); it ends when `app` is dropped.
    pub fn start<R: Replay>(&self, app: Weak<R>) {
        let inbox = self.inbox.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(inbox) = inbox {
            let worker = Worker {
                learner: Learner::default(),
                budget: Budget::new(self.cpu_share, Instant::now()),
                recent: moka::sync::Cache::builder()
                    .max_capacity(10_000)
                    .time_to_live(RECENT_TTL)
                    .build(),
                counts: self.counts.clone(),
                serving: tokio::runtime::Handle::current(),
            };
            let started = std::thread::Builder::new()
                .name("fbposts-precache".into())
                .spawn(move || worker.run_at_low_priority(inbox, app));
            if let Err(err) = started {
                tracing::warn!(error = %err, "pre-caching is off: its thread did not start");
            }
        }
    }
}

struct Worker {
    learner: Learner,
    budget: Budget,
    /// Requests replayed or just asked: (component, body) keys.
    recent: moka::sync::Cache<String, ()>,
    counts: Arc<PrecacheCounts>,
    /// The runtime that serves requests: replays run there.
    serving: tokio::runtime::Handle,
}

impl Worker {
    fn run_at_low_priority<R: Replay>(self, inbox: mpsc::Receiver<Seen>, app: Weak<R>) {
        // On Linux the nice value is per thread: this one only.
        if let Err(err) = rustix::process::nice(19) {
            tracing::debug!(error = %err, "pre-caching runs at normal priority");
        }
        match tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
        {
            Ok(runtime) => runtime.block_on(self.run(inbox, app)),
            Err(err) => tracing::warn!(error = %err, "pre-caching is off: no runtime"),
        }
    }

    async fn run<R: Replay>(mut self, mut inbox: mpsc::Receiver<Seen>, app: Weak<R>) {
        // Woken by the first observation after a quiet spell; while more keep
        // arriving, they queue and are taken together every BATCH_INTERVAL.
        while let Some(first) = inbox.recv().await {
            let mut next = Some(first);
            while let Some(seen) = next.take() {
                if !self.take(seen, &app).await {
                    return;
                }
                next = inbox.try_recv().ok();
                if next.is_none() {
                    tokio::time::sleep(BATCH_INTERVAL).await;
                    next = inbox.try_recv().ok();
                }
            }
        }
    }

    /// Learns from one observation (unless the budget is spent) and replays
    /// its predictions; false once the app is gone.
    async fn take<R: Replay>(&mut self, seen: Seen, app: &Weak<R>) -> bool {
        if !self.budget.wait(Instant::now()).is_zero() {
            self.counts.dropped.fetch_add(1, Ordering::Relaxed);
            return true;
        }
        let started = thread_cpu_time();
        let authority = seen.authority.clone();
        let predictions = self.learn(seen);
        let cost = thread_cpu_time().saturating_sub(started);
        self.budget.spend(cost, Instant::now());
        for prediction in predictions {
            let Some(app) = app.upgrade() else {
                return false;
            };
            self.replay(app, prediction, &authority).await;
        }
        true
    }

    /// Learns from `seen`; what to compute next.
    fn learn(&mut self, seen: Seen) -> Vec<Prediction> {
        self.counts.learned.fetch_add(1, Ordering::Relaxed);
        let Ok(body) = serde_json::from_slice(&seen.body) else {
            return Vec::new();
        };
        let asked = request_key(&seen.component, &body);
        self.recent.insert(asked, ());
        let predictions = self.learner.observe(Observation {
            session: seen.session,
            component: seen.component,
            path: seen.path,
            body,
            answer: seen.answer,
        });
        self.counts
            .predicted
            .fetch_add(predictions.len() as u64, Ordering::Relaxed);
        predictions
    }

    async fn replay<R: Replay>(&mut self, app: Arc<R>, prediction: Prediction, authority: &str) {
        let key = request_key(&prediction.component, &prediction.body);
        if self.recent.contains_key(&key) {
            self.counts.skipped_recent.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if !wait_until_idle(&*app).await {
            self.counts.refrained_busy.fetch_add(1, Ordering::Relaxed);
            return;
        }
        tokio::time::sleep(self.budget.wait(Instant::now())).await;
        let authority = authority.to_string();
        let replayed = self.serving.spawn(async move {
            let request = Replayed {
                prediction: &prediction,
                authority: &authority,
            };
            let started = Instant::now();
            let answered = app.replay(request).await;
            (answered, started.elapsed())
        });
        let (answered, cost) = replayed.await.unwrap_or((false, Duration::ZERO));
        self.budget.spend(cost, Instant::now());
        self.recent.insert(key, ());
        let outcome = if answered {
            &self.counts.computed
        } else {
            &self.counts.failed
        };
        outcome.fetch_add(1, Ordering::Relaxed);
    }
}

/// CPU time this thread has used: what learning is charged, so a worker
/// preempted by the foreground (it runs at `nice 19`) is not charged for the
/// time it waited.
fn thread_cpu_time() -> Duration {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(now.tv_sec.max(0) as u64, now.tv_nsec.max(0) as u32)
}

fn request_key(component: &str, body: &serde_json::Value) -> String {
    format!("{component}\n{body}")
}

/// Whether the foreground became idle within [`IDLE_WAIT`].
async fn wait_until_idle<R: Replay>(app: &R) -> bool {
    let give_up = Instant::now() + IDLE_WAIT;
    while !app.idle() {
        if Instant::now() >= give_up {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};
    use std::sync::Mutex;
    use std::sync::atomic::AtomicBool;

    /// An app that records what it is asked to replay.
    #[derive(Default)]
    struct Recorder {
        replayed: Mutex<Vec<Value>>,
        busy: AtomicBool,
    }

    impl Replay for Recorder {
        async fn replay(&self, request: Replayed<'_>) -> bool {
            let body = request.prediction.body.clone();
            self.replayed.lock().unwrap().push(body);
            true
        }

        fn idle(&self) -> bool {
            !self.busy.load(Ordering::SeqCst)
        }
    }

    fn seen(session: &str, component: &str, body: Value) -> Seen {
        Seen {
            session: session.into(),
            component: component.into(),
            path: format!("/api/{component}"),
            authority: "localhost".into(),
            body: Bytes::from(body.to_string()),
            answer: Bytes::from_static(b"{}"),
        }
    }

    /// Pre-caching of analyze and enhance, started on a fresh recorder,
    /// after ten sessions that enhanced what they analyzed.
    fn trained() -> (Precache, Arc<Recorder>) {
        let components = ["analyze", "enhance"].map(String::from).into();
        let options = PrecacheOptions {
            enabled: true,
            cpu_share: 1.0,
        };
        let precache = Precache::new(components, options).unwrap();
        let app = Arc::new(Recorder::default());
        precache.start(Arc::downgrade(&app));
        for i in 0..10 {
            let text = json!({ "text": format!("post {i}") });
            precache.observe(seen(&format!("s{i}"), "analyze", text.clone()));
            precache.observe(seen(&format!("s{i}"), "enhance", text));
        }
        (precache, app)
    }

    async fn until(what: &str, done: impl Fn() -> bool) {
        let give_up = Instant::now() + Duration::from_secs(10);
        while !done() {
            assert!(Instant::now() < give_up, "timed out waiting until {what}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    fn count(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::SeqCst)
    }

    #[tokio::test]
    async fn a_learned_next_request_is_computed_ahead_once() {
        let (precache, app) = trained();
        let counts = precache.counts();
        precache.observe(seen("new", "analyze", json!({ "text": "fresh post" })));
        precache.observe(seen("other", "analyze", json!({ "text": "fresh post" })));
        until("both were handled", || count(&counts.skipped_recent) >= 1).await;
        let replayed = app.replayed.lock().unwrap().clone();
        let fresh = json!({ "text": "fresh post" });
        assert_eq!(replayed.iter().filter(|b| **b == fresh).count(), 1);
        assert_eq!(count(&counts.failed), 0);
    }

    #[tokio::test]
    async fn nothing_is_computed_while_the_foreground_stays_busy() {
        let (precache, app) = trained();
        let counts = precache.counts();
        let settled = || {
            let handled = count(&counts.computed)
                + count(&counts.skipped_recent)
                + count(&counts.refrained_busy);
            count(&counts.predicted) >= 4 && handled == count(&counts.predicted)
        };
        until("training was handled", settled).await;
        let before = app.replayed.lock().unwrap().len();
        app.busy.store(true, Ordering::SeqCst);
        precache.observe(seen("new", "analyze", json!({ "text": "busy post" })));
        until("it refrained", || count(&counts.refrained_busy) >= 1).await;
        assert_eq!(app.replayed.lock().unwrap().len(), before);
    }

    #[tokio::test]
    async fn off_or_with_nothing_to_watch_there_is_no_precache() {
        let off = PrecacheOptions {
            enabled: false,
            ..PrecacheOptions::default()
        };
        let some: HashSet<String> = ["analyze".to_string()].into();
        assert!(Precache::new(some, off).is_none());
        assert!(Precache::new(HashSet::new(), PrecacheOptions::default()).is_none());
    }
}
