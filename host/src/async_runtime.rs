//! Which tokio runtime `fbposts up` serves on: one thread, or one worker
//! per core.
//!
//! Rules:
//! - `auto` (the default) is one thread when the process may run on one core
//!   only (a 1-CPU container, or pinned with `taskset`), else a worker per
//!   core. On one core a multi-thread runtime has a single worker anyway,
//!   and pays for what only several workers need: atomic run queues, a
//!   shared injection queue, wake-ups through the driver. The single-thread
//!   scheduler runs the same tasks without them: measured on one core, 11 %
//!   more requests/s of the trivial component reused and 16 % more of an
//!   `/api/analyze` cache hit, a quarter off their p99 (README,
//!   "Benchmarks").
//! - What stays the same on one thread: a guest that computes for long
//!   still yields at every epoch tick (`host_state`), so other requests go
//!   on and deadlines are enforced by the epoch thread; SQLite writes that
//!   may wait go to the blocking pool (`key_value::sqlite`); an inference
//!   runs inline, as it would take the only core either way
//!   (`wasi_nn::tensor`).
//! - `current-thread` and `multi-thread` force either, whatever the cores.

use clap::ValueEnum;

/// `--async-runtime`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AsyncRuntime {
    /// One thread on one core, a worker per core on more.
    Auto,
    /// One thread runs every task.
    CurrentThread,
    /// One worker thread per core.
    MultiThread,
}

impl AsyncRuntime {
    /// `auto` resolved for a process that may run on `cores` cores.
    pub fn resolve(self, cores: usize) -> Self {
        match self {
            Self::Auto if cores <= 1 => Self::CurrentThread,
            Self::Auto => Self::MultiThread,
            forced => forced,
        }
    }

    /// The name the flag takes and the start-up log gives (clap's).
    pub fn name(self) -> String {
        self.to_possible_value()
            .map_or_else(String::new, |value| value.get_name().to_string())
    }

    /// The runtime, resolved for the cores this process may use.
    pub fn build(self) -> std::io::Result<(Self, tokio::runtime::Runtime)> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chosen = self.resolve(cores);
        let mut builder = match chosen {
            Self::CurrentThread => tokio::runtime::Builder::new_current_thread(),
            Self::Auto | Self::MultiThread => tokio::runtime::Builder::new_multi_thread(),
        };
        Ok((chosen, builder.enable_all().build()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::runtime::RuntimeFlavor;

    #[test]
    fn auto_is_one_thread_on_one_core_and_a_worker_per_core_on_more() {
        assert_eq!(AsyncRuntime::Auto.resolve(1), AsyncRuntime::CurrentThread);
        assert_eq!(AsyncRuntime::Auto.resolve(2), AsyncRuntime::MultiThread);
        assert_eq!(AsyncRuntime::Auto.resolve(64), AsyncRuntime::MultiThread);
    }

    #[test]
    fn a_forced_runtime_is_kept_whatever_the_cores() {
        assert_eq!(
            AsyncRuntime::CurrentThread.resolve(8),
            AsyncRuntime::CurrentThread
        );
        assert_eq!(
            AsyncRuntime::MultiThread.resolve(1),
            AsyncRuntime::MultiThread
        );
    }

    #[test]
    fn each_runtime_is_named_as_its_flag_spells_it() {
        assert_eq!(AsyncRuntime::CurrentThread.name(), "current-thread");
        assert_eq!(AsyncRuntime::MultiThread.name(), "multi-thread");
        assert_eq!(AsyncRuntime::Auto.name(), "auto");
    }

    #[test]
    fn the_built_runtime_has_the_chosen_flavor() {
        let (chosen, runtime) = AsyncRuntime::CurrentThread.build().unwrap();
        assert_eq!(chosen, AsyncRuntime::CurrentThread);
        assert_eq!(
            runtime.handle().runtime_flavor(),
            RuntimeFlavor::CurrentThread
        );
        let (chosen, runtime) = AsyncRuntime::MultiThread.build().unwrap();
        assert_eq!(chosen, AsyncRuntime::MultiThread);
        assert_eq!(
            runtime.handle().runtime_flavor(),
            RuntimeFlavor::MultiThread
        );
    }
}
