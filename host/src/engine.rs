//! The wasmtime engine every component runs on: component-model-async for
//! WASI P3, epoch interruption for request deadlines, the pooling allocator
//! (falling back to on-demand allocation where the address space cannot be
//! reserved). Compiled code is kept on disk by [`crate::compiled`].

use anyhow::Result;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How often the epoch ticks; deadlines are counted in ticks of this length.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// What one component instance may hold in the pool.
const CORE_INSTANCES_PER_COMPONENT: u32 = 16;
const MEMORIES_PER_COMPONENT: u32 = 4;
const TABLES_PER_COMPONENT: u32 = 16;

/// Limits that shape the engine.
#[derive(Debug, Clone)]
pub struct EngineLimits {
    /// Linear memory cap of one component instance, in bytes.
    pub max_memory_bytes: usize,
    /// How many component instances may be alive at once (pooling allocator slots).
    pub max_instances: u32,
}

/// Which instance allocator the engine ended up with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allocator {
    Pooling,
    OnDemand,
}

impl std::fmt::Display for Allocator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Allocator::Pooling => "pooling",
            Allocator::OnDemand => "on-demand",
        })
    }
}

fn base_config() -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.wasm_component_model_async(true);
    config.epoch_interruption(true);
    config
}

fn env_bytes(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Builds the engine, preferring the pooling allocator.
pub fn build(limits: &EngineLimits) -> Result<(Engine, Allocator)> {
    let mut pooling = PoolingAllocationConfig::new();
    // Every component instance may use its per-component maximum of core
    // instances, memories and tables (a composed component has several), so
    // `max_instances` of them always fit.
    pooling
        .total_component_instances(limits.max_instances)
        .total_core_instances(
            limits
                .max_instances
                .saturating_mul(CORE_INSTANCES_PER_COMPONENT),
        )
        .total_memories(limits.max_instances.saturating_mul(MEMORIES_PER_COMPONENT))
        .total_tables(limits.max_instances.saturating_mul(TABLES_PER_COMPONENT))
        .total_stacks(limits.max_instances)
        .max_memory_size(limits.max_memory_bytes)
        .max_core_instances_per_component(CORE_INSTANCES_PER_COMPONENT)
        .max_memories_per_component(MEMORIES_PER_COMPONENT)
        .max_tables_per_component(TABLES_PER_COMPONENT)
        // Reset reused slots with memset instead of madvise for the first
        // pages: fresh-store-per-request churns slots constantly.
        .linear_memory_keep_resident(env_bytes("FBPOSTS_MEM_KEEP", 0))
        .table_keep_resident(env_bytes("FBPOSTS_TABLE_KEEP", 0))
        .async_stack_keep_resident(env_bytes("FBPOSTS_STACK_KEEP", 0));
    let mut config = base_config();
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
    match Engine::new(&config) {
        Ok(engine) if pooling_usable(&engine) => return Ok((engine, Allocator::Pooling)),
        Ok(_) => tracing::warn!("pooling allocator could not reserve memory; using on-demand"),
        Err(err) => tracing::warn!(error = %err, "pooling allocator unavailable; using on-demand"),
    }
    Ok((Engine::new(&base_config())?, Allocator::OnDemand))
}

/// The pool reserves its address space lazily on first use on some
/// platforms; a throwaway store proves the reservation works here.
fn pooling_usable(engine: &Engine) -> bool {
    let mut store = wasmtime::Store::new(engine, ());
    let ty = wasmtime::MemoryType::new(1, None);
    wasmtime::Memory::new(&mut store, ty).is_ok()
}

/// Ticks the engine's epoch on a background thread until dropped.
pub struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl EpochTicker {
    pub fn start(engine: Engine) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::thread::Builder::new()
            .name("epoch-ticker".into())
            .spawn({
                let stop = stop.clone();
                move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(EPOCH_TICK);
                        engine.increment_epoch();
                    }
                }
            })
            .expect("spawning the epoch thread");
        Self {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
