//! Per-instance measurements, taken inside each request's store and recorded
//! per component when the store is dropped (with the default
//! `--instance-reuse 1` a store serves one request, so these are per
//! request; with reuse they are per instance).
//!
//! - Time in Wasm: [`install_time_hook`] adds a wasmtime call hook that reads
//!   the monotonic clock each time execution enters or leaves the instance's
//!   Wasm code, and [`InstanceMeter`] sums the stretches spent in Wasm. Host
//!   calls (key-value, wasi-nn, WASI) are bracketed out, and that is also
//!   where a P3 guest suspends and may resume on another thread, so each
//!   summed stretch ran without a break on one thread: it is the guest's CPU
//!   time unless the OS preempted the thread mid-stretch. A stretch that
//!   nonetheless ends on another thread is dropped. The thread's own CPU
//!   clock (`CLOCK_THREAD_CPUTIME_ID`) would not count preemption, but it is
//!   a system call (no vDSO), ~160 of them per `/api/analyze` cache hit; it
//!   cost about twice the overhead of the monotonic clock (README,
//!   Benchmarks), so the monotonic clock it is.
//! - Which stores are timed: the first of each component, then one in
//!   [`WASM_TIME_SAMPLE_EVERY`]. A call hook makes wasmtime take its slow
//!   path on every host/guest transition, and timing every store cost ~4 %
//!   of a cache hit's CPU. The histogram and the gauges are those of the
//!   sample; a store that is not timed has no hook and records nothing, so
//!   its zero never enters them.
//! - Peak linear memory: [`MemoryPeak`] wraps the store's limiter and adds up
//!   what each `memory_growing` grants (memories only grow), so its peak is
//!   the sum of every linear memory of the instance (a composed component
//!   has several) at its largest, the initial sizes included.
//!
//! Each gets a histogram (count, sum — so the mean — and buckets) and the
//! smallest and largest value seen since start-up as gauges: min/avg/max
//! per component.

use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use wasmtime::{CallHook, ResourceLimiter, Store, StoreContextMut};

use super::Metrics;
use crate::capability::HasState;
use crate::host_state::HostState;

type ComponentLabel = [(&'static str, String); 1];
type HistogramFamily = Family<ComponentLabel, Histogram, fn() -> Histogram>;

/// The per-component instance families.
#[derive(Clone)]
pub(super) struct InstanceFamilies {
    wasm_time: HistogramFamily,
    wasm_time_min: Family<ComponentLabel, Gauge<f64, AtomicU64>>,
    wasm_time_max: Family<ComponentLabel, Gauge<f64, AtomicU64>>,
    memory: HistogramFamily,
    memory_min: Family<ComponentLabel, Gauge>,
    memory_max: Family<ComponentLabel, Gauge>,
}

fn wasm_time_histogram() -> Histogram {
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
            wasm_time: Family::new_with_constructor(wasm_time_histogram),
            wasm_time_min: Family::default(),
            wasm_time_max: Family::default(),
            memory: Family::new_with_constructor(memory_histogram),
            memory_min: Family::default(),
            memory_max: Family::default(),
        };
        registry.register_with_unit(
            "instance_wasm_time",
            format!(
                "Time per request spent executing the component's Wasm code, on a sample of one store in {WASM_TIME_SAMPLE_EVERY} per component: the monotonic clock summed over each stretch between entering and leaving Wasm, host calls (key-value, wasi-nn, I/O) and suspensions excluded; the guest's CPU time unless the OS preempted the thread mid-stretch"
            ),
            Unit::Seconds,
            families.wasm_time.clone(),
        );
        registry.register_with_unit(
            "instance_wasm_time_min",
            "The smallest per-request time in Wasm seen since start-up (in the sample)",
            Unit::Seconds,
            families.wasm_time_min.clone(),
        );
        registry.register_with_unit(
            "instance_wasm_time_max",
            "The largest per-request time in Wasm seen since start-up (in the sample)",
            Unit::Seconds,
            families.wasm_time_max.clone(),
        );
        registry.register_with_unit(
            "instance_memory_peak",
            "Peak linear memory per request: the sum of the instance's linear memories at their largest (initial size included)",
            Unit::Bytes,
            families.memory.clone(),
        );
        registry.register_with_unit(
            "instance_memory_peak_min",
            "The smallest per-request peak linear memory seen since start-up",
            Unit::Bytes,
            families.memory_min.clone(),
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
            stores: AtomicU64::new(0),
            wasm_time: self.wasm_time.get_or_create_owned(&label),
            wasm_time_min: self.wasm_time_min.get_or_create_owned(&label),
            wasm_time_max: self.wasm_time_max.get_or_create_owned(&label),
            memory: self.memory.get_or_create_owned(&label),
            memory_min: self.memory_min.get_or_create_owned(&label),
            memory_max: self.memory_max.get_or_create_owned(&label),
        }
    }
}

/// One store in this many, per component, has its time in Wasm measured.
pub const WASM_TIME_SAMPLE_EVERY: u64 = 8;

/// One component's instance series.
pub struct ComponentSeries {
    /// Stores created for the component; picks the ones that are timed.
    stores: AtomicU64,
    wasm_time: Histogram,
    wasm_time_min: Gauge<f64, AtomicU64>,
    wasm_time_max: Gauge<f64, AtomicU64>,
    memory: Histogram,
    memory_min: Gauge,
    memory_max: Gauge,
}

impl ComponentSeries {
    /// Whether the next store of this component is timed: the first, then
    /// one in [`WASM_TIME_SAMPLE_EVERY`].
    fn time_next_store(&self) -> bool {
        self.stores
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(WASM_TIME_SAMPLE_EVERY)
    }

    fn record_memory(&self, peak_bytes: usize) {
        let bytes = i64::try_from(peak_bytes).unwrap_or(i64::MAX);
        self.memory.observe(bytes as f64);
        self.memory_max.inner().fetch_max(bytes, Ordering::Relaxed);
        let _ = self
            .memory_min
            .inner()
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |min| {
                (min == 0 || bytes < min).then_some(bytes)
            });
    }

    fn record_wasm_time(&self, time: Duration) {
        let seconds = time.as_secs_f64();
        self.wasm_time.observe(seconds);
        // Non-negative floats order like their bit patterns, so the atomic's
        // integer max/min is the numeric one; 0 bits mean "none yet" for min.
        let bits = seconds.to_bits();
        self.wasm_time_max
            .inner()
            .fetch_max(bits, Ordering::Relaxed);
        let _ =
            self.wasm_time_min
                .inner()
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |min| {
                    (min == 0 || bits < min).then_some(bits)
                });
    }
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
    at: Instant,
}

/// One store's account of time in Wasm; records it for the component when dropped.
pub struct InstanceMeter {
    series: Option<Arc<ComponentSeries>>,
    /// Whether this store's time in Wasm is measured (one in
    /// [`WASM_TIME_SAMPLE_EVERY`]).
    timed: bool,
    entered: Option<Entered>,
    wasm_time: Duration,
}

impl InstanceMeter {
    pub(super) fn new(series: Option<Arc<ComponentSeries>>) -> Self {
        let timed = series.as_ref().is_some_and(|s| s.time_next_store());
        Self {
            series,
            timed,
            entered: None,
            wasm_time: Duration::ZERO,
        }
    }

    /// Whether this store's time in Wasm is measured.
    pub fn is_timed(&self) -> bool {
        self.timed
    }

    /// The store's limiter, wrapped to record peak memory for the component.
    pub fn memory_peak<L: ResourceLimiter>(&self, limits: L) -> MemoryPeak<L> {
        MemoryPeak::new(limits, self.series.clone())
    }

    /// The time spent in Wasm so far.
    #[cfg(test)]
    pub(super) fn wasm_time(&self) -> Duration {
        self.wasm_time
    }

    /// Execution enters Wasm: a call into the guest, or a host call returning.
    fn enter(&mut self) {
        self.entered = Some(Entered {
            thread: thread_tag(),
            at: Instant::now(),
        });
    }

    /// Execution leaves Wasm: a host call, or the guest returning.
    fn leave(&mut self) {
        if let Some(entered) = self.entered.take()
            && entered.thread == thread_tag()
        {
            self.wasm_time += entered.at.elapsed();
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
        if let Some(series) = self.series.as_ref().filter(|_| self.timed) {
            series.record_wasm_time(self.wasm_time);
        }
    }
}

/// Adds the time-in-Wasm call hook to `store` if metrics are on and the
/// store is one of the timed sample (other stores have no hook at all).
pub fn install_time_hook(store: &mut Store<HostState>) {
    if !HasState::<Metrics>::state(store.data_mut()).is_timed() {
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
