#!/usr/bin/env python3
"""Replays a session workload against `fbposts up` with pre-caching on and
off (`--no-precache`), side by side in one run, and prints the foreground
cache hit rate and latency of each.

A session is one user on one kept-alive connection:
analyze(t) → enhance(t) → analyze(the enhanced text) → predict(the enhanced
text), with a think time between steps. Texts are drawn by a Zipf law over
a corpus of distinct weak posts. Two workloads:
- `zipf`: many distinct texts (most sessions bring a text seen rarely);
- `repeat-heavy`: few texts, many sessions (most texts were seen before).

Each run gets a fresh server and fresh stores (pinned to CPU 0; the users
run on CPU 1). Figures: hit rate = answers with `x-cache: hit` among all
foreground requests; latency percentiles over all of them; pre-caching's
counters from `/metrics`.

    scripts/replay_sessions.py [--users 8] [--think-ms 40] [--seed 7]

Needs the release host (`. scripts/release-env.sh && cargo build --release -p fbposts`) and the
components (`scripts/wasm.sh`).
"""

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_table import RELEASE, ROOT, SERVER_CPU, free_port, wait_ready  # noqa: E402

PRODUCTS = ["pizza", "coffee", "burger", "salad", "tacos", "ramen", "cake", "bagels",
            "smoothies", "pasta", "sushi", "donuts", "curry", "waffles", "soup"]  # fmt: skip
OFFERS = ["2x1", "20% off", "free delivery", "a free drink", "half price",
          "a gift card", "double points", "free dessert"]  # fmt: skip
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
PLANNED = {"page_likes": 120000, "post_type": "photo", "scheduled_at": "2026-12-01T18:30:00-05:00"}


def corpus(size: int) -> list[str]:
    """`size` distinct weak posts (bait, caps, no question) for enhance to fix."""
    texts = []
    for i in range(size):
        product = PRODUCTS[i % len(PRODUCTS)]
        offer = OFFERS[(i // len(PRODUCTS)) % len(OFFERS)]
        day = DAYS[i % len(DAYS)]
        texts.append(
            f"NEW {product.upper()} THIS {day.upper()}!!! {offer} on our {product} "
            f"number {i}. LIKE AND SHARE if you want some!!!"
        )
    return texts


def zipf_sampler(size: int, exponent: float, rng: random.Random):
    weights = [1 / (rank**exponent) for rank in range(1, size + 1)]
    return lambda: rng.choices(range(size), weights)[0]


class User:
    """One kept-alive connection and what it saw."""

    def __init__(self, port: int, think: float):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.think = think
        self.latencies: list[float] = []
        self.hits = 0
        self.errors = 0

    def post(self, path: str, body: dict) -> dict:
        payload = json.dumps(body)
        started = time.perf_counter()
        self.connection.request("POST", path, payload, {"content-type": "application/json"})
        response = self.connection.getresponse()
        data = response.read()
        self.latencies.append(time.perf_counter() - started)
        if response.status != 200:
            self.errors += 1
            return {}
        self.hits += response.getheader("x-cache") == "hit"
        time.sleep(self.think)
        return json.loads(data)

    def session(self, text: str) -> None:
        self.post("/api/analyze", {"text": text})
        enhanced = self.post("/api/enhance", {"text": text})
        better = enhanced.get("enhanced", {}).get("text", text)
        self.post("/api/analyze", {"text": better})
        self.post("/api/predict", {**PLANNED, "text": better})


def precache_counts(port: int) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/metrics")
    counts = {}
    for line in connection.getresponse().read().decode().splitlines():
        if line.startswith("fbposts_precache_requests_total{"):
            outcome = line.split('outcome="')[1].split('"')[0]
            counts[outcome] = int(float(line.rsplit(" ", 1)[1]))
    return counts


def run(workload: dict, precache: bool, args, workdir: Path) -> dict:
    """One server, fresh stores, the workload's sessions over `args.users`."""
    state = workdir / f"{workload['name']}-{'on' if precache else 'off'}"
    state.mkdir()
    shutil.copy(ROOT / "runtime-config.toml", state / "runtime-config.toml")
    port = free_port()
    command = ["taskset", "-c", SERVER_CPU, str(RELEASE / "fbposts"), "up",
               "-f", str(ROOT / "spin.toml"), "--listen", f"127.0.0.1:{port}",
               "--runtime-config-file", str(state / "runtime-config.toml"),
               "--state-dir", str(state / ".spin"), "--inference", "auto"]  # fmt: skip
    if not precache:
        command.append("--no-precache")
    log = state / "server.log"
    with open(log, "w") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                  start_new_session=True)  # fmt: skip
    try:
        wait_ready(port, "/api/analytics/summary", server, log)
        rng = random.Random(args.seed)
        texts = corpus(workload["texts"])
        draw = zipf_sampler(len(texts), workload["exponent"], rng)
        plan = [texts[draw()] for _ in range(workload["sessions"])]
        users = [User(port, args.think_ms / 1000) for _ in range(args.users)]

        def work(user: User, sessions: list[str]) -> None:
            for text in sessions:
                user.session(text)

        threads = [
            threading.Thread(target=work, args=(user, plan[i :: args.users]))
            for i, user in enumerate(users)
        ]
        started = time.time()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.time() - started
        counts = precache_counts(port)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
    latencies = sorted(x for user in users for x in user.latencies)
    pct = lambda q: latencies[int((len(latencies) - 1) * q)] * 1000  # noqa: E731
    return {
        "workload": workload["name"],
        "precache": precache,
        "requests": len(latencies),
        "hit_rate": sum(u.hits for u in users) / len(latencies),
        "errors": sum(u.errors for u in users),
        "p50_ms": pct(0.5),
        "p99_ms": pct(0.99),
        "seconds": elapsed,
        "precache_counts": counts,
    }


WORKLOADS = [
    {"name": "zipf", "texts": 400, "exponent": 1.0, "sessions": 400},
    {"name": "repeat-heavy", "texts": 12, "exponent": 1.2, "sessions": 1200},
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--think-ms", type=float, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not (RELEASE / "fbposts").exists():
        sys.exit("missing target/release/fbposts: . scripts/release-env.sh && cargo build --release -p fbposts")
    results = []
    with tempfile.TemporaryDirectory(prefix="replay-") as workdir:
        for workload in WORKLOADS:
            for precache in (False, True):
                results.append(run(workload, precache, args, Path(workdir)))
                print(f"  ran {workload['name']} precache={precache}", file=sys.stderr)
    print(f"\n{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs; "
          f"{args.users} users, think {args.think_ms:g} ms\n")  # fmt: skip
    print("| workload | pre-caching | requests | hit rate | p50 | p99 | errors | computed ahead (predicted / refrained busy / dropped) |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        c = r["precache_counts"]
        counts = (f"{c.get('computed', 0)} ({c.get('predicted', 0)} / "
                  f"{c.get('refrained_busy', 0)} / {c.get('dropped', 0)})") if r["precache"] else "—"  # fmt: skip
        print(f"| {r['workload']} | {'on' if r['precache'] else 'off'} | {r['requests']} | "
              f"{r['hit_rate'] * 100:.2f} % | {r['p50_ms']:.2f} ms | {r['p99_ms']:.2f} ms | "
              f"{r['errors']} | {counts} |")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
