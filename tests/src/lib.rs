//! Shared end-to-end fixtures (the `support` library of the e2e test target):
//! builds the host and the components once per test process, starts
//! `fbposts up` on a free loopback port with its own state directory, and
//! talks to it over HTTP.

mod process;

pub use process::{OutputWithin, output_within};
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long `fbposts up` may take to print its address (see [`Server::start_with_env`]).
const START_LIMIT: Duration = Duration::from_secs(600);

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the repo")
        .to_path_buf()
}

/// The `fbposts` binary of the same profile as this test binary.
pub fn fbposts_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/e2e-<hash> -> target/<profile>/fbposts
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile>")
        .join("fbposts")
}

fn run(cmd: &mut Command) {
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    assert!(status.success(), "{cmd:?} failed with {status}");
}

/// Builds the host binary (unless `FBPOSTS_E2E_PREBUILT` says it is built)
/// and every component of both manifests, once.
pub fn ensure_built() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let root = repo_root();
        // target/<dir>/fbposts: the dir is the profile's name, except `debug` for `dev`.
        let dir = fbposts_bin()
            .parent()
            .and_then(Path::file_name)
            .and_then(|dir| dir.to_str())
            .unwrap_or("debug")
            .to_string();
        let profile = if dir == "debug" {
            "dev".to_string()
        } else {
            dir
        };
        // tests/run.sh builds the host with every other target first (one
        // feature resolution for all); rebuilding it alone here would
        // resolve features differently and recompile the runtime.
        if std::env::var_os("FBPOSTS_E2E_PREBUILT").is_none() {
            run(Command::new(env!("CARGO")).current_dir(&root).args([
                "build",
                "-p",
                "fbposts",
                "--profile",
                &profile,
            ]));
        }
        for manifest in ["spin.toml", "tests/spin.toml"] {
            run(Command::new(fbposts_bin())
                .current_dir(&root)
                .args(["build", "-f", manifest]));
        }
    });
}

/// A running `fbposts up`, killed on drop.
pub struct Server {
    child: Child,
    pub base: String,
    pub state_dir: PathBuf,
    log: PathBuf,
}

pub struct Options<'a> {
    pub manifest: &'a str,
    pub state_dir: &'a Path,
    pub runtime_config: Option<&'a Path>,
    pub extra_args: &'a [&'a str],
}

impl Server {
    pub fn start(opts: Options<'_>) -> Server {
        Server::start_with_env(opts, &[])
    }

    /// Like [`Server::start`], with extra environment variables for the
    /// `fbposts up` process (e.g. `SPIN_VARIABLE_*`; `FBPOSTS_LOG` overrides
    /// the default `info`).
    pub fn start_with_env(opts: Options<'_>, env: &[(&str, &str)]) -> Server {
        ensure_built();
        let root = repo_root();
        std::fs::create_dir_all(opts.state_dir).unwrap();
        let log = opts.state_dir.join(format!(
            "fbposts-{}.log",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        let mut cmd = Command::new(fbposts_bin());
        cmd.current_dir(&root)
            .args([
                "up",
                "-f",
                opts.manifest,
                "--listen",
                "127.0.0.1:0",
                "--state-dir",
            ])
            .arg(opts.state_dir)
            .args(opts.extra_args)
            .env("FBPOSTS_LOG", "info")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap());
        if let Some(config) = opts.runtime_config {
            cmd.arg("--runtime-config-file").arg(config);
        }
        let mut child = cmd.spawn().expect("starting fbposts up");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let mut stdout_copy = std::fs::File::create(log.with_extension("stdout")).unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = writeln!(stdout_copy, "{line}");
                if let Some(url) = line.strip_prefix("Serving ") {
                    let _ = tx.send(url.trim().to_string());
                }
            }
        });
        // A safety net, not a measure: a cold start of the portable app
        // compiles tract into three components one after another, and on a
        // loaded 2-core machine with the other tests running that took
        // 63 + 67 s for two of them (over the 180 s this used to allow).
        let base = match rx.recv_timeout(START_LIMIT) {
            Ok(base) => base,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "fbposts up did not start; log:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
        };
        Server {
            child,
            base,
            state_dir: opts.state_dir.to_path_buf(),
            log,
        }
    }

    /// Starts the real app (`spin.toml`) with SQLite stores in `state_dir`.
    pub fn app(state_dir: &Path) -> Server {
        Server::app_with_args(state_dir, &[])
    }

    /// The app (`spin.toml`) on SQLite stores in `state_dir`, with extra
    /// `fbposts up` arguments.
    pub fn app_with_args(state_dir: &Path, extra_args: &[&str]) -> Server {
        Server::start(Options {
            manifest: "spin.toml",
            state_dir,
            runtime_config: Some(&sqlite_config(state_dir)),
            extra_args,
        })
    }

    /// The process id of `fbposts up`.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// What the process wrote to stdout so far (its own lines; guest output goes to the log).
    pub fn stdout(&self) -> String {
        std::fs::read_to_string(self.log.with_extension("stdout")).unwrap_or_default()
    }

    /// Stops with SIGTERM (graceful) and waits.
    pub fn stop(mut self) -> String {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(40);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.log()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A runtime config putting both stores in SQLite files under `dir`.
pub fn sqlite_config(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("runtime-config.toml");
    std::fs::write(
        &path,
        format!(
            "[key_value_store.default]\ntype = \"spin\"\npath = {:?}\n\n[key_value_store.cache]\ntype = \"spin\"\npath = {:?}\n",
            dir.join("default.db"),
            dir.join("cache.db"),
        ),
    )
    .unwrap();
    path
}

pub fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// Status, `x-cache` header and JSON body of a response.
pub struct Reply {
    pub status: u16,
    pub cache: Option<String>,
    pub content_type: Option<String>,
    pub body: Value,
    pub text: String,
}

pub fn reply(response: reqwest::blocking::Response) -> Reply {
    let status = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let cache = header("x-cache");
    let content_type = header("content-type");
    let text = response.text().unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
        status,
        cache,
        content_type,
        body,
        text,
    }
}

pub fn post_json(server: &Server, path: &str, body: &Value) -> Reply {
    reply(
        client()
            .post(server.url(path))
            .json(body)
            .send()
            .expect("request"),
    )
}

pub fn post_raw(server: &Server, path: &str, content_type: &str, body: Vec<u8>) -> Reply {
    reply(
        client()
            .post(server.url(path))
            .header("content-type", content_type)
            .body(body)
            .send()
            .expect("request"),
    )
}

/// A free loopback TCP port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `redis-server` on a free loopback port, killed on drop.
pub struct Redis {
    child: Child,
    pub url: String,
}

impl Redis {
    pub fn start() -> Redis {
        Redis::start_on(free_port())
    }

    /// A server on `port` (e.g. one an app was told to use before it ran).
    pub fn start_on(port: u16) -> Redis {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed (the README's test command installs it)");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Redis {
            child,
            url: format!("redis://127.0.0.1:{port}"),
        }
    }
}

impl Redis {
    /// Runs `redis-cli` against this server; its trimmed output.
    pub fn cli(&self, args: &[&str]) -> String {
        let output = output_within(
            Command::new("redis-cli").args(["-u", &self.url]).args(args),
            Duration::from_secs(60),
        );
        assert!(output.status.success(), "redis-cli {args:?}: {output:?}");
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }

    /// Sends `signal` (`STOP`, `CONT`) to the server: a stopped Redis keeps
    /// its connections open but answers nothing.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill");
        assert!(status.success(), "kill -{signal} redis-server");
    }

    /// A runtime config with both labels (`default`, `cache`) on this Redis.
    pub fn config(&self, dir: &Path) -> PathBuf {
        std::fs::create_dir_all(dir).unwrap();
        let path = dir.join("redis-config.toml");
        std::fs::write(
            &path,
            format!(
                "[key_value_store.default]\ntype = \"redis\"\nurl = \"{0}\"\n\n[key_value_store.cache]\ntype = \"redis\"\nurl = \"{0}\"\n",
                self.url
            ),
        )
        .unwrap();
        path
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn get(server: &Server, path: &str) -> Reply {
    reply(client().get(server.url(path)).send().expect("request"))
}

/// An RFC 3339 UTC time `days_ago` days before now (feedback's
/// `published_at` must be recent: older events are refused).
pub fn days_ago_rfc3339(days_ago: u64) -> String {
    let secs = secs_days_ago(days_ago);
    let in_day = secs % 86_400;
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        civil_date(secs),
        in_day / 3_600,
        in_day / 60 % 60,
        in_day % 60
    )
}

/// The UTC date (`YYYY-MM-DD`) `days_ago` days before today, for a recent
/// `published_at` at a chosen time of day: `format!("{}T19:00:00+01:00", …)`.
pub fn date_days_ago(days_ago: u64) -> String {
    civil_date(secs_days_ago(days_ago))
}

fn secs_days_ago(days_ago: u64) -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - days_ago * 86_400
}

/// Seconds since the Unix epoch to a civil date (Howard Hinnant's algorithm).
fn civil_date(secs: u64) -> String {
    let days = (secs / 86_400) as i64 + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}
