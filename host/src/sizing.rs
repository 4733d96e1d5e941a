//! Defaults sized to the machine `fbposts up` runs on: how many requests run
//! at once, how many wait, how many instances the pooling allocator holds and
//! how many connections stay open, from the cores, the memory and the
//! open-file limit. A flag given on the command line always wins; these are
//! only the values used when it is not.
//!
//! The rules, so an operator can predict them:
//! - requests at once: 8 per core (the guests are CPU-bound, but some wait on
//!   the LLM, the stores or wasi-nn), at most as many instances as fit in half
//!   the memory at their linear-memory cap;
//! - requests waiting for a slot: 4 per running slot (they keep their
//!   deadline, so a longer queue only adds latency);
//! - pooling-allocator instances: 3 per running request plus 16 (a request
//!   of a component with a separately instantiated dependency holds two;
//!   instances being torn down, reused P3 instances);
//! - open connections: 2,048 per core, at most half the open-file limit and
//!   as many bodies of the maximal size as fit in a quarter of the memory;
//!   per client address a quarter of that.
//!
//! `fbposts up` first raises its soft open-file limit to the hard limit
//! ([`raise_open_file_limit`]), so the connection cap follows what the
//! system allows rather than a low default soft limit.

use std::path::Path;

/// What the defaults are computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Machine {
    pub cores: usize,
    pub memory_bytes: u64,
    /// The soft limit on open file descriptors of this process.
    pub open_files: u64,
}

/// Used when the machine cannot be read (not Linux, no /proc).
const FALLBACK: Machine = Machine {
    cores: 1,
    memory_bytes: 1 << 30,
    open_files: 1024,
};

impl Machine {
    /// The machine this process runs on (cgroup memory limit included).
    pub fn current() -> Machine {
        let cores = std::thread::available_parallelism().map_or(FALLBACK.cores, |n| n.get());
        let physical = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|text| meminfo_total(&text))
            .unwrap_or(FALLBACK.memory_bytes);
        let memory_bytes = cgroup_memory_limit(Path::new("/sys/fs/cgroup/memory.max"))
            .map_or(physical, |limit| limit.min(physical));
        let open_files = std::fs::read_to_string("/proc/self/limits")
            .ok()
            .and_then(|text| soft_open_files(&text))
            .unwrap_or(FALLBACK.open_files);
        Machine {
            cores,
            memory_bytes,
            open_files,
        }
    }
}

/// Raises this process's soft limit on open files to its hard limit, as
/// servers commonly do at start-up: every connection is a file, and the soft
/// limit is often 1,024 while the hard limit is far higher. Run before the
/// defaults are sized (they read the soft limit). A failure is logged and
/// the limit left as it was.
pub fn raise_open_file_limit() {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let below_hard = match (limit.current, limit.maximum) {
        (Some(soft), Some(hard)) => soft < hard,
        (Some(_), None) => true,
        (None, _) => false,
    };
    if !below_hard {
        return;
    }
    let raised = Rlimit {
        current: limit.maximum,
        maximum: limit.maximum,
    };
    match setrlimit(Resource::Nofile, raised) {
        Ok(()) => tracing::info!(
            from = ?limit.current,
            to = ?limit.maximum,
            "raised the open-file limit to its hard limit"
        ),
        Err(err) => {
            tracing::warn!(%err, soft = ?limit.current, "could not raise the open-file limit")
        }
    }
}

/// `MemTotal:  24683228 kB` of /proc/meminfo, in bytes.
fn meminfo_total(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// cgroup v2's `memory.max`: a number of bytes, or `max` for no limit.
fn cgroup_memory_limit(path: &Path) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// The soft limit of `Max open files  20000  20000  files` in /proc/self/limits.
fn soft_open_files(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line
        .trim_start_matches("Max open files")
        .split_whitespace()
        .next()?;
    match soft {
        "unlimited" => Some(u64::MAX),
        number => number.parse().ok(),
    }
}

/// The defaults for one machine, given the per-instance memory cap and the
/// largest request body (both flags with static defaults).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Defaults {
    pub max_concurrent_requests: usize,
    pub max_waiting_requests: usize,
    pub max_instances: u32,
    pub max_connections: usize,
    pub max_connections_per_client: usize,
}

impl Defaults {
    pub fn for_machine(machine: Machine, max_memory_bytes: u64, max_body_bytes: u64) -> Defaults {
        let by_cores = machine.cores.saturating_mul(8);
        let by_memory = (machine.memory_bytes / 2 / max_memory_bytes.max(1)) as usize;
        let by_files = (machine.open_files / 2).min(usize::MAX as u64) as usize;
        let by_body_memory = (machine.memory_bytes / 4 / max_body_bytes.max(1)) as usize;
        let max_connections = machine
            .cores
            .saturating_mul(2048)
            .min(by_files)
            .min(by_body_memory)
            .max(16);
        Defaults::default()
            .with_running(by_cores.min(by_memory).max(1))
            .with_connections(max_connections)
    }

    /// The same defaults around `running` requests at once (a flag's value):
    /// the queue and the instance pool follow it.
    pub fn with_running(self, running: usize) -> Defaults {
        Defaults {
            max_concurrent_requests: running,
            max_waiting_requests: running.saturating_mul(4),
            max_instances: running
                .saturating_mul(3)
                .saturating_add(16)
                .min(u32::MAX as usize) as u32,
            ..self
        }
    }

    /// The same defaults around `connections` open at once (a flag's value):
    /// the per-client cap follows it.
    pub fn with_connections(self, connections: usize) -> Defaults {
        Defaults {
            max_connections: connections,
            max_connections_per_client: (connections / 4).max(4).min(connections),
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1 << 30;
    const MIB: u64 = 1 << 20;

    #[test]
    fn a_two_core_machine_with_plenty_of_memory_runs_sixteen_requests_at_once() {
        let machine = Machine {
            cores: 2,
            memory_bytes: 24 * GIB,
            open_files: 20_000,
        };
        let defaults = Defaults::for_machine(machine, 256 * MIB, MIB);
        assert_eq!(
            defaults,
            Defaults {
                max_concurrent_requests: 16,
                max_waiting_requests: 64,
                max_instances: 64,
                max_connections: 4096,
                max_connections_per_client: 1024,
            }
        );
    }

    #[test]
    fn a_small_memory_caps_the_requests_at_once_by_their_memory() {
        let machine = Machine {
            cores: 32,
            memory_bytes: 2 * GIB,
            open_files: 1024,
        };
        let defaults = Defaults::for_machine(machine, 256 * MIB, MIB);
        // Half of 2 GiB holds four 256 MiB instances.
        assert_eq!(defaults.max_concurrent_requests, 4);
        assert_eq!(defaults.max_waiting_requests, 16);
        // Half the open-file limit.
        assert_eq!(defaults.max_connections, 512);
        assert_eq!(defaults.max_connections_per_client, 128);
    }

    #[test]
    fn a_tiny_machine_still_serves_one_request_and_some_connections() {
        let machine = Machine {
            cores: 1,
            memory_bytes: 64 * MIB,
            open_files: 8,
        };
        let defaults = Defaults::for_machine(machine, 256 * MIB, MIB);
        assert_eq!(defaults.max_concurrent_requests, 1);
        assert_eq!(defaults.max_connections, 16);
        assert_eq!(defaults.max_connections_per_client, 4);
    }

    #[test]
    fn a_given_request_limit_sizes_the_queue_and_the_pool() {
        let machine = Machine {
            cores: 2,
            memory_bytes: 24 * GIB,
            open_files: 20_000,
        };
        let defaults = Defaults::for_machine(machine, 256 * MIB, MIB).with_running(2);
        assert_eq!(defaults.max_waiting_requests, 8);
        assert_eq!(defaults.max_instances, 22);
        let defaults = defaults.with_connections(2);
        assert_eq!(defaults.max_connections_per_client, 2);
    }

    #[test]
    fn proc_files_are_parsed() {
        assert_eq!(
            meminfo_total("MemTotal:       24683228 kB\nMemFree:  1 kB\n"),
            Some(24_683_228 * 1024)
        );
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                      Max open files            20000                40000                files     \n";
        assert_eq!(soft_open_files(limits), Some(20_000));
        assert_eq!(
            soft_open_files(
                "Max open files            unlimited            unlimited            files\n"
            ),
            Some(u64::MAX)
        );
        assert_eq!(meminfo_total("nothing here"), None);
    }

    #[test]
    fn the_current_machine_has_at_least_one_core() {
        let machine = Machine::current();
        assert!(machine.cores >= 1);
        assert!(machine.memory_bytes > 0);
    }
}
