//! The cron trigger: runs `[[trigger.cron]]` components on their schedules,
//! in the format of Spin's `trigger-cron` plugin (a `cron_expression` with
//! seconds; the component exports `handle-cron-event` of the
//! `fermyon:spin-cron/spin-cron` world in `wit/cron/cron.wit`).
//!
//! Each run gets a fresh instance with the same store as an HTTP request —
//! every capability, the memory cap, and the request deadline — so a
//! scheduled job cannot do more than a request could. Runs of one trigger
//! never overlap: a run still going when the next time comes makes that time
//! be skipped (and logged), as a scheduler that keeps one job per trigger
//! does. Missed times are not replayed after a pause; the next run is the
//! next time in the schedule from now.

mod schedule;

use crate::host_state::{HostState, StoreTemplate};
use anyhow::{Context, Result, anyhow};
use std::time::Duration;
use wasmtime::component::{Component, Linker};

pub use schedule::Schedule;

mod bindings {
    wasmtime::component::bindgen!({
        world: "spin-cron",
        path: "../wit/cron",
        exports: { default: async | store },
    });
}

use bindings::fermyon::spin_cron::cron_types::{Error as CronError, Metadata};
use bindings::{SpinCron, SpinCronPre};

/// One `[[trigger.cron]]` entry, ready to run.
pub struct CronJob {
    pub component_id: String,
    schedule: Schedule,
    pre: SpinCronPre<HostState>,
    stores: StoreTemplate,
    timeout: Duration,
}

impl CronJob {
    /// Checks that `compiled` exports the cron world and pre-instantiates it.
    pub fn new(
        component_id: &str,
        schedule: Schedule,
        linker: &Linker<HostState>,
        compiled: &Component,
        stores: StoreTemplate,
        timeout: Duration,
    ) -> Result<Self> {
        let pre = linker
            .instantiate_pre(compiled)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("component {component_id:?}: unsatisfied imports"))?;
        let pre = SpinCronPre::new(pre)
            .map_err(anyhow::Error::from)
            .with_context(|| {
                format!(
                    "component {component_id:?} is a `[[trigger.cron]]` component but does not export `handle-cron-event` (world fermyon:spin-cron/spin-cron in wit/cron/cron.wit)"
                )
            })?;
        Ok(Self {
            component_id: component_id.to_string(),
            schedule,
            pre,
            stores,
            timeout,
        })
    }

    /// Runs the job on its schedule until the task is dropped.
    pub async fn run_on_schedule(self) {
        tracing::info!(component = %self.component_id, schedule = %self.schedule, "cron trigger armed");
        loop {
            let Some(wait) = self.schedule.until_next() else {
                tracing::warn!(component = %self.component_id, "the schedule has no future time; cron trigger stops");
                return;
            };
            tokio::time::sleep(wait).await;
            let timestamp = self.schedule.now_unix_seconds();
            let started = std::time::Instant::now();
            let outcome = self.run_once(timestamp).await;
            let ms = (started.elapsed().as_secs_f64() * 1e6).round() / 1e3;
            match outcome {
                Ok(()) => {
                    tracing::info!(target: "fbposts::cron", component = %self.component_id, timestamp, duration_ms = ms, "cron run succeeded")
                }
                Err(err) => {
                    tracing::warn!(target: "fbposts::cron", component = %self.component_id, timestamp, duration_ms = ms, error = %format!("{err:#}"), "cron run failed")
                }
            }
        }
    }

    /// One run: a fresh instance, `handle-cron-event(timestamp)`, within the
    /// request deadline.
    pub async fn run_once(&self, timestamp: u64) -> Result<()> {
        match tokio::time::timeout(self.timeout, self.call(timestamp)).await {
            Ok(result) => result,
            Err(_) => Err(anyhow!(
                "the run exceeded its deadline of {:?} and was stopped",
                self.timeout
            )),
        }
    }

    async fn call(&self, timestamp: u64) -> Result<()> {
        let mut store = self.stores.new_store_with_dependencies().await?;
        let instance = self
            .pre
            .instance_pre()
            .instantiate_async(&mut store)
            .await?;
        let cron = SpinCron::new(&mut store, &instance)?;
        let result = store
            .run_concurrent(async move |accessor| {
                cron.call_handle_cron_event(accessor, Metadata { timestamp })
                    .await
            })
            .await??;
        result.map_err(|CronError::Other(message)| anyhow!("the component failed: {message}"))
    }
}
