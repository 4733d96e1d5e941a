//! Per-instance measurements, taken inside each request's store and recorded
//! per component when the store is dropped (with the default
//! `--instance-reuse 1` a store serves one request, so these are per
//! request; with reuse they are per instance).
//!
//! - CPU time: [`install_cpu_hook`] adds a wasmtime call hook that reads the
//!   thread's CPU clock (`CLOCK_THREAD_CPUTIME_ID`) each time execution
//!   enters or leaves the instance's Wasm code, and [`InstanceMeter`] sums
//!   the intervals spent in Wasm. Host calls (key-value, wasi-nn, WASI) are
//!   bracketed out, and that is also where a P3 guest suspends and may resume
//!   on another thread, so every summed interval ran on one thread. An
//!   interval that nonetheless ends on a different thread is dropped.
//! - Peak linear memory: [`MemoryPeak`] wraps the store's limiter and adds up
//!   what each `memory_growing` grants (memories only grow), so its peak is
//!   the sum of every linear memory of the instance (a composed component
//!   has several) at its largest, the initial sizes included.

use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use wasmtime::{CallHook, ResourceLimiter, Store, StoreContextMut};

use super::Metrics;
use crate::capability::HasState;
use crate::host_state::HostState;

type ComponentLabel = [(&'static str, String); 1];
type HistogramFamily = Family<ComponentLabel, Histogram, fn() -> Histogram>;

/// The per-component instance families.
#[derive(Clone)]
pub(super) struct InstanceFamilies {
    cpu: HistogramFamily,
    memory: HistogramFamily,
    memory_max: Family<ComponentLabel, Gauge>,
}

fn cpu_histogram() -> Histogram {
    // 10 µs … ~5.2 s
    Histogram::new(exponential_buckets(1e-5, 2.0, 20))
}

fn memory_histogram() -> Histogram {
    // 64 KiB (one Wasm page) … 512 MiB
    Histogram::new(exponential_buckets(65_536.0, 2.0, 14))
}

impl InstanceFamilies {
    pub(super) fn register(registry: &mut Registry) -> Self {
        let families = Self {
            cpu: Family::new_with_constructor(cpu_histogram),
            memory: Family::new_with_constructor(memory_histogram),
            memory_max: Family::default(),
        };
        registry.register_with_unit(
            "instance_cpu",
            "CPU time per request spent executing the component's Wasm code: the thread CPU clock summed over each stretch between entering and leaving Wasm; host calls (key-value, wasi-nn, I/O) and time suspended are not included",
            Unit::Seconds,
            families.cpu.clone(),
        );
        registry.register_with_unit(
            "instance_memory_peak",
            "Peak linear memory per request: the sum of the instance's linear memories at their largest (initial size included)",
            Unit::Bytes,
            families.memory.clone(),
        );
        registry.register_with_unit(
            "instance_memory_peak_max",
            "The largest per-request peak linear memory seen since start-up",
            Unit::Bytes,
            families.memory_max.clone(),
        );
        families
    }

    /// The series of one component, resolved once at start-up.
    pub(super) fn component(&self, id: &str) -> ComponentSeries {
        let label = [("component", id.to_string())];
        ComponentSeries {
            cpu: self.cpu.get_or_create_owned(&label),
            memory: self.memory.get_or_create_owned(&label),
            memory_max: self.memory_max.get_or_create_owned(&label),
        }
    }
}

/// One component's instance series.
pub struct ComponentSeries {
    cpu: Histogram,
    memory: Histogram,
    memory_max: Gauge,
}

impl ComponentSeries {
    fn record_memory(&self, peak_bytes: usize) {
        let bytes = i64::try_from(peak_bytes).unwrap_or(i64::MAX);
        self.memory.observe(bytes as f64);
        self.memory_max.inner().fetch_max(bytes, Ordering::Relaxed);
    }
}

/// The CPU clock of the calling thread.
fn thread_cpu_time() -> Duration {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(
        u64::try_from(now.tv_sec).unwrap_or(0),
        u32::try_from(now.tv_nsec).unwrap_or(0),
    )
}

thread_local! {
    static THREAD_TAG: u8 = const { 0 };
}

/// A value that differs between live threads (the address of a thread-local).
fn thread_tag() -> usize {
    THREAD_TAG.with(|tag| std::ptr::from_ref(tag) as usize)
}

/// Where the current stretch of Wasm execution started.
#[derive(Debug, Clone, Copy)]
struct Entered {
    thread: usize,
    cpu: Duration,
}

/// One store's CPU account; records it for the component when dropped.
pub struct InstanceMeter {
    series: Option<Arc<ComponentSeries>>,
    entered: Option<Entered>,
    cpu: Duration,
}

impl InstanceMeter {
    pub(super) fn new(series: Option<Arc<ComponentSeries>>) -> Self {
        Self {
            series,
            entered: None,
            cpu: Duration::ZERO,
        }
    }

    /// Whether this store is measured (metrics are on).
    pub fn is_on(&self) -> bool {
        self.series.is_some()
    }

    /// The store's limiter, wrapped to record peak memory for the component.
    pub fn memory_peak<L: ResourceLimiter>(&self, limits: L) -> MemoryPeak<L> {
        MemoryPeak::new(limits, self.series.clone())
    }

    /// The CPU time spent in Wasm so far.
    #[cfg(test)]
    pub(super) fn cpu(&self) -> Duration {
        self.cpu
    }

    /// Execution enters Wasm: a call into the guest, or a host call returning.
    fn enter(&mut self) {
        self.entered = Some(Entered {
            thread: thread_tag(),
            cpu: thread_cpu_time(),
        });
    }

    /// Execution leaves Wasm: a host call, or the guest returning.
    fn leave(&mut self) {
        if let Some(entered) = self.entered.take()
            && entered.thread == thread_tag()
        {
            self.cpu += thread_cpu_time().saturating_sub(entered.cpu);
        }
    }

    pub(super) fn on_call(&mut self, hook: CallHook) {
        match hook {
            CallHook::CallingWasm | CallHook::ReturningFromHost => self.enter(),
            CallHook::CallingHost | CallHook::ReturningFromWasm => self.leave(),
        }
    }
}

impl Drop for InstanceMeter {
    fn drop(&mut self) {
        if let Some(series) = &self.series {
            series.cpu.observe(self.cpu.as_secs_f64());
        }
    }
}

/// Adds the CPU-time call hook to `store` if metrics are on (with
/// `--no-metrics` the store has no hook at all).
pub fn install_cpu_hook(store: &mut Store<HostState>) {
    if !HasState::<Metrics>::state(store.data_mut()).is_on() {
        return;
    }
    store.call_hook(|mut ctx: StoreContextMut<'_, HostState>, hook| {
        HasState::<Metrics>::state(ctx.data_mut()).on_call(hook);
        Ok(())
    });
}

/// A store limiter that also tracks the total linear memory it has granted;
/// records the peak for the component when dropped.
pub struct MemoryPeak<L> {
    inner: L,
    series: Option<Arc<ComponentSeries>>,
    total: usize,
    /// What the last granted growth added, taken back if the growth fails.
    last_growth: usize,
}

impl<L> MemoryPeak<L> {
    fn new(inner: L, series: Option<Arc<ComponentSeries>>) -> Self {
        Self {
            inner,
            series,
            total: 0,
            last_growth: 0,
        }
    }

    /// The sum of the linear memories granted so far (they never shrink, so
    /// this is also the peak).
    #[cfg(test)]
    pub fn peak_bytes(&self) -> usize {
        self.total
    }
}

impl<L: ResourceLimiter> ResourceLimiter for MemoryPeak<L> {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let granted = self.inner.memory_growing(current, desired, maximum)?;
        if granted {
            self.last_growth = desired.saturating_sub(current);
            self.total = self.total.saturating_add(self.last_growth);
        }
        Ok(granted)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.total = self.total.saturating_sub(self.last_growth);
        self.last_growth = 0;
        self.inner.memory_grow_failed(error)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.inner.table_growing(current, desired, maximum)
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.inner.table_grow_failed(error)
    }

    fn instances(&self) -> usize {
        self.inner.instances()
    }

    fn tables(&self) -> usize {
        self.inner.tables()
    }

    fn memories(&self) -> usize {
        self.inner.memories()
    }
}

impl<L> Drop for MemoryPeak<L> {
    fn drop(&mut self) {
        if let Some(series) = &self.series
            && self.total > 0
        {
            series.record_memory(self.total);
        }
    }
}
