//! Runtime configuration: the subset of Spin's `runtime-config.toml` this host
//! understands, plus where local state lives ([`StatePaths`]).
//!
//! This module owns parsing and validating that file and the [`ConfigError`]
//! type used both for parse errors and for failures while opening the
//! configured stores (see `key_value::StoreManager::build`). It does not open
//! anything itself and does not depend on wasmtime.
//!
//! # Supported file format
//!
//! Only key-value store tables are supported; everything else (Spin's
//! `state_dir`, `log_dir`, `[sqlite_database.*]`, `[llm_compute]`, ...) is
//! rejected with an error naming the entry and the file, so a setting is never
//! silently ignored.
//!
//! ```toml
//! [key_value_store.default]     # override the implicit "default" store
//! type = "spin"                 # SQLite
//! path = "data/kv.db"           # relative: resolved against this file's directory
//!
//! [key_value_store.cache]
//! type = "redis"
//! url = "redis://localhost:6379"
//! # fbposts only (stock Spin ignores it): an in-process first tier
//! fbposts_l1 = { max_bytes = 67108864, ttl_seconds = 300 }
//! # fbposts only (a `type = "spin"` store): a shared Redis tier in front
//! # fbposts_l2 = { url = "redis://localhost:6379", ttl_seconds = 3600 }
//! # fbposts only: writes batched, at most 50 ms or 512 entries behind
//! # (`crate::key_value::write_behind`; not allowed on `default`)
//! fbposts_write_behind = { max_delay_ms = 50, max_entries = 512 }
//! ```
//!
//! # Semantics (mirroring Spin 3.x)
//!
//! These follow Spin's `crates/runtime-config/src/lib.rs`
//! (`key_value_config_resolver`, `DEFAULT_SPIN_STORE_FILENAME`) and
//! `crates/key-value-spin/src/lib.rs` (`SpinKeyValueStore::make_store`):
//!
//! * The label `default` exists implicitly as a SQLite store in the file
//!   `<state_dir>/sqlite_key_value.db` ([`DEFAULT_STORE_FILENAME`]), where the
//!   state dir defaults to `<manifest dir>/.spin`. A `[key_value_store.default]`
//!   table replaces it.
//! * `type = "spin"` with a `path`: an absolute path is used as is; a relative
//!   path is resolved against the directory containing the runtime config file
//!   (not the state dir, not the manifest dir). With no config file directory
//!   known ([`StatePaths::config_dir`] is `None`) it is relative to the current
//!   working directory, as in Spin.
//! * `type = "spin"` without `path`: Spin uses a private **in-memory** SQLite
//!   database (lost when the process exits), and so do we.
//! * `type = "redis"` requires `url`; keys are stored in Redis unprefixed.
//! * Any other `type` is an error that lists the supported types.
//! * No environment-variable expansion is performed on values.

pub use crate::key_value::shared_tier::L2Config;
pub use crate::key_value::tiered::L1Config;
pub use crate::key_value::write_behind::WriteBehindConfig;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// File name of the implicit `default` store inside the state directory
/// (Spin: `DEFAULT_SPIN_STORE_FILENAME`).
pub const DEFAULT_STORE_FILENAME: &str = "sqlite_key_value.db";

/// Spin's runtime-config.toml, the parts we support.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// `[key_value_store.<label>]` tables.
    pub key_value: KeyValueConfig,
}

/// All explicitly configured key-value stores, by label.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyValueConfig {
    pub stores: BTreeMap<String, StoreConfig>,
    /// Labels served through an in-process first tier (`fbposts_l1`).
    pub l1: BTreeMap<String, L1Config>,
    /// Labels whose writes are buffered (`fbposts_write_behind`).
    pub write_behind: BTreeMap<String, WriteBehindConfig>,
    /// SQLite labels behind a shared Redis tier (`fbposts_l2`).
    pub l2: BTreeMap<String, L2Config>,
}

/// One `[key_value_store.<label>]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreConfig {
    /// `type = "spin"`: SQLite. `path` is as written in the file (unresolved,
    /// see [`StatePaths::resolve_config_relative`]); `None` means an
    /// in-memory database.
    Spin { path: Option<PathBuf> },
    /// `type = "redis"`.
    Redis { url: String },
}

/// Where local state lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatePaths {
    /// Holds the implicit `default` store. Default: `<manifest dir>/.spin`.
    pub state_dir: PathBuf,
    /// Directory of the runtime config file, if one was given; relative
    /// `path`s of `spin` stores are resolved against it.
    pub config_dir: Option<PathBuf>,
}

impl StatePaths {
    /// The database file of the implicit `default` store.
    pub fn default_store_path(&self) -> PathBuf {
        absolute(&self.state_dir.join(DEFAULT_STORE_FILENAME))
    }

    /// Resolves a path written in the runtime config file.
    pub fn resolve_config_relative(&self, path: &Path) -> PathBuf {
        match &self.config_dir {
            Some(dir) if path.is_relative() => absolute(&dir.join(path)),
            _ => absolute(path),
        }
    }
}

/// Makes `path` absolute against the working directory without touching the
/// file system (no symlink resolution; the file need not exist).
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Errors reading the runtime config or opening the stores it describes.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read runtime config file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Syntax errors, unknown keys in a store table, unknown or missing
    /// `type`, missing `url`, wrong value types.
    #[error("invalid runtime config file {}: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error(
        "invalid runtime config file {}: unsupported top-level entry `{key}`; \
         this host supports only `[key_value_store.<label>]` tables",
        path.display()
    )]
    UnsupportedTopLevel { path: PathBuf, key: String },
    /// `fbposts_write_behind` or `fbposts_l2` on the durable `default` label.
    #[error(
        "invalid runtime config file {}: `{key}` is not allowed on the `default` store, \
         which holds durable state (feedback, experiments) and writes every change \
         through to its own backend; use it on a cache label",
        path.display()
    )]
    TierOnDefault { path: PathBuf, key: &'static str },
    /// Components use labels that no store is configured for.
    #[error("{}", undefined_labels_message(labels))]
    UndefinedStores { labels: Vec<String> },
    /// A configured store could not be opened. `store` is a password-free
    /// description such as "SQLite at /x/kv.db" or "Redis at redis://h:6379".
    #[error("cannot open key-value store `{label}` ({store}): {message}")]
    OpenStore {
        label: String,
        store: String,
        message: String,
    },
}

fn undefined_labels_message(labels: &[String]) -> String {
    let quoted: Vec<String> = labels.iter().map(|l| format!("`{l}`")).collect();
    let example = labels.first().map(String::as_str).unwrap_or("LABEL");
    let (what, fix) = if labels.len() == 1 {
        ("store", "no store with that label is configured")
    } else {
        ("stores", "no stores with those labels are configured")
    };
    format!(
        "the manifest grants access to key-value {what} {} but {fix} (only `default` exists \
         implicitly); add a table per label to the runtime config file (runtime-config.toml), \
         e.g.\n\n[key_value_store.{example}]\ntype = \"spin\"\npath = \"{example}.db\"\n\n\
         or with type = \"redis\" and url = \"redis://host:port\"",
        quoted.join(", "),
    )
}

// ---- serde mirror of the file ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    key_value_store: BTreeMap<String, RawStore>,
}

#[derive(Deserialize)]
#[serde(tag = "type", deny_unknown_fields)]
enum RawStore {
    #[serde(rename = "spin")]
    Spin {
        path: Option<PathBuf>,
        fbposts_l1: Option<RawL1>,
        fbposts_l2: Option<RawL2>,
        fbposts_write_behind: Option<RawWriteBehind>,
    },
    #[serde(rename = "redis")]
    Redis {
        url: String,
        fbposts_l1: Option<RawL1>,
        fbposts_write_behind: Option<RawWriteBehind>,
    },
}

/// The fbposts-only keys of a store table.
struct RawTiers {
    fbposts_l1: Option<RawL1>,
    fbposts_l2: Option<RawL2>,
    fbposts_write_behind: Option<RawWriteBehind>,
}

/// `fbposts_l2 = { url = "redis://…", ttl_seconds = … }` in a `type =
/// "spin"` table: a shared Redis tier in front of the label's SQLite
/// (`crate::key_value::shared_tier`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawL2 {
    url: String,
    ttl_seconds: std::num::NonZeroU64,
    local_prefixes: Option<Vec<String>>,
}

/// `fbposts_write_behind = { max_delay_ms = …, max_entries = … }`: the
/// label's writes are buffered (`crate::key_value::write_behind`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWriteBehind {
    max_delay_ms: std::num::NonZeroU64,
    max_entries: std::num::NonZeroUsize,
}

impl RawStore {
    fn split(self) -> (StoreConfig, RawTiers) {
        match self {
            RawStore::Spin {
                path,
                fbposts_l1,
                fbposts_l2,
                fbposts_write_behind,
            } => (
                StoreConfig::Spin { path },
                RawTiers {
                    fbposts_l1,
                    fbposts_l2,
                    fbposts_write_behind,
                },
            ),
            RawStore::Redis {
                url,
                fbposts_l1,
                fbposts_write_behind,
            } => (
                StoreConfig::Redis { url },
                RawTiers {
                    fbposts_l1,
                    fbposts_l2: None,
                    fbposts_write_behind,
                },
            ),
        }
    }
}

impl From<RawWriteBehind> for WriteBehindConfig {
    fn from(raw: RawWriteBehind) -> Self {
        WriteBehindConfig {
            max_delay: std::time::Duration::from_millis(raw.max_delay_ms.get()),
            max_entries: raw.max_entries.get(),
        }
    }
}

/// `fbposts_l1 = { max_bytes = …, ttl_seconds = … }` in a store table: an
/// in-process first tier for the label (`crate::key_value::tiered`). Stock
/// Spin ignores keys it does not know in a store table, so the file stays
/// valid for `spin up`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawL1 {
    max_bytes: std::num::NonZeroU64,
    ttl_seconds: std::num::NonZeroU64,
}

impl From<RawL1> for L1Config {
    fn from(raw: RawL1) -> Self {
        L1Config {
            max_bytes: raw.max_bytes.get(),
            ttl: std::time::Duration::from_secs(raw.ttl_seconds.get()),
        }
    }
}

impl RuntimeConfig {
    /// Reads and parses the runtime config file at `path`.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parses runtime config text; `origin` names the file in error messages.
    pub fn parse(toml_text: &str, origin: &Path) -> Result<Self, ConfigError> {
        let parse_error = |e: toml::de::Error| ConfigError::Parse {
            path: origin.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        };
        // First pass: syntax and top-level entries, for a targeted message.
        let table: toml::Table = toml::from_str(toml_text).map_err(parse_error)?;
        if let Some(key) = table.keys().find(|k| k.as_str() != "key_value_store") {
            return Err(ConfigError::UnsupportedTopLevel {
                path: origin.to_path_buf(),
                key: key.clone(),
            });
        }
        // Second pass from the text (not the table) so errors carry line/column.
        let raw: RawFile = toml::from_str(toml_text).map_err(parse_error)?;
        let mut config = KeyValueConfig::default();
        for (label, store) in raw.key_value_store {
            let (store, tiers) = store.split();
            if let Some(l1) = tiers.fbposts_l1 {
                config.l1.insert(label.clone(), l1.into());
            }
            if let Some(l2) = tiers.fbposts_l2 {
                if label == crate::key_value::DEFAULT_LABEL {
                    return Err(ConfigError::TierOnDefault {
                        path: origin.to_path_buf(),
                        key: "fbposts_l2",
                    });
                }
                config.l2.insert(
                    label.clone(),
                    L2Config {
                        url: l2.url,
                        ttl: std::time::Duration::from_secs(l2.ttl_seconds.get()),
                        local_prefixes: l2.local_prefixes.unwrap_or_else(|| {
                            crate::key_value::shared_tier::DEFAULT_LOCAL_PREFIXES
                                .iter()
                                .map(|prefix| prefix.to_string())
                                .collect()
                        }),
                    },
                );
            }
            if let Some(buffer) = tiers.fbposts_write_behind {
                if label == crate::key_value::DEFAULT_LABEL {
                    return Err(ConfigError::TierOnDefault {
                        path: origin.to_path_buf(),
                        key: "fbposts_write_behind",
                    });
                }
                config.write_behind.insert(label.clone(), buffer.into());
            }
            config.stores.insert(label, store);
        }
        Ok(Self { key_value: config })
    }
}

#[cfg(test)]
#[path = "runtime_config_tests.rs"]
mod tests;
