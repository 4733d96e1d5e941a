//! `fbposts bench-kv`: throughput of the SQLite key-value backend on this
//! machine — concurrent tasks doing `get`s, then `set`s, of fixed-size values
//! over a fixed set of keys, on a multi-thread runtime and on a
//! current-thread one, in a file with `synchronous = NORMAL` (writes run
//! inline unless they would wait, see `key_value::sqlite::writes`). What
//! `host/src/key_value/sqlite/mod.rs` quotes comes from here.

use crate::key_value::Store;
use crate::key_value::sqlite::{Database, Durability, default_readers};
use anyhow::{Context, Result};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// `fbposts bench-kv`'s options.
#[derive(Debug, clap::Args)]
pub struct BenchKvArgs {
    /// Tasks running at once.
    #[arg(short = 'c', long, default_value_t = 64)]
    tasks: usize,
    /// Operations per task and kind.
    #[arg(long, default_value_t = 2000)]
    ops: usize,
    /// Keys the operations spread over.
    #[arg(long, default_value_t = 1000)]
    keys: usize,
    /// Bytes per value.
    #[arg(long, default_value_t = 200)]
    value_bytes: usize,
    /// Where the database files go (fresh ones, removed after; default: the system's temporary directory).
    #[arg(long)]
    dir: Option<PathBuf>,
}

/// Runs the benchmark on both runtimes and prints one line per kind.
pub fn run_kv(args: BenchKvArgs) -> Result<()> {
    anyhow::ensure!(
        args.tasks >= 1 && args.keys >= 1,
        "-c and --keys must be at least 1"
    );
    let dir = args.dir.clone().unwrap_or_else(std::env::temp_dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let runtimes = [
        (
            "multi-thread runtime",
            tokio::runtime::Builder::new_multi_thread(),
        ),
        (
            "current-thread runtime",
            tokio::runtime::Builder::new_current_thread(),
        ),
    ];
    for (i, (name, mut builder)) in runtimes.into_iter().enumerate() {
        let runtime = builder.enable_all().build()?;
        let file = dir.join(format!("fbposts-bench-kv-{}-{i}.db", std::process::id()));
        runtime.block_on(throughput(&args, &file, name))?;
    }
    Ok(())
}

async fn throughput(args: &BenchKvArgs, file: &std::path::Path, runtime: &str) -> Result<()> {
    let db = Database::open_file(file, default_readers(), Durability::Normal).await?;
    let store = Arc::new(db.store("default"));
    let value = vec![b'x'; args.value_bytes];
    for i in 0..args.keys {
        store.set(&format!("key{i}"), &value).await?;
    }
    for (kind, write) in [("get", false), ("set", true)] {
        let started = Instant::now();
        let mut handles = Vec::new();
        for task in 0..args.tasks {
            let (store, value) = (store.clone(), value.clone());
            let (ops, keys) = (args.ops, args.keys);
            handles.push(tokio::spawn(async move {
                for i in 0..ops {
                    let key = format!("key{}", (task * 31 + i) % keys);
                    if write {
                        store.set(&key, &value).await?;
                    } else {
                        anyhow::ensure!(store.get(&key).await?.is_some(), "{key} is missing");
                    }
                }
                Ok::<_, anyhow::Error>(())
            }));
        }
        for handle in handles {
            handle.await??;
        }
        let seconds = started.elapsed().as_secs_f64();
        let ops = (args.tasks * args.ops) as f64;
        println!(
            "sqlite {kind}, {runtime}: {} tasks x {} ops in {seconds:.2} s = {:.0} ops/s ({} readers, {} cores)",
            args.tasks,
            args.ops,
            ops / seconds,
            default_readers(),
            std::thread::available_parallelism().map_or(0, |n| n.get()),
        );
    }
    drop(store);
    drop(db);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
    }
    Ok(())
}
