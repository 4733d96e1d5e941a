#!/usr/bin/env python3
"""The side-by-side benchmark table: our host against the peers installed
here, in one run, on one machine.

Every server is pinned to CPU 0 and the load generator (`fbposts bench`) to
CPU 1, so the figures compare servers on one core. Each row is measured at 1
and at 64 connections (closed loop, one request in flight per connection,
1 s warm-up then --seconds). Reported per row: requests/s, latency
percentiles, the server's resident memory (VmRSS after the load, VmHWM its
peak) and CPU time per request (the server's user+system time over the
whole c=64 run, warm-up included, divided by the requests it answered).

Rows:
- `native`: a hyper server returning the trivial component's bytes (the
  physical limit: `host/examples/native_peer.rs`);
- `wasmtime serve` on the trivial component (`misbehave.wasm`, `/ok`), its
  default instance reuse and a fresh instance per request, when a `wasmtime`
  binary is on PATH (or $WASMTIME);
- `spin up` on the same component (a generated manifest), when `spin` is on PATH;
- `fbposts up` on the trivial component, fresh (Spin's semantics) and reused
  (its `[component.X.tool.fbposts]` reuse);
- `fbposts up` on the app (spin.toml, wasi-nn profile with ONNX Runtime from
  .venv when present): each route on cache hit and on cache miss (a field
  made unique per request with --vary-field).

Ratios are the result: the machine is shared, so only figures from the same
run compare. Prints a Markdown table and the ratios; --json FILE keeps the
raw figures.

    scripts/bench_table.py [--seconds 5] [--json bench.json] [--only trivial|app]
                           [--server PATH]

Needs the release host and the example peer, built as scripts/up.sh builds
the host (with its profile-guided optimisation):
    . scripts/release-env.sh && cargo build --release -p fbposts --bin fbposts --example native_peer
and the components (`scripts/wasm.sh`, which builds the trivial one too).
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RELEASE = ROOT / "target" / "release"
# The `fbposts` that serves (the load generator is always RELEASE's):
# --server replaces it, e.g. with scripts/pgo.sh's instrumented build.
SERVER = RELEASE / "fbposts"
TRIVIAL_WASM = ROOT / "target" / "wasm32-wasip2" / "wasm-release" / "misbehave.wasm"
SERVER_CPU, LOAD_CPU = "0", "1"
# Pinned to one core, `fbposts up` sizes itself to 8 running requests and
# 32 waiting, and sheds the rest of a 64-connection load with `503
# overloaded`; the peers queue without bound. The table measures throughput,
# so our queue is made deep enough for c=64.
FBPOSTS_QUEUE = ["--max-waiting-requests", "1024"]
TICKS = os.sysconf("SC_CLK_TCK")

ANALYZE_BODY = {
    "text": "¡Nuevo sabor! Prueba hoy nuestro café de temporada y cuéntanos "
    "qué te parece. #café"
}
ENHANCE_BODY = {"text": "new product out now. check it"}
PREDICT_BODY = {
    "page_likes": 120000,
    "post_type": "photo",
    "scheduled_at": "2026-12-01T18:30:00-05:00",
}


@dataclass
class Route:
    """One measured row: a path on a server, GET or a POSTed JSON body."""

    label: str
    path: str
    body: dict | None = None
    vary: str | None = None


@dataclass
class Server:
    """A server to start pinned to the server CPU, and its rows."""

    name: str
    command: list[str]
    port: int
    routes: list[Route]
    ready_path: str = "/"
    env: dict = field(default_factory=dict)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def proc_memory_mib(pid: int) -> tuple[float, float]:
    status = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    kib = lambda key: int(status[key].split()[0])  # noqa: E731
    return kib("VmRSS") / 1024, kib("VmHWM") / 1024


def wait_ready(port: int, path: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.time() + 180
    while time.time() < deadline:
        if process.poll() is not None:
            sys.exit(f"server exited early; its log:\n{log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2)
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.3)
    sys.exit(f"server not ready after 180 s; its log:\n{log.read_text()[-3000:]}")


def bench(port: int, route: Route, connections: int, seconds: float) -> dict:
    command = [
        "taskset", "-c", LOAD_CPU, str(RELEASE / "fbposts"), "bench",
        "--url", f"http://127.0.0.1:{port}{route.path}",
        "-c", str(connections), "-d", str(seconds),
    ]  # fmt: skip
    if route.body is not None:
        command += ["--body", json.dumps(route.body)]
    if route.vary:
        # A prefix unique to this run, so a miss is a miss on every rerun.
        command += ["--vary-field", route.vary]
        body = dict(route.body)
        if isinstance(body[route.vary], str):
            body[route.vary] = f"{body[route.vary]} run{time.time_ns()}"
        else:
            body[route.vary] += time.time_ns() % 10**6 * 10
        command[command.index("--body") + 1] = json.dumps(body)
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def measure_server(server: Server, seconds: float, workdir: Path) -> list[dict]:
    log = workdir / f"{server.name.replace(' ', '_')}.log"
    env = {**os.environ, **server.env}
    with open(log, "w") as out:
        process = subprocess.Popen(
            ["taskset", "-c", SERVER_CPU, *server.command],
            stdout=out, stderr=subprocess.STDOUT, env=env, cwd=workdir,
            start_new_session=True,
        )  # fmt: skip
    rows = []
    try:
        wait_ready(server.port, server.ready_path, process, log)
        for route in server.routes:
            if route.vary is None and route.body is not None:
                bench(server.port, route, 1, 0.2)  # the first answer fills the cache
            single = bench(server.port, route, 1, seconds)
            cpu_before = proc_cpu_seconds(process.pid)
            many = bench(server.port, route, 64, seconds)
            cpu = proc_cpu_seconds(process.pid) - cpu_before
            answered = many["requests"] * (seconds + 1) / seconds
            rss, peak = proc_memory_mib(process.pid)
            rows.append(
                {
                    "server": server.name,
                    "route": route.label,
                    "c1": single,
                    "c64": many,
                    "rss_mib": round(rss, 1),
                    "peak_rss_mib": round(peak, 1),
                    "cpu_us_per_request": round(cpu / max(answered, 1) * 1e6, 1),
                }
            )
            print(f"  measured {server.name} · {route.label}", file=sys.stderr)
        if server.name.startswith("fbposts up (app)"):
            MEMORY_PEAKS.update(linear_memory_peaks(server.port))
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
    return rows


# Largest linear memory one request of each component reached, in MiB
# (from the app server's /metrics, read before it stops).
MEMORY_PEAKS: dict[str, float] = {}


def linear_memory_peaks(port: int) -> dict[str, float]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    peaks = {}
    for line in text.splitlines():
        if line.startswith("fbposts_instance_memory_peak_max_bytes{"):
            component = line.split('component="')[1].split('"')[0]
            peaks[component] = round(float(line.rsplit(" ", 1)[1]) / 2**20, 2)
    return peaks


def trivial_manifest(workdir: Path) -> str:
    """A Spin manifest serving the trivial component fresh (`/misbehave/...`,
    Spin's semantics) and reused (`/reused/...`, our tool table)."""
    path = workdir / "trivial.toml"
    path.write_text(f"""spin_manifest_version = 2
[application]
name = "trivial"
[[trigger.http]]
route = "/misbehave/..."
component = "fresh"
[[trigger.http]]
route = "/reused/..."
component = "reused"
[component.fresh]
source = "{TRIVIAL_WASM}"
[component.reused]
source = "{TRIVIAL_WASM}"
[component.reused.tool.fbposts]
instance_reuse = 128
instance_concurrency = 16
""")
    return str(path)


def trivial_servers(wasmtime: str | None, spin: str | None, workdir: Path) -> list[Server]:
    trivial = [Route("trivial component", "/misbehave/ok")]
    servers = []
    port = free_port()
    servers.append(
        Server("native hyper (limit)", [str(RELEASE / "examples" / "native_peer"), f"127.0.0.1:{port}"], port, trivial)
    )
    if wasmtime:
        for name, extra in [
            ("wasmtime serve (default reuse)", []),
            ("wasmtime serve (fresh instance)", ["--max-instance-reuse-count", "1"]),
        ]:
            port = free_port()
            command = [wasmtime, "serve", "-Wcomponent-model-async", "-Sp3,cli", *extra,
                       "--addr", f"127.0.0.1:{port}", str(TRIVIAL_WASM)]  # fmt: skip
            servers.append(Server(name, command, port, trivial))
    test_manifest = trivial_manifest(workdir)
    if spin:
        port = free_port()
        command = [spin, "up", "-f", test_manifest, "--listen", f"127.0.0.1:{port}"]
        servers.append(Server("spin up", command, port, trivial))
    for name, path in [("fbposts up (fresh instance)", "/misbehave/ok"), ("fbposts up (reuse)", "/reused/ok")]:
        port = free_port()
        command = [str(SERVER), "up", "-f", test_manifest,
                   "--listen", f"127.0.0.1:{port}", "--no-metrics", *FBPOSTS_QUEUE]  # fmt: skip
        servers.append(Server(name, command, port, [Route("trivial component", path)]))
    return servers


def app_server(workdir: Path) -> Server:
    """The app as the README runs it, its stores in `workdir` (a copy of
    runtime-config.toml there: its relative paths resolve beside it)."""
    shutil.copy(ROOT / "runtime-config.toml", workdir / "runtime-config.toml")
    port = free_port()
    routes = [
        Route("/api/analyze hit", "/api/analyze", ANALYZE_BODY),
        Route("/api/analyze miss", "/api/analyze", ANALYZE_BODY, "text"),
        Route("/api/enhance hit", "/api/enhance", ENHANCE_BODY),
        Route("/api/enhance miss", "/api/enhance", ENHANCE_BODY, "text"),
        Route("/api/predict hit", "/api/predict", PREDICT_BODY),
        Route("/api/predict miss", "/api/predict", PREDICT_BODY, "page_likes"),
    ]
    command = [str(SERVER), "up", "-f", str(ROOT / "spin.toml"),
               "--listen", f"127.0.0.1:{port}", "--inference", "auto",
               "--runtime-config-file", str(workdir / "runtime-config.toml"),
               "--state-dir", str(workdir / ".spin"), *FBPOSTS_QUEUE]  # fmt: skip
    return Server("fbposts up (app)", command, port, routes, ready_path="/api/analytics/summary")


def not_ok(result: dict) -> int:
    """Failed connections plus answers other than 200."""
    return result["errors"] + sum(n for status, n in result["statuses"].items() if status != "200")


def fmt_row(row: dict) -> str:
    c1, c64 = row["c1"], row["c64"]
    return (
        f"| {row['server']} | {row['route']} | {c1['requests_per_second']:,.0f} "
        f"({c1['latency_ms']['p50']:.3f} ms) | {c64['requests_per_second']:,.0f} "
        f"({c64['latency_ms']['p50']:.2f} / {c64['latency_ms']['p90']:.2f} / "
        f"{c64['latency_ms']['p99']:.2f} ms) | {row['rss_mib']} ({row['peak_rss_mib']}) MiB | "
        f"{row['cpu_us_per_request']} µs | {not_ok(c1) + not_ok(c64)} |"
    )


def ratio(rows: list[dict], top: tuple[str, str], bottom: tuple[str, str], key) -> str:
    def find(server_route):
        return next(
            (r for r in rows if r["server"] == server_route[0] and r["route"] == server_route[1]),
            None,
        )

    a, b = find(top), find(bottom)
    if a is None or b is None:
        return "n/a (peer not measured)"
    return f"{key(a) / key(b):.2f}×"


def print_ratios(rows: list[dict]) -> None:
    trivial = "trivial component"
    rps64 = lambda r: r["c64"]["requests_per_second"]  # noqa: E731
    p99 = lambda r: r["c64"]["latency_ms"]["p99"]  # noqa: E731
    lines = [
        ("fbposts reuse / wasmtime serve default, c=64 req/s",
         ("fbposts up (reuse)", trivial), ("wasmtime serve (default reuse)", trivial), rps64),
        ("fbposts fresh / wasmtime serve fresh, c=64 req/s",
         ("fbposts up (fresh instance)", trivial), ("wasmtime serve (fresh instance)", trivial), rps64),
        ("fbposts fresh / spin up, c=64 req/s",
         ("fbposts up (fresh instance)", trivial), ("spin up", trivial), rps64),
        ("fbposts reuse p99 / native p99, c=64",
         ("fbposts up (reuse)", trivial), ("native hyper (limit)", trivial), p99),
        ("/api/analyze hit / wasmtime serve trivial default, c=64 req/s",
         ("fbposts up (app)", "/api/analyze hit"), ("wasmtime serve (default reuse)", trivial), rps64),
    ]  # fmt: skip
    print("\n| ratio | value |\n|---|---|")
    for text, top, bottom, key in lines:
        print(f"| {text} | {ratio(rows, top, bottom, key)} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--only", choices=["trivial", "app"])
    parser.add_argument("--server", type=Path, help="the fbposts binary that serves (default: the release build)")
    args = parser.parse_args()
    global SERVER
    SERVER = (args.server or SERVER).resolve()
    for needed in [RELEASE / "fbposts", SERVER, RELEASE / "examples" / "native_peer", TRIVIAL_WASM]:
        if not needed.exists():
            sys.exit(f"missing {needed}: see this script's docstring for the build commands")
    wasmtime = os.environ.get("WASMTIME") or shutil.which("wasmtime")
    spin = shutil.which("spin")
    servers = []
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-table-") as workdir:
        if args.only != "app":
            servers += trivial_servers(wasmtime, spin, Path(workdir))
        if args.only != "trivial":
            servers.append(app_server(Path(workdir)))
        for server in servers:
            rows += measure_server(server, args.seconds, Path(workdir))
    machine = f"{os.cpu_count()} CPUs, {os.uname().release}"
    print(f"\n{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {machine}; "
          f"server on CPU {SERVER_CPU}, load on CPU {LOAD_CPU}, {args.seconds:g} s per cell\n")  # fmt: skip
    print("| server | route | c=1 req/s (p50) | c=64 req/s (p50 / p90 / p99) | RSS after (peak) | CPU per request | not 200 |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print(fmt_row(row))
    print_ratios(rows)
    if MEMORY_PEAKS:
        print("\nLinear memory, largest per request (MiB): " + ", ".join(
            f"{component} {mib}" for component, mib in sorted(MEMORY_PEAKS.items())))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
