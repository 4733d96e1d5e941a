//! The batcher's rules, on a fake model whose output row is its input row
//! doubled (so every call can check it got its own rows back).

use super::*;
use std::sync::Arc;
use wasmtime_wasi_nn::wit::TensorType;

fn rows(values: &[f32], width: u32) -> Tensor {
    Tensor {
        dimensions: vec![values.len() as u32 / width, width],
        ty: TensorType::Fp32,
        data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
    }
}

fn values(tensor: &Tensor) -> Vec<f32> {
    tensor
        .data
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// What the fake model saw: the rows of every run, in order.
#[derive(Default)]
struct Runs(Mutex<Vec<u32>>);

impl Runs {
    fn rows(&self) -> Vec<u32> {
        self.0.lock().unwrap().clone()
    }
}

/// Doubles its input; fails on a row holding 666.
fn doubled(runs: &Runs, inputs: &[&Tensor]) -> Result<Vec<Tensor>, NnError> {
    runs.0.lock().unwrap().push(inputs[0].dimensions[0]);
    let data = values(inputs[0]);
    if data.contains(&666.0) {
        return Err(NnError::Input("poisoned row".into()));
    }
    let doubled: Vec<f32> = data.iter().map(|v| v * 2.0).collect();
    Ok(vec![rows(&doubled, inputs[0].dimensions[1])])
}

impl Batcher {
    fn queued_calls(&self) -> usize {
        lock(&self.state).waiting.len()
    }

    /// As after a run that served several calls: the next runner waits out
    /// its window (for tests of a whole model, `wasi_nn::tests`).
    pub(crate) fn as_if_calls_overlapped(&self) {
        lock(&self.state).last_coalesced = true;
    }

    /// The calls each run served, as the metrics see them.
    fn observed(&self) -> Arc<Mutex<Vec<usize>>> {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        self.observe_runs(Box::new(move |calls| sink.lock().unwrap().push(calls)));
        seen
    }
}

/// Runs `calls` from one thread each while the model's only runner is held
/// by a first call, which returns once all of them are queued; the answers
/// in the calls' order, and the rows of every run.
fn behind_a_busy_model(
    batcher: &Batcher,
    calls: Vec<Tensor>,
    model: impl Fn(&[&Tensor]) -> Result<Vec<Tensor>, NnError> + Sync,
) -> (Vec<Result<Vec<Tensor>, NnError>>, Vec<u32>) {
    let runs = Runs::default();
    let waiting = calls.len();
    let gate = |inputs: &[&Tensor]| {
        if values(inputs[0]) == [-1.0] {
            while batcher.queued_calls() < waiting {
                std::thread::yield_now();
            }
            runs.0.lock().unwrap().push(1);
            return Ok(vec![rows(&[-2.0], 1)]);
        }
        runs.0.lock().unwrap().push(inputs[0].dimensions[0]);
        model(inputs)
    };
    let answers = std::thread::scope(|scope| {
        let first = scope.spawn(|| batcher.run(vec![rows(&[-1.0], 1)], &gate));
        while lock(&batcher.state).busy_runners == 0 {
            std::thread::yield_now();
        }
        let threads: Vec<_> = calls
            .into_iter()
            .enumerate()
            .map(|(index, call)| {
                let gate = &gate;
                let thread = scope.spawn(move || batcher.run(vec![call], gate));
                // One at a time, so the queue holds the calls in their order
                // (counted by ids given out: the last one may already be
                // taken off the queue and run).
                while lock(&batcher.state).next_id <= index as u64 + 1 {
                    std::thread::yield_now();
                }
                thread
            })
            .collect();
        assert_eq!(values(&first.join().unwrap().unwrap()[0]), [-2.0]);
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    (answers, runs.rows())
}

/// A window no test waits out: a run that starts before it ends started
/// because its batch was full or no calls overlapped.
fn with_a_long_window(max_rows: usize) -> BatchOptions {
    BatchOptions {
        window: Duration::from_secs(60),
        max_rows,
    }
}

/// Fails if `what` waited half of [`with_a_long_window`]'s minute.
fn assert_the_window_was_not_waited_out(started: Instant, what: &str) {
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(30), "{what} waited {waited:?}");
}

fn on(max_rows: usize) -> BatchOptions {
    BatchOptions {
        window: Duration::ZERO,
        max_rows,
    }
}

#[test]
fn calls_that_queue_while_the_model_is_busy_run_as_one_and_each_gets_its_own_rows() {
    let batcher = Batcher::new(on(1024), 1, true);
    let observed = batcher.observed();
    let model_runs = Runs::default();
    let calls = vec![
        rows(&[1.0, 2.0], 1),
        rows(&[3.0], 1),
        rows(&[4.0, 5.0, 6.0], 1),
    ];
    let (answers, runs) = behind_a_busy_model(&batcher, calls, |i| doubled(&model_runs, i));
    let answers: Vec<Vec<f32>> = answers
        .into_iter()
        .map(|a| values(&a.unwrap()[0]))
        .collect();
    assert_eq!(answers, [vec![2.0, 4.0], vec![6.0], vec![8.0, 10.0, 12.0]]);
    assert_eq!(
        runs,
        [1, 6],
        "the first call alone, then the three queued ones together"
    );
    assert_eq!(
        *observed.lock().unwrap(),
        [1, 3],
        "calls per run, as the metrics count them"
    );
}

#[test]
fn a_lone_call_on_an_idle_model_runs_at_once_without_waiting_out_the_window() {
    let batcher = Batcher::new(with_a_long_window(1024), 1, true);
    let observed = batcher.observed();
    let runs = Runs::default();
    let started = Instant::now();
    let answer = batcher
        .run(vec![rows(&[7.0], 1)], &|i| doubled(&runs, i))
        .unwrap();
    assert_eq!(values(&answer[0]), [14.0]);
    assert_the_window_was_not_waited_out(started, "a lone call");
    assert_eq!(runs.rows(), [1]);
    assert_eq!(*observed.lock().unwrap(), [1]);
}

#[test]
fn calls_whose_rows_differ_in_width_never_share_a_run() {
    let batcher = Batcher::new(on(1024), 1, true);
    let model_runs = Runs::default();
    let calls = vec![rows(&[1.0, 2.0], 2), rows(&[3.0], 1), rows(&[4.0, 5.0], 2)];
    let (answers, runs) = behind_a_busy_model(&batcher, calls, |i| doubled(&model_runs, i));
    let answers: Vec<Vec<f32>> = answers
        .into_iter()
        .map(|a| values(&a.unwrap()[0]))
        .collect();
    assert_eq!(answers, [vec![2.0, 4.0], vec![6.0], vec![8.0, 10.0]]);
    assert_eq!(
        runs,
        [1, 2, 1],
        "both two-wide calls in one run, the one-wide call alone"
    );
}

#[test]
fn no_run_holds_more_than_max_rows_but_a_larger_single_call_still_runs() {
    let batcher = Batcher::new(on(4), 1, true);
    let model_runs = Runs::default();
    let calls = vec![
        rows(&[1.0, 2.0], 1),
        rows(&[3.0, 4.0], 1),
        rows(&[5.0, 6.0], 1),
        rows(&[7.0, 8.0, 9.0, 10.0, 11.0], 1),
    ];
    let (answers, runs) = behind_a_busy_model(&batcher, calls, |i| doubled(&model_runs, i));
    assert!(answers.iter().all(Result::is_ok));
    assert_eq!(
        values(&answers[3].as_ref().unwrap()[0]),
        [14.0, 16.0, 18.0, 20.0, 22.0]
    );
    assert_eq!(runs, [1, 4, 2, 5]);
}

#[test]
fn a_failing_coalesced_run_is_retried_call_by_call_so_only_the_bad_call_fails() {
    let batcher = Batcher::new(on(1024), 1, true);
    let model_runs = Runs::default();
    let observed = batcher.observed();
    let calls = vec![rows(&[1.0], 1), rows(&[666.0], 1), rows(&[3.0], 1)];
    let (answers, runs) = behind_a_busy_model(&batcher, calls, |i| doubled(&model_runs, i));
    assert_eq!(values(&answers[0].as_ref().unwrap()[0]), [2.0]);
    assert!(matches!(&answers[1], Err(NnError::Input(m)) if m == "poisoned row"));
    assert_eq!(values(&answers[2].as_ref().unwrap()[0]), [6.0]);
    assert_eq!(runs, [1, 3, 1, 1, 1]);
    assert_eq!(*observed.lock().unwrap(), [1, 3, 1, 1, 1]);
    assert!(
        batcher.batchable.load(Ordering::Relaxed),
        "a failure is not a reason to stop batching"
    );
}

#[test]
fn outputs_that_do_not_split_by_rows_stop_batching_and_every_call_still_gets_its_answer() {
    let batcher = Batcher::new(on(1024), 1, true);
    let model_runs = Runs::default();
    let summed = |inputs: &[&Tensor]| {
        model_runs.0.lock().unwrap().push(inputs[0].dimensions[0]);
        Ok(vec![rows(&[values(inputs[0]).iter().sum()], 1)])
    };
    let calls = vec![rows(&[1.0, 2.0], 1), rows(&[3.0], 1)];
    let (answers, runs) = behind_a_busy_model(&batcher, calls, summed);
    let answers: Vec<Vec<f32>> = answers
        .into_iter()
        .map(|a| values(&a.unwrap()[0]))
        .collect();
    assert_eq!(answers, [vec![3.0], vec![3.0]]);
    assert_eq!(runs, [1, 3, 2, 1]);
    assert!(!batcher.batchable.load(Ordering::Relaxed));
}

/// Two runners: the first is held in the model; the second, seeing calls
/// overlap, waits out its (60 s) window until four rows are queued, and runs
/// them at once as one batch.
#[test]
fn a_runner_waits_out_its_window_while_calls_overlap_until_the_batch_is_full() {
    let batcher = Batcher::new(with_a_long_window(4), 2, true);
    let runs = Runs::default();
    let model = |inputs: &[&Tensor]| {
        if values(inputs[0]) == [-1.0] {
            while !runs.rows().contains(&4) {
                std::thread::yield_now();
            }
        }
        doubled(&runs, inputs)
    };
    let answers: Vec<Vec<f32>> = std::thread::scope(|scope| {
        let threads: Vec<_> = [-1.0, 0.0, 1.0, 2.0, 3.0]
            .into_iter()
            .enumerate()
            .map(|(index, value)| {
                let (batcher, model) = (&batcher, &model);
                let thread = scope.spawn(move || batcher.run(vec![rows(&[value], 1)], model));
                while lock(&batcher.state).next_id <= index as u64 {
                    std::thread::yield_now();
                }
                thread
            })
            .collect();
        threads
            .into_iter()
            .map(|t| values(&t.join().unwrap().unwrap()[0]))
            .collect()
    });
    assert_eq!(
        answers,
        [vec![-2.0], vec![0.0], vec![2.0], vec![4.0], vec![6.0]]
    );
    assert_eq!(
        runs.rows(),
        [4, 1],
        "the four overlapping calls in one run, then the held one"
    );
}

#[test]
fn a_model_with_a_fixed_first_dimension_is_not_batched() {
    let port = |dims: Vec<i64>| Port {
        name: "x".into(),
        ty: TensorType::Fp32,
        dims,
    };
    assert!(batchable(&[port(vec![-1, 7])], &[port(vec![-1, 4])]));
    assert!(!batchable(&[port(vec![1, 7])], &[port(vec![-1, 4])]));
    assert!(!batchable(&[port(vec![-1, 7])], &[port(vec![4])]));
    assert!(!batchable(&[port(vec![])], &[port(vec![-1])]));
}

#[test]
fn with_batching_off_calls_run_side_by_side_and_never_queue() {
    let batcher = Batcher::new(BatchOptions::off(), 1, true);
    let observed = batcher.observed();
    let inside = std::sync::atomic::AtomicUsize::new(0);
    let met = std::sync::atomic::AtomicUsize::new(0);
    // Each call stays in the model until the other one is in it too, which
    // only happens if neither waits for the other's run.
    let model = |inputs: &[&Tensor]| {
        inside.fetch_add(1, Ordering::SeqCst);
        let deadline = Instant::now() + Duration::from_secs(30);
        while inside.load(Ordering::SeqCst) < 2 && Instant::now() < deadline {
            std::thread::yield_now();
        }
        if inside.load(Ordering::SeqCst) == 2 {
            met.fetch_add(1, Ordering::SeqCst);
        }
        Ok(vec![(*inputs[0]).clone()])
    };
    std::thread::scope(|scope| {
        let calls: Vec<_> = (0..2)
            .map(|n| {
                let (batcher, model) = (&batcher, &model);
                scope.spawn(move || batcher.run(vec![rows(&[n as f32], 1)], model))
            })
            .collect();
        for (n, call) in calls.into_iter().enumerate() {
            assert_eq!(values(&call.join().unwrap().unwrap()[0]), [n as f32]);
        }
    });
    assert_eq!(
        met.load(Ordering::SeqCst),
        2,
        "each call saw the other in the model"
    );
    assert_eq!(batcher.queued_calls(), 0);
    assert_eq!(*observed.lock().unwrap(), [1, 1]);
}

#[test]
fn on_a_current_thread_runtime_a_runner_does_not_wait_out_its_window() {
    let batcher = Batcher::new(with_a_long_window(1024), 1, true);
    let runs = Runs::default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let started = Instant::now();
    let answer = runtime
        .block_on(async { batcher.run(vec![rows(&[1.0], 1)], &|i| doubled(&runs, i)) })
        .unwrap();
    assert_eq!(values(&answer[0]), [2.0]);
    assert_the_window_was_not_waited_out(
        started,
        "the only thread, for calls that could not come,",
    );
}

/// What a gathering did: the answers in the calls' order, the rows of every
/// run and the calls each run served.
struct Gathering {
    answers: Vec<Result<Vec<Tensor>, NnError>>,
    runs: Vec<u32>,
    calls_per_run: Vec<usize>,
}

/// Gathers `calls` on a one-thread runtime, one task each, all spawned
/// before any runs.
fn gathered(batcher: Batcher, calls: Vec<Tensor>) -> Gathering {
    let batcher = Arc::new(batcher);
    let observed = batcher.observed();
    let runs = Arc::new(Runs::default());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let answers = runtime.block_on(async {
        let tasks: Vec<_> = calls
            .into_iter()
            .map(|call| {
                let (batcher, runs) = (batcher.clone(), runs.clone());
                tokio::spawn(async move {
                    let model = |inputs: &[&Tensor]| doubled(&runs, inputs);
                    batcher.gather(vec![call], &model).await
                })
            })
            .collect();
        let mut answers = Vec::new();
        for task in tasks {
            answers.push(task.await.unwrap());
        }
        answers
    });
    assert_eq!(batcher.queued_calls(), 0, "nothing is left queued");
    let calls_per_run = observed.lock().unwrap().clone();
    Gathering {
        answers,
        runs: runs.rows(),
        calls_per_run,
    }
}

fn doubled_values(answers: Vec<Result<Vec<Tensor>, NnError>>) -> Vec<Vec<f32>> {
    answers
        .into_iter()
        .map(|answer| values(&answer.unwrap()[0]))
        .collect()
}

#[test]
fn on_one_thread_calls_from_several_tasks_gather_into_one_run_and_each_gets_its_own_rows() {
    let calls = vec![
        rows(&[1.0, 2.0], 1),
        rows(&[3.0], 1),
        rows(&[4.0, 5.0, 6.0], 1),
        rows(&[7.0], 1),
    ];
    let started = Instant::now();
    let Gathering {
        answers,
        runs,
        calls_per_run,
    } = gathered(Batcher::new(with_a_long_window(1024), 1, true), calls);
    assert_the_window_was_not_waited_out(started, "a gathering that stopped finding calls");
    assert_eq!(
        doubled_values(answers),
        [vec![2.0, 4.0], vec![6.0], vec![8.0, 10.0, 12.0], vec![14.0]]
    );
    assert_eq!(runs, [7], "one run of all seven rows");
    assert_eq!(calls_per_run, [4]);
}

#[test]
fn a_lone_gathered_call_runs_once_no_call_arrives_without_waiting_out_the_window() {
    let started = Instant::now();
    let Gathering {
        answers,
        runs,
        calls_per_run,
    } = gathered(
        Batcher::new(with_a_long_window(1024), 1, true),
        vec![rows(&[9.0], 1)],
    );
    assert_the_window_was_not_waited_out(started, "a lone gathered call");
    assert_eq!(doubled_values(answers), [vec![18.0]]);
    assert_eq!((runs, calls_per_run), (vec![1], vec![1]));
}

#[test]
fn gathered_calls_run_in_as_many_batches_as_their_widths_and_max_rows_need() {
    let calls = vec![
        rows(&[1.0, 2.0], 1),
        rows(&[3.0, 4.0], 2),
        rows(&[5.0, 6.0], 1),
        rows(&[7.0], 1),
    ];
    let Gathering {
        answers,
        runs,
        calls_per_run,
    } = gathered(Batcher::new(with_a_long_window(3), 1, true), calls);
    assert_eq!(
        doubled_values(answers),
        [vec![2.0, 4.0], vec![6.0, 8.0], vec![10.0, 12.0], vec![14.0]]
    );
    assert_eq!(
        runs,
        [3, 1, 2],
        "width 1 up to 3 rows (the first call and the last), the width-2 call, the width-1 call left over"
    );
    assert_eq!(calls_per_run, [2, 1, 1]);
}

#[test]
fn a_failing_gathered_run_is_retried_call_by_call_so_only_the_bad_call_fails() {
    let calls = vec![rows(&[1.0], 1), rows(&[666.0], 1), rows(&[2.0], 1)];
    let Gathering { answers, runs, .. } =
        gathered(Batcher::new(with_a_long_window(1024), 1, true), calls);
    assert!(
        matches!(answers[1], Err(NnError::Input(_))),
        "the poisoned call fails"
    );
    assert_eq!(values(&answers[0].as_ref().unwrap()[0]), [2.0]);
    assert_eq!(values(&answers[2].as_ref().unwrap()[0]), [4.0]);
    assert_eq!(
        runs,
        [3, 1, 1, 1],
        "the coalesced run, then each call alone"
    );
}

/// Which of two pending gathered calls is dropped before its run.
#[derive(Clone, Copy, PartialEq)]
enum Dropped {
    /// The first call, gathering (1 row).
    Gatherer,
    /// The second call, waiting for the gatherer (2 rows).
    Waiting,
}

/// Polls a gathering call and a waiting one until both are pending, drops
/// `dropped`, and awaits the other: its answer and the rows of every run;
/// checks nothing is left queued, filed or gathering.
fn drop_one_of_two_pending_calls(dropped: Dropped) -> (Vec<f32>, Vec<u32>) {
    let batcher = Batcher::new(with_a_long_window(1024), 1, true);
    let runs = Runs::default();
    let model = |inputs: &[&Tensor]| doubled(&runs, inputs);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let answer = runtime.block_on(async {
        let mut gatherer = Box::pin(batcher.gather(vec![rows(&[1.0], 1)], &model));
        assert!(futures::poll!(gatherer.as_mut()).is_pending(), "gathering");
        let mut waiting = Box::pin(batcher.gather(vec![rows(&[2.0, 3.0], 1)], &model));
        assert!(futures::poll!(waiting.as_mut()).is_pending(), "waiting");
        if dropped == Dropped::Gatherer {
            drop(gatherer);
            waiting.await
        } else {
            drop(waiting);
            gatherer.await
        }
    });
    let queue = lock(&batcher.state);
    assert!(queue.waiting.is_empty() && queue.done.is_empty() && !queue.gathering);
    (values(&answer.unwrap()[0]), runs.rows())
}

#[test]
fn a_gathering_call_dropped_before_its_run_leaves_its_job_out_and_a_waiting_call_runs_the_queue() {
    let (answer, runs) = drop_one_of_two_pending_calls(Dropped::Gatherer);
    assert_eq!(answer, [4.0, 6.0]);
    assert_eq!(runs, [2], "only the waiting call's rows ran");
}

#[test]
fn a_waiting_call_dropped_before_its_run_leaves_nothing_behind() {
    let (answer, runs) = drop_one_of_two_pending_calls(Dropped::Waiting);
    assert_eq!(answer, [2.0]);
    assert_eq!(runs, [1], "only the gathering call's row ran");
}
