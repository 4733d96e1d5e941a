//! `GET /dashboard` through the real host: the component serves its
//! embedded files with their types, lengths and cache headers (a redirect
//! for the bare path, `304` on a matching ETag, JSON `404`/`405`), and in
//! real headless Chromium (tests/browser/dashboard.py: Debian's `chromium`
//! driven by Playwright) the page loads without console errors, its charts
//! fill under traffic, the p99 alert shows up, and with events on (Redis)
//! the live stream lists analyses and three poor outcomes of one page show
//! as a business alert. The screenshot is kept at
//! `target/artifacts/dashboard.png`.

use std::path::Path;
use std::process::Command;
use std::time::Duration;
use support::{Options, OutputWithin, Redis, Server, repo_root, sqlite_config};

const CHROMIUM: &str = "/usr/bin/chromium";
const JS: &str = "text/javascript; charset=utf-8";

/// What one embedded file must be served with.
struct Served {
    path: &'static str,
    content_type: &'static str,
    cache_control: &'static str,
}

impl Served {
    fn new(path: &'static str, content_type: &'static str, cache_control: &'static str) -> Self {
        Served {
            path,
            content_type,
            cache_control,
        }
    }
}

fn start(dir: &Path, extra_args: &[&str]) -> Server {
    Server::start(Options {
        manifest: "spin.toml",
        state_dir: dir,
        runtime_config: Some(&sqlite_config(dir)),
        extra_args,
    })
}

/// A client that shows redirects instead of following them.
fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn header(response: &reqwest::blocking::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

#[test]
fn the_dashboard_serves_its_embedded_files_with_types_lengths_and_cache_headers() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &[]);
    let http = client();

    let bare = http.get(server.url("/dashboard")).send().unwrap();
    assert_eq!(bare.status(), 308);
    assert_eq!(header(&bare, "location"), "/dashboard/");

    let revalidated = "no-cache";
    let vendored = "public, max-age=31536000, immutable";
    let files = [
        Served::new("/dashboard/", "text/html; charset=utf-8", revalidated),
        Served::new("/dashboard/app.js", JS, revalidated),
        Served::new(
            "/dashboard/style.css",
            "text/css; charset=utf-8",
            revalidated,
        ),
        Served::new(
            "/dashboard/vendor/uplot-1.6.32/uPlot.iife.min.js",
            JS,
            vendored,
        ),
        Served::new(
            "/dashboard/vendor/uplot-1.6.32/LICENSE",
            "text/plain; charset=utf-8",
            vendored,
        ),
    ];
    for Served {
        path,
        content_type,
        cache_control,
    } in files
    {
        let response = http.get(server.url(path)).send().unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(header(&response, "content-type"), content_type, "{path}");
        assert_eq!(header(&response, "cache-control"), cache_control, "{path}");
        assert_eq!(header(&response, "x-content-type-options"), "nosniff");
        let length: usize = header(&response, "content-length").parse().unwrap();
        let etag = header(&response, "etag");
        let body = response.bytes().unwrap();
        assert_eq!(body.len(), length, "{path}");

        let again = http
            .get(server.url(path))
            .header("if-none-match", &etag)
            .send()
            .unwrap();
        assert_eq!(
            again.status(),
            304,
            "{path}: a matching ETag is not sent again"
        );
    }
    let html = http
        .get(server.url("/dashboard/"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no CDN: every asset is this app's"
    );
    let license = http
        .get(server.url("/dashboard/vendor/uplot-1.6.32/LICENSE"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(license.contains("MIT License"), "{license}");

    let sources: serde_json::Value = http
        .get(server.url("/dashboard/sources.json"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        sources["sources"],
        serde_json::json!({
            "analytics_summary": "/api/analytics/summary",
            "analytics_suggestions": "/api/analytics/suggestions",
            "analytics_stream": "/api/analytics/stream",
            "metrics": "/metrics",
        }),
        "the manifest names the events' routes and the host's metrics"
    );

    let missing = http.get(server.url("/dashboard/nope.js")).send().unwrap();
    assert_eq!(missing.status(), 404);
    let body: serde_json::Value = missing.json().unwrap();
    assert_eq!(body["error"]["code"], "not_found");

    let post = http.post(server.url("/dashboard/")).send().unwrap();
    assert_eq!(post.status(), 405);
    assert_eq!(header(&post, "allow"), "GET");
    let body: serde_json::Value = post.json().unwrap();
    assert_eq!(body["error"]["code"], "method_not_allowed");
}

/// SQLite stores under `dir`, the `cache` label behind an in-process tier
/// (as the shipped runtime-config.toml has it), for the cache panel.
fn tiered_cache_config(dir: &Path) -> std::path::PathBuf {
    let path = sqlite_config(dir);
    let mut text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.trim_end().ends_with("cache.db\""),
        "the cache table comes last:\n{text}"
    );
    text.push_str("fbposts_l1 = { max_bytes = 8388608, ttl_seconds = 60 }\n");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn in_chromium_the_dashboard_loads_cleanly_fills_its_charts_and_shows_the_p99_alert() {
    let root = repo_root();
    let python = root.join(".venv/bin/python");
    assert!(
        Path::new(CHROMIUM).exists() && python.exists(),
        "the browser test needs {CHROMIUM} and Playwright in .venv: run tests/browser/setup.sh"
    );
    let artifacts = root.join("target/artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let screenshot = artifacts.join("dashboard.png");
    let _ = std::fs::remove_file(&screenshot);

    let dir = tempfile::tempdir().unwrap();
    let redis = Redis::start();
    let server = Server::start_with_env(
        Options {
            manifest: "spin.toml",
            state_dir: dir.path(),
            runtime_config: Some(&tiered_cache_config(dir.path())),
            extra_args: &["--alert-interval", "0.2", "--alert-p99-ms", "0.001"],
        },
        &[("SPIN_VARIABLE_EVENTS_REDIS_ADDRESS", redis.url.as_str())],
    );
    crate::events::wait_for_subscriber(&redis, &server);
    let output = Command::new(&python)
        .arg(root.join("tests/browser/dashboard.py"))
        .arg(&server.base)
        .arg(&screenshot)
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
        .output_within(Duration::from_secs(180));
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{report}");
    assert!(screenshot.exists(), "no screenshot: {report}");
}
