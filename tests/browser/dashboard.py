"""The dashboard in real headless Chromium (Debian's `chromium`, driven by
Playwright): the page loads without console errors, its charts fill once
requests are made, the p99 alert appears when the host fires it, and — with
events on (the e2e test runs Redis) — the live stream lists analyses and
three zero-interaction outcomes of one page show as a business alert.

usage: dashboard.py BASE_URL SCREENSHOT_PATH

The server must run with an alert limit that any request crosses (the e2e
test starts it with `--alert-interval 0.2 --alert-p99-ms 0.001`). Sends its
own traffic to /api/analyze (one /api/generate, which gives the A/B arms a
row, and three /api/feedback outcomes of page quiet-page), waits for the page to show it, saves a screenshot, and exits 1 with
the reasons on any failure (a missing browser or Playwright is a failure too).
"""

import datetime
import json
import sys
import threading
import time
import urllib.request

CHROMIUM = "/usr/bin/chromium"
WAIT_MS = 20_000


def post(base, path, body):
    request = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        if response.status != 200:
            raise RuntimeError(f"{path}: HTTP {response.status}")


def traffic(base, stop, failures):
    """Steady /api/analyze requests until `stop` is set."""
    n = 0
    while not stop.wait(0.03):
        n += 1
        try:
            post(base, "/api/analyze", {"text": f"Taller de cerámica el sábado {n}. ¡Apúntate!"})
        except Exception as err:  # noqa: BLE001 - reported, not raised in a thread
            failures.append(f"analyze request {n}: {err}")
            return


def wait_until(page, condition, timeout_ms=WAIT_MS):
    """Polls `condition` (a JS expression or function) with page.evaluate until
    it is truthy. Not Playwright's wait_for_function: once its first check is
    false it polls through eval() inside the page, which the dashboard's
    Content-Security-Policy (no 'unsafe-eval') rightly refuses."""
    deadline = time.monotonic() + timeout_ms / 1000
    while not page.evaluate(condition):
        if time.monotonic() > deadline:
            raise TimeoutError(f"still false after {timeout_ms} ms: {condition}")
        page.wait_for_timeout(100)


def closed_stream(request):
    """The event stream's request, aborted because the page closed its EventSource."""
    return "/api/analytics/stream" in request.url and request.failure == "net::ERR_ABORTED"


def main():
    base, screenshot = sys.argv[1].rstrip("/"), sys.argv[2]
    from playwright.sync_api import sync_playwright

    problems = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: None if closed_stream(r) else problems.append(f"request failed: {r.url} {r.failure}"))
        page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)

        page.goto(base + "/dashboard", wait_until="load")
        if not page.url.endswith("/dashboard/"):
            problems.append(f"/dashboard did not redirect to /dashboard/: {page.url}")
        wait_until(page, "typeof uPlot === 'function' && Number(document.body.dataset.ticks) >= 1")

        post(base, "/api/generate", {"topic": "café de especialidad", "audience": "amantes del café",
                                     "tone": "friendly", "goal": "engagement", "language": "es",
                                     "post_type": "photo", "n": 2, "seed": 7, "generator": "template"})
        for days_ago in (3, 2, 1):
            published = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days_ago))
            post(base, "/api/feedback", {"text": f"ok {days_ago}", "page_id": "quiet-page", "page_likes": 120000,
                                         "post_type": "photo", "published_at": published.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                         "metrics": {"reactions": 0, "comments": 0, "shares": 0}})
        stop, failures = threading.Event(), []
        sender = threading.Thread(target=traffic, args=(base, stop, failures))
        sender.start()
        try:
            waits = {
                "throughput chart has /api/analyze points": """() => {
                    const el = document.getElementById('throughput');
                    return Number(el.dataset.points) >= 3 && el.dataset.routes.split(' ').includes('/api/analyze')
                        && el.querySelector('canvas') !== null; }""",
                "latency chart has points": """() => {
                    const el = document.getElementById('latency');
                    return Number(el.dataset.points) >= 3 && el.querySelector('canvas') !== null; }""",
                "the p99 alert for /api/analyze is listed": """() =>
                    document.querySelector('#alerts li[data-series="p99_ms:/api/analyze"]') !== null""",
                "the A/B arms table shows P(best)": """() => document.querySelector('#arms table tbody tr') !== null""",
                "the live stream lists an analysis": """() =>
                    document.querySelector('#live li[data-type="post.analyzed"]') !== null""",
                "the business alert for quiet-page is listed": """() =>
                    document.querySelector('#business li[data-kind="alert"][data-page="quiet-page"]') !== null""",
                "the suggestions for quiet-page are listed": """() =>
                    document.querySelectorAll('#business li[data-kind="suggestion"][data-page="quiet-page"]').length === 3""",
                "the mean score bars are drawn": """() => document.querySelector('#scores .bar') !== null""",
                "the score distribution counts the analyses": """() =>
                    Number(document.getElementById('score-distribution').dataset.analyses) >= 3""",
                "a business alert arrives on the live stream": """() =>
                    document.querySelector('#live li[data-type="alert.business"]') !== null""",
                "predicted vs observed is drawn": """() => document.querySelector('#engagement canvas') !== null""",
                "the cache panel shows the cache label's tiers": """() =>
                    document.querySelector('#cache tr[data-label="cache"]') !== null""",
            }
            for what, condition in waits.items():
                try:
                    wait_until(page, condition)
                except Exception as err:  # noqa: BLE001 - collected with the others
                    problems.append(f"not shown: {what} ({type(err).__name__})")
            # Two more polls so the charts show the latest data in the screenshot.
            page.wait_for_timeout(2000)
        finally:
            stop.set()
            sender.join()
        problems.extend(failures)
        # Close the stream before the browser goes, so its end is not a failed request.
        page.evaluate("() => state.live && state.live.close()")
        page.screenshot(path=screenshot, full_page=True)
        alert_text = page.locator('#alerts li[data-series="p99_ms:/api/analyze"]').first.text_content(timeout=1000) \
            if page.locator('#alerts li[data-series="p99_ms:/api/analyze"]').count() else ""
        print(f"alert shown: {alert_text}")
        print(f"status line: {page.locator('#status').text_content()}")
        browser.close()

    if problems:
        print("dashboard check failed:", *problems, sep="\n  ", file=sys.stderr)
        return 1
    print(f"dashboard ok; screenshot at {screenshot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
