//! A throw-away `redis-server` for tests.

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `redis-server` on a free loopback port, with persistence off; killed
/// on drop.
pub(crate) struct RedisServer {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl RedisServer {
    /// Starts a server. If `redis-server` is not on PATH this panics with
    /// an explanation, unless `FBPOSTS_SKIP_REDIS=1`, in which case it
    /// returns `None` and the caller skips (printing why).
    pub(crate) fn start(test: &str) -> Option<Self> {
        let found = std::env::var_os("PATH").is_some_and(|paths| {
            std::env::split_paths(&paths).any(|dir| dir.join("redis-server").is_file())
        });
        if !found {
            if std::env::var("FBPOSTS_SKIP_REDIS").as_deref() == Ok("1") {
                eprintln!("SKIPPED {test}: redis-server not on PATH and FBPOSTS_SKIP_REDIS=1");
                return None;
            }
            panic!(
                "{test} needs `redis-server` on PATH (Debian/Ubuntu: \
                 `apt-get install -y redis-server`); set FBPOSTS_SKIP_REDIS=1 to skip \
                 the Redis tests explicitly"
            );
        }
        let dir = tempfile::tempdir().expect("temp dir for redis-server");
        // Retry in case another process grabs the port between probe and bind.
        for _ in 0..5 {
            let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
                .and_then(|l| l.local_addr())
                .expect("probe a free port")
                .port();
            if let Some(child) = spawn_on(port, dir.path()) {
                return Some(Self { child, port, dir });
            }
        }
        panic!("{test}: redis-server did not start listening");
    }

    /// Kills the server and starts a fresh, empty one on the same port.
    pub(crate) fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = spawn_on(self.port, self.dir.path()).expect("restart redis-server");
    }

    /// Stops (`SIGSTOP`) or resumes (`SIGCONT`) the server process: a Redis
    /// that keeps its connections open but does not answer.
    pub(crate) fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} failed");
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

/// Spawns `redis-server` on `port` and waits until it accepts
/// connections; `None` if it exits or never listens.
fn spawn_on(port: u16, dir: &std::path::Path) -> Option<Child> {
    let mut child = Command::new("redis-server")
        .args(["--port", &port.to_string()])
        .args(["--bind", "127.0.0.1"])
        .args(["--save", ""])
        .args(["--appendonly", "no"])
        .args(["--daemonize", "no"])
        .arg("--dir")
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn redis-server");
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return None; // exited: port probably taken
        }
        if TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return Some(child);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
