//! Tests of the runtime config's parsing and validation.

use super::*;

fn parse(text: &str) -> Result<RuntimeConfig, ConfigError> {
    RuntimeConfig::parse(text, Path::new("/cfg/runtime-config.toml"))
}

fn err(text: &str) -> String {
    parse(text).unwrap_err().to_string()
}

#[test]
fn parses_good_config() {
    let cfg = parse(
        r#"
        [key_value_store.default]
        type = "spin"
        path = "data/kv.db"

        [key_value_store.mem]
        type = "spin"

        [key_value_store.cache]
        type = "redis"
        url = "redis://localhost:6379"
        "#,
    )
    .unwrap();
    let stores = &cfg.key_value.stores;
    assert_eq!(stores.len(), 3);
    assert_eq!(
        stores["default"],
        StoreConfig::Spin {
            path: Some("data/kv.db".into())
        }
    );
    assert_eq!(stores["mem"], StoreConfig::Spin { path: None });
    assert_eq!(
        stores["cache"],
        StoreConfig::Redis {
            url: "redis://localhost:6379".into()
        }
    );
}

#[test]
fn empty_file_is_empty_config() {
    assert_eq!(parse("").unwrap(), RuntimeConfig::default());
    assert_eq!(
        parse("[key_value_store]\n").unwrap(),
        RuntimeConfig::default()
    );
}

#[test]
fn unknown_top_level_table_is_rejected() {
    let msg = err("[sqlite_database.default]\ntype = \"spin\"\n");
    assert!(msg.contains("/cfg/runtime-config.toml"), "{msg}");
    assert!(msg.contains("`sqlite_database`"), "{msg}");
    assert!(msg.contains("key_value_store"), "{msg}");
    let msg = err("state_dir = \"x\"\n");
    assert!(msg.contains("`state_dir`"), "{msg}");
}

#[test]
fn unknown_key_in_store_is_rejected() {
    let msg = err("[key_value_store.foo]\ntype = \"spin\"\npaht = \"x.db\"\n");
    assert!(msg.contains("/cfg/runtime-config.toml"), "{msg}");
    assert!(msg.contains("paht"), "{msg}");
    let msg = err("[key_value_store.foo]\ntype = \"redis\"\nurl = \"redis://x\"\npath = \"y\"\n");
    assert!(msg.contains("path"), "{msg}");
}

#[test]
fn an_in_process_tier_is_read_per_label() {
    let cfg = parse(
        "[key_value_store.cache]\ntype = \"redis\"\nurl = \"redis://x\"\n\
         fbposts_l1 = { max_bytes = 1048576, ttl_seconds = 30 }\n\
         [key_value_store.default]\ntype = \"spin\"\n",
    )
    .unwrap();
    let l1 = &cfg.key_value.l1;
    assert_eq!(l1.len(), 1, "only the label that asks gets a tier");
    assert_eq!(l1["cache"].max_bytes, 1_048_576);
    assert_eq!(l1["cache"].ttl, std::time::Duration::from_secs(30));
}

#[test]
fn an_in_process_tier_with_a_zero_or_unknown_bound_is_rejected() {
    let msg = err("[key_value_store.cache]\ntype = \"spin\"\n\
         fbposts_l1 = { max_bytes = 0, ttl_seconds = 30 }\n");
    assert!(msg.contains("[key_value_store.cache]"), "{msg}");
    assert!(msg.contains("expected a nonzero"), "{msg}");
    let msg = err("[key_value_store.cache]\ntype = \"spin\"\n\
         fbposts_l1 = { max_bytes = 10, ttl = 30 }\n");
    assert!(msg.contains("ttl"), "{msg}");
}

#[test]
fn a_write_behind_buffer_is_read_per_label() {
    let cfg = parse(
        "[key_value_store.cache]\ntype = \"spin\"\npath = \"cache.db\"\n\
         fbposts_write_behind = { max_delay_ms = 50, max_entries = 512 }\n\
         [key_value_store.other]\ntype = \"spin\"\n",
    )
    .unwrap();
    let buffers = &cfg.key_value.write_behind;
    assert_eq!(buffers.len(), 1, "only the label that asks buffers");
    assert_eq!(
        buffers["cache"].max_delay,
        std::time::Duration::from_millis(50)
    );
    assert_eq!(buffers["cache"].max_entries, 512);
}

#[test]
fn a_shared_redis_tier_is_read_for_sqlite_labels_only() {
    let cfg = parse(
        "[key_value_store.cache]\ntype = \"spin\"\npath = \"cache.db\"\n\
         fbposts_l2 = { url = \"redis://cache.internal:6379\", ttl_seconds = 3600 }\n",
    )
    .unwrap();
    assert_eq!(cfg.key_value.l2["cache"].url, "redis://cache.internal:6379");
    assert_eq!(cfg.key_value.l2["cache"].local_prefixes, ["expiry/"]);
    let none = parse(
        "[key_value_store.cache]\ntype = \"spin\"\n\
         fbposts_l2 = { url = \"redis://x\", ttl_seconds = 60, local_prefixes = [] }\n",
    )
    .unwrap();
    assert!(none.key_value.l2["cache"].local_prefixes.is_empty());
    assert_eq!(
        cfg.key_value.l2["cache"].ttl,
        std::time::Duration::from_secs(3600)
    );
    let msg = err(
        "[key_value_store.cache]\ntype = \"redis\"\nurl = \"redis://x\"\n\
         fbposts_l2 = { url = \"redis://y\", ttl_seconds = 60 }\n",
    );
    assert!(msg.contains("fbposts_l2"), "{msg}");
    let msg = err("[key_value_store.default]\ntype = \"spin\"\n\
         fbposts_l2 = { url = \"redis://y\", ttl_seconds = 60 }\n");
    assert!(
        msg.contains("`fbposts_l2` is not allowed on the `default` store"),
        "{msg}"
    );
}

#[test]
fn a_write_behind_buffer_on_the_durable_default_store_is_rejected() {
    let msg = err("[key_value_store.default]\ntype = \"spin\"\n\
         fbposts_write_behind = { max_delay_ms = 50, max_entries = 512 }\n");
    assert!(msg.contains("not allowed on the `default` store"), "{msg}");
    assert!(msg.contains("/cfg/runtime-config.toml"), "{msg}");
}

#[test]
fn a_write_behind_buffer_with_a_zero_or_unknown_bound_is_rejected() {
    let msg = err(
        "[key_value_store.cache]\ntype = \"redis\"\nurl = \"redis://x\"\n\
         fbposts_write_behind = { max_delay_ms = 0, max_entries = 512 }\n",
    );
    assert!(msg.contains("expected a nonzero"), "{msg}");
    let msg = err("[key_value_store.cache]\ntype = \"spin\"\n\
         fbposts_write_behind = { delay = 5, max_entries = 512 }\n");
    assert!(msg.contains("delay"), "{msg}");
}

#[test]
fn unknown_type_lists_supported_ones() {
    let msg = err("[key_value_store.foo]\ntype = \"azure_cosmos\"\n");
    assert!(msg.contains("azure_cosmos"), "{msg}");
    assert!(msg.contains("expected `spin` or `redis`"), "{msg}");
}

#[test]
fn missing_type_is_rejected() {
    let msg = err("[key_value_store.foo]\npath = \"x.db\"\n");
    assert!(msg.contains("type"), "{msg}");
}

#[test]
fn redis_without_url_is_rejected() {
    let msg = err("[key_value_store.foo]\ntype = \"redis\"\n");
    assert!(msg.contains("missing field `url`"), "{msg}");
}

#[test]
fn syntax_error_names_file_and_line() {
    let msg = err("[key_value_store.foo\n");
    assert!(msg.contains("/cfg/runtime-config.toml"), "{msg}");
    assert!(msg.contains("line 1"), "{msg}");
}

#[test]
fn from_file_reports_missing_file() {
    let msg = RuntimeConfig::from_file(Path::new("/nonexistent/rc.toml"))
        .unwrap_err()
        .to_string();
    assert!(msg.contains("/nonexistent/rc.toml"), "{msg}");
}

#[test]
fn from_file_reads_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("runtime-config.toml");
    std::fs::write(&file, "[key_value_store.a]\ntype = \"spin\"\n").unwrap();
    let cfg = RuntimeConfig::from_file(&file).unwrap();
    assert_eq!(cfg.key_value.stores["a"], StoreConfig::Spin { path: None });
}

#[test]
fn relative_paths_resolve_against_config_dir() {
    let paths = StatePaths {
        state_dir: "/app/.spin".into(),
        config_dir: Some("/etc/fb".into()),
    };
    assert_eq!(
        paths.default_store_path(),
        PathBuf::from("/app/.spin/sqlite_key_value.db")
    );
    assert_eq!(
        paths.resolve_config_relative(Path::new("data/kv.db")),
        PathBuf::from("/etc/fb/data/kv.db")
    );
    assert_eq!(
        paths.resolve_config_relative(Path::new("/var/kv.db")),
        PathBuf::from("/var/kv.db")
    );
}

#[test]
fn relative_state_dir_is_made_absolute() {
    let paths = StatePaths {
        state_dir: "state".into(),
        config_dir: Some("conf".into()),
    };
    let cwd = std::env::current_dir().unwrap();
    assert_eq!(
        paths.default_store_path(),
        cwd.join("state/sqlite_key_value.db")
    );
    assert_eq!(
        paths.resolve_config_relative(Path::new("kv.db")),
        cwd.join("conf/kv.db")
    );
}

#[test]
fn relative_paths_without_config_dir_use_cwd() {
    let paths = StatePaths {
        state_dir: "/app/.spin".into(),
        config_dir: None,
    };
    let cwd = std::env::current_dir().unwrap();
    assert_eq!(
        paths.resolve_config_relative(Path::new("kv.db")),
        cwd.join("kv.db")
    );
}

#[test]
fn undefined_label_message_explains_fix() {
    let msg = ConfigError::UndefinedStores {
        labels: vec!["posts".into()],
    }
    .to_string();
    assert!(msg.contains("`posts`"), "{msg}");
    assert!(msg.contains("[key_value_store.posts]"), "{msg}");
    assert!(msg.contains("runtime-config.toml"), "{msg}");
}
