//! Dynamic batching for one model: concurrent `compute` calls from different
//! stores are coalesced into one session run, then split back, the way
//! Triton's dynamic batcher works. The guest API does not change.
//!
//! # Rules
//!
//! - A model is batched only if every input and output has a dynamic first
//!   dimension (its rows); any other model runs each call alone.
//! - At most `runners` runs of the model are in flight (the session pool's
//!   size, so a runner never waits for a session). A call that finds them all
//!   busy queues its job; the next thread to take a runner slot takes every
//!   queued job that fits into one run. So batches form while the sessions
//!   are busy, and an idle model runs a lone call at once.
//! - With a window, a runner waits up to the window for more rows before it
//!   runs, unless the batch is already full (`max_rows`), and only while
//!   calls overlap: another run is in flight, another call is queued, or the
//!   model's last run served several calls. A call on an idle model runs at
//!   once (at one request at a time, waiting would only add latency). Not on a
//!   current-thread runtime (`fbposts up` on one core): there the waiting
//!   thread is the only one, so no other call could arrive and every request
//!   would stall; calls gather there instead (below).
//! - Jobs join one run only if their inputs have the same element types and
//!   the same dimensions after the first; the first queued job decides.
//! - A job is never another's error: if a coalesced run fails, or its outputs
//!   do not split by rows, each of its jobs runs again alone (and a model whose
//!   outputs do not split stops being batched).
//!
//! # Gathering (the one-thread runtime)
//!
//! On one thread the guest glue's asynchronous `compute` calls
//! [`Batcher::gather`]. The first call to find no gatherer becomes it: it
//! hands the thread back to the runtime, round after round (tokio's
//! `yield_now`), so that other requests' stores run up to their own
//! `compute` and queue their calls, until [`QUIET_ROUNDS`] rounds in a row
//! queue nothing new, `max_rows` rows are queued or the window has passed.
//! Then it runs everything queued, batch after batch, and files each result;
//! the other calls wait for theirs without holding the thread. At one
//! request at a time the first round finds nothing to wait for, so a lone
//! call costs one round (microseconds).

use super::NnError;
use super::tensor::{Port, RuntimeKind};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use wasmtime_wasi_nn::Tensor;

/// How concurrent calls of one model are coalesced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchOptions {
    /// How long a runner waits for more rows before it runs; zero: it runs
    /// what is queued when it gets a session.
    pub window: Duration,
    /// The most rows one coalesced run holds (a single larger call still runs).
    pub max_rows: usize,
}

impl Default for BatchOptions {
    /// A 200 µs window: on two cores it cut a predict cache miss's CPU by a
    /// fifth (README, "Dynamic batching").
    fn default() -> Self {
        Self {
            window: Duration::from_micros(DEFAULT_WINDOW_US),
            max_rows: 1024,
        }
    }
}

/// The default window, in microseconds.
pub const DEFAULT_WINDOW_US: u64 = 200;

/// Rounds in a row without a new call that end a gathering. Two, three and
/// five gave the same throughput (README, "Dynamic batching").
const QUIET_ROUNDS: u32 = 2;

impl BatchOptions {
    /// No coalescing: every call runs alone.
    pub fn off() -> Self {
        Self {
            window: Duration::ZERO,
            max_rows: 0,
        }
    }
}

/// Runs a model on concatenated inputs (one tensor per input port).
pub(super) type Execute<'a> = &'a (dyn Fn(&[&Tensor]) -> Result<Vec<Tensor>, NnError> + Sync);

/// Told the number of guest calls each session run served (metrics).
pub type RunObserver = Box<dyn Fn(usize) + Send + Sync>;

/// The coalescing queue of one model.
pub(super) struct Batcher {
    options: BatchOptions,
    runners: usize,
    batchable: AtomicBool,
    state: Mutex<Queue>,
    /// A job was queued (wakes a runner waiting out its window).
    arrived: Condvar,
    /// A run finished (wakes the jobs' threads and frees a runner slot).
    finished: Condvar,
    /// A run finished (wakes the gathered calls, [`Batcher::gather`]).
    filed: Notify,
    observer: OnceLock<RunObserver>,
}

#[derive(Default)]
struct Queue {
    waiting: VecDeque<Job>,
    busy_runners: usize,
    /// Whether the model's last run served more than one call.
    last_coalesced: bool,
    /// Whether a gathering call is collecting or running the queue.
    gathering: bool,
    done: HashMap<u64, Result<Vec<Tensor>, NnError>>,
    next_id: u64,
}

struct Job {
    id: u64,
    inputs: Vec<Tensor>,
    rows: usize,
}

fn lock(mutex: &Mutex<Queue>) -> MutexGuard<'_, Queue> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Whether the ports allow rows from different calls in one run.
pub(super) fn batchable(inputs: &[Port], outputs: &[Port]) -> bool {
    !inputs.is_empty()
        && !outputs.is_empty()
        && inputs
            .iter()
            .chain(outputs)
            .all(|port| port.dims.first() == Some(&-1))
}

impl Batcher {
    pub(super) fn new(options: BatchOptions, runners: usize, batchable: bool) -> Self {
        Self {
            options,
            runners: runners.max(1),
            batchable: AtomicBool::new(batchable && options.max_rows > 0),
            state: Mutex::default(),
            arrived: Condvar::new(),
            finished: Condvar::new(),
            filed: Notify::new(),
            observer: OnceLock::new(),
        }
    }

    /// Sets what is told each run's number of calls; the first setting stays.
    pub(super) fn observe_runs(&self, observer: RunObserver) {
        let _ = self.observer.set(observer);
    }

    fn ran(&self, calls: usize) {
        if let Some(observer) = self.observer.get() {
            observer(calls);
        }
    }

    /// One session run of one call.
    fn alone(&self, inputs: &[Tensor], execute: Execute<'_>) -> Result<Vec<Tensor>, NnError> {
        self.ran(1);
        execute(&inputs.iter().collect::<Vec<_>>())
    }

    /// Runs `inputs` (one tensor per input port, already checked against the
    /// model), alone or coalesced with other threads' calls.
    pub(super) fn run(
        &self,
        inputs: Vec<Tensor>,
        execute: Execute<'_>,
    ) -> Result<Vec<Tensor>, NnError> {
        let Some(rows) = self.rows_if_batched(&inputs) else {
            return self.alone(&inputs, execute);
        };
        let mut queue = lock(&self.state);
        let id = self.enqueue(&mut queue, inputs, rows);
        loop {
            if let Some(result) = queue.done.remove(&id) {
                return result;
            }
            queue = if queue.busy_runners < self.runners && !queue.waiting.is_empty() {
                self.run_next_batch(queue, execute)
            } else {
                self.finished
                    .wait(queue)
                    .unwrap_or_else(PoisonError::into_inner)
            };
        }
    }

    /// The rows of a call that may join others, `None` if it runs alone.
    fn rows_if_batched(&self, inputs: &[Tensor]) -> Option<usize> {
        if self.batchable.load(Ordering::Relaxed) {
            rows_of(inputs)
        } else {
            None
        }
    }

    /// Queues a call; its id.
    fn enqueue(&self, queue: &mut Queue, inputs: Vec<Tensor>, rows: usize) -> u64 {
        let id = queue.next_id;
        queue.next_id += 1;
        queue.waiting.push_back(Job { id, inputs, rows });
        self.arrived.notify_all();
        id
    }

    /// Files a run's results for their calls (blocked or gathered).
    fn file(&self, queue: &mut Queue, results: Vec<(u64, Result<Vec<Tensor>, NnError>)>) {
        if !results.is_empty() {
            queue.last_coalesced = results.len() > 1;
        }
        queue.done.extend(results);
        self.finished.notify_all();
        self.filed.notify_waiters();
    }

    /// Runs `inputs` on the one-thread runtime, gathered with the calls other
    /// stores make meanwhile (module doc, "Gathering").
    pub(super) async fn gather(
        &self,
        inputs: Vec<Tensor>,
        execute: Execute<'_>,
    ) -> Result<Vec<Tensor>, NnError> {
        let Some(rows) = self.rows_if_batched(&inputs) else {
            return self.alone(&inputs, execute);
        };
        let mut call = {
            let mut queue = lock(&self.state);
            let id = self.enqueue(&mut queue, inputs, rows);
            let gathers = !std::mem::replace(&mut queue.gathering, true);
            GatheredCall {
                batcher: self,
                id,
                gathers,
            }
        };
        if call.gathers {
            self.wait_for_calls().await;
            self.run_queue(execute);
            call.gathers = false;
        }
        loop {
            let filed = self.filed.notified();
            tokio::pin!(filed);
            filed.as_mut().enable();
            {
                let mut queue = lock(&self.state);
                if let Some(result) = queue.done.remove(&call.id) {
                    return result;
                }
                if !queue.gathering {
                    // Queued after the gatherer's last batch, or the gatherer
                    // was dropped: run the queue.
                    queue.gathering = true;
                    drop(queue);
                    self.run_queue(execute);
                    continue;
                }
            }
            filed.await;
        }
    }

    /// The gatherer's rounds: yields to the runtime while calls keep arriving
    /// (module doc, "Gathering").
    async fn wait_for_calls(&self) {
        if self.options.window.is_zero() {
            return;
        }
        let deadline = Instant::now() + self.options.window;
        let mut seen = 1;
        let mut quiet = 0;
        while quiet < QUIET_ROUNDS && Instant::now() < deadline {
            tokio::task::yield_now().await;
            let queue = lock(&self.state);
            if queued_rows(&queue.waiting) >= self.options.max_rows {
                break;
            }
            let queued = queue.waiting.len();
            quiet = if queued == seen { quiet + 1 } else { 0 };
            seen = queued;
        }
    }

    /// Runs every queued call, batch after batch, then ends the gathering.
    fn run_queue(&self, execute: Execute<'_>) {
        loop {
            let batch = {
                let mut queue = lock(&self.state);
                let batch = take_batch(&mut queue.waiting, self.options.max_rows);
                if batch.is_empty() {
                    queue.gathering = false;
                    return;
                }
                batch
            };
            let results = self.execute(batch, execute);
            self.file(&mut lock(&self.state), results);
        }
    }

    /// As one of the runners: takes the next batch off the queue (after the
    /// window, while calls overlap), runs it without the lock, and files
    /// each call's result for its thread.
    fn run_next_batch<'a>(
        &'a self,
        mut queue: MutexGuard<'a, Queue>,
        execute: Execute<'_>,
    ) -> MutexGuard<'a, Queue> {
        queue.busy_runners += 1;
        if queue.busy_runners > 1 || queue.waiting.len() > 1 || queue.last_coalesced {
            queue = self.wait_for_rows(queue);
        }
        let batch = take_batch(&mut queue.waiting, self.options.max_rows);
        drop(queue);
        let results = self.execute(batch, execute);
        let mut queue = lock(&self.state);
        queue.busy_runners -= 1;
        self.file(&mut queue, results);
        queue
    }

    /// A runner's window: waits until `max_rows` are queued or the window ends.
    fn wait_for_rows<'a>(&self, mut queue: MutexGuard<'a, Queue>) -> MutexGuard<'a, Queue> {
        if self.options.window.is_zero() || RuntimeKind::current() == RuntimeKind::CurrentThread {
            return queue;
        }
        let deadline = Instant::now() + self.options.window;
        while queued_rows(&queue.waiting) < self.options.max_rows {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                break;
            };
            queue = self
                .arrived
                .wait_timeout(queue, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        queue
    }

    /// Runs one batch; each job's result, under its id.
    fn execute(
        &self,
        batch: Vec<Job>,
        execute: Execute<'_>,
    ) -> Vec<(u64, Result<Vec<Tensor>, NnError>)> {
        match batch.as_slice() {
            // Another runner took the queue while this one waited.
            [] => return Vec::new(),
            [job] => return vec![(job.id, self.alone(&job.inputs, execute))],
            _ => {}
        }
        self.ran(batch.len());
        let joined = concat(&batch);
        let outputs = execute(&joined.iter().collect::<Vec<_>>());
        let rows: Vec<usize> = batch.iter().map(|job| job.rows).collect();
        match outputs.map(|outputs| split(&outputs, &rows)) {
            Ok(Some(parts)) => batch
                .iter()
                .map(|job| job.id)
                .zip(parts.into_iter().map(Ok))
                .collect(),
            failed => {
                if matches!(failed, Ok(None)) {
                    tracing::warn!(
                        "wasi-nn: outputs do not split by rows; this model is no longer batched"
                    );
                    self.batchable.store(false, Ordering::Relaxed);
                }
                batch
                    .into_iter()
                    .map(|job| (job.id, self.alone(&job.inputs, execute)))
                    .collect()
            }
        }
    }
}

/// A call in [`Batcher::gather`]. Dropped before its answer (its request's
/// deadline dropped the guest's `compute`), it takes its job off the queue
/// or its answer out of the results, and if it was gathering it hands that
/// over: the waiting calls wake and one of them runs the queue.
struct GatheredCall<'a> {
    batcher: &'a Batcher,
    id: u64,
    gathers: bool,
}

impl Drop for GatheredCall<'_> {
    fn drop(&mut self) {
        let mut queue = lock(&self.batcher.state);
        queue.waiting.retain(|job| job.id != self.id);
        queue.done.remove(&self.id);
        if self.gathers {
            queue.gathering = false;
            drop(queue);
            self.batcher.filed.notify_waiters();
        }
    }
}

/// The rows of a call: the first dimension, the same on every input.
fn rows_of(inputs: &[Tensor]) -> Option<usize> {
    let rows = *inputs.first()?.dimensions.first()?;
    inputs
        .iter()
        .all(|tensor| tensor.dimensions.first() == Some(&rows))
        .then_some(rows as usize)
}

/// Whether two calls' inputs can share one run.
fn compatible(a: &[Tensor], b: &[Tensor]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(a, b)| a.ty == b.ty && a.dimensions[1..] == b.dimensions[1..])
}

fn queued_rows(waiting: &VecDeque<Job>) -> usize {
    waiting.iter().map(|job| job.rows).sum()
}

/// The first queued job and every later one that fits beside it, in order,
/// up to `max_rows` rows in all.
fn take_batch(waiting: &mut VecDeque<Job>, max_rows: usize) -> Vec<Job> {
    let Some(first) = waiting.pop_front() else {
        return Vec::new();
    };
    let mut rows = first.rows;
    let mut batch = vec![first];
    let mut index = 0;
    while index < waiting.len() {
        let job = &waiting[index];
        if rows + job.rows <= max_rows && compatible(&batch[0].inputs, &job.inputs) {
            rows += job.rows;
            batch.extend(waiting.remove(index));
        } else {
            index += 1;
        }
    }
    batch
}

/// One tensor per input port, the jobs' rows one after the other.
fn concat(batch: &[Job]) -> Vec<Tensor> {
    let first = &batch[0].inputs;
    let rows: usize = batch.iter().map(|job| job.rows).sum();
    (0..first.len())
        .map(|port| {
            let mut dimensions = first[port].dimensions.clone();
            dimensions[0] = rows as u32;
            let mut data =
                Vec::with_capacity(batch.iter().map(|j| j.inputs[port].data.len()).sum());
            for job in batch {
                data.extend_from_slice(&job.inputs[port].data);
            }
            Tensor {
                dimensions,
                ty: first[port].ty,
                data,
            }
        })
        .collect()
}

/// Each job's outputs, cut from the coalesced ones by its rows; `None` when
/// some output's first dimension is not the batch's rows.
fn split(outputs: &[Tensor], rows: &[usize]) -> Option<Vec<Vec<Tensor>>> {
    let total: usize = rows.iter().sum();
    let mut parts: Vec<Vec<Tensor>> = rows
        .iter()
        .map(|_| Vec::with_capacity(outputs.len()))
        .collect();
    for output in outputs {
        if output.dimensions.first().map(|&d| d as usize) != Some(total)
            || total == 0
            || output.data.len() % total != 0
        {
            return None;
        }
        let row_bytes = output.data.len() / total;
        let mut start = 0;
        for (part, &job_rows) in parts.iter_mut().zip(rows) {
            let mut dimensions = output.dimensions.clone();
            dimensions[0] = job_rows as u32;
            let end = start + job_rows * row_bytes;
            part.push(Tensor {
                dimensions,
                ty: output.ty,
                data: output.data[start..end].to_vec(),
            });
            start = end;
        }
    }
    Some(parts)
}

#[cfg(test)]
#[path = "batch_tests.rs"]
mod tests;
