// The dashboard's script: polls the app's JSON and draws it with uPlot.
// Sources: /api/alerts (host: each route's last interval and the alerts),
// /api/experiments (the A/B arms with P(best)), and the optional sources
// that sources.json names: the events' analytics summary, the suggestions
// and business alerts, the live event stream (Server-Sent Events, read
// with EventSource, which reconnects and resumes by itself) and the host's
// metrics (cache tiers and pre-caching; a 404 means the host has none). A source that is
// not in the app is never requested; a failed request shows in the status
// line and is retried on the next tick, never thrown.
"use strict";

const POLL_MS = 1000;
const KEEP_POINTS = 120;
const LIVE_KEPT = 15;
const EVENT_TYPES = ["post.analyzed", "post.enhanced", "post.generated", "post.predicted", "post.published", "alert.business"];
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"];

const state = {
  sources: {},
  times: [],          // seconds since the epoch, one per sampled interval
  routes: [],         // route names, in order of first appearance
  rps: new Map(),     // route -> [requests/s | null] aligned with times
  p99: new Map(),     // route -> [p99 ms | null]
  lastRoutesKey: null,
  lastSampleAt: 0,
  charts: {},
  failures: 0,
};

const $ = (id) => document.getElementById(id);

async function getJson(path) {
  const response = await fetch(path, { headers: { accept: "application/json" }, cache: "no-store" });
  if (!response.ok) {
    throw new Error(`${path}: HTTP ${response.status}`);
  }
  return response.json();
}

function setStatus(text, bad) {
  const status = $("status");
  status.textContent = text;
  status.style.color = bad ? "var(--bad)" : "";
}

// One new point per alert interval: the view repeats the last interval's
// numbers until the next one closes, so a poll adds a point only when they
// changed or a whole interval has passed.
function sampleRoutes(view) {
  const routes = view.routes || [];
  const key = JSON.stringify(routes);
  const now = Date.now();
  const intervalMs = (view.interval_seconds || 1) * 1000;
  if (key === state.lastRoutesKey && now - state.lastSampleAt < intervalMs) {
    return false;
  }
  state.lastRoutesKey = key;
  state.lastSampleAt = now;
  state.times.push(now / 1000);
  for (const r of routes) {
    if (!state.rps.has(r.route)) {
      state.routes.push(r.route);
      state.rps.set(r.route, state.times.slice(0, -1).map(() => null));
      state.p99.set(r.route, state.times.slice(0, -1).map(() => null));
    }
  }
  for (const route of state.routes) {
    const r = routes.find((x) => x.route === route);
    state.rps.get(route).push(r ? r.requests_per_second : 0);
    state.p99.get(route).push(r ? r.p99_ms : null);
  }
  if (state.times.length > KEEP_POINTS) {
    state.times.shift();
    for (const route of state.routes) {
      state.rps.get(route).shift();
      state.p99.get(route).shift();
    }
  }
  return true;
}

function drawRouteChart(id, values, unit) {
  const el = $(id);
  const data = [state.times.slice(), ...state.routes.map((r) => values.get(r).slice())];
  const points = state.times.length;
  el.dataset.points = String(points);
  el.dataset.routes = state.routes.join(" ");
  if (points === 0 || state.routes.length === 0) {
    return;
  }
  let chart = state.charts[id];
  if (chart && chart.series.length !== data.length) {
    chart.destroy();
    chart = null;
  }
  if (!chart) {
    el.textContent = "";
    const opts = {
      width: Math.max(el.clientWidth, 300),
      height: 220,
      scales: { x: { time: true } },
      series: [{}, ...state.routes.map((route, i) => ({
        label: route,
        stroke: COLORS[i % COLORS.length],
        width: 2,
        spanGaps: false,
        value: (u, v) => (v == null ? "–" : `${v.toFixed(2)} ${unit}`),
      }))],
      axes: [{}, { label: unit }],
    };
    state.charts[id] = new uPlot(opts, data, el);
  } else {
    chart.setData(data);
  }
}

function renderAlerts(view) {
  const list = $("alerts");
  const alerts = view.alerts || [];
  list.dataset.count = String(alerts.length);
  if (alerts.length === 0) {
    return;
  }
  const activeMs = (view.horizon_seconds || 600) * 1000;
  list.textContent = "";
  for (const alert of alerts) {
    const li = document.createElement("li");
    li.dataset.series = alert.series;
    li.dataset.kind = alert.kind || "";
    if (Date.now() - alert.fired_at_ms < activeMs) {
      li.classList.add("active");
    }
    const time = document.createElement("time");
    time.textContent = new Date(alert.fired_at_ms).toLocaleTimeString();
    li.append(time, document.createTextNode(alert.message));
    list.append(li);
  }
}

function renderArms(listing) {
  const box = $("arms");
  const experiments = listing.experiments || [];
  box.dataset.experiments = String(experiments.length);
  if (experiments.length === 0) {
    return;
  }
  const table = document.createElement("table");
  table.innerHTML = "<thead><tr><th>experiment</th><th>arm</th><th>pulls</th><th>mean reward</th><th>P(best)</th></tr></thead>";
  const body = document.createElement("tbody");
  for (const experiment of experiments) {
    for (const arm of experiment.arms) {
      const row = document.createElement("tr");
      const cells = [
        `${experiment.family} · ${experiment.context}`,
        arm.id,
        String(arm.pulls),
        arm.mean_reward == null ? "–" : arm.mean_reward.toFixed(3),
      ];
      for (const [i, text] of cells.entries()) {
        const td = document.createElement("td");
        td.textContent = text;
        if (i >= 2) td.className = "num";
        row.append(td);
      }
      const pBest = document.createElement("td");
      const bar = document.createElement("span");
      bar.className = "bar";
      bar.style.width = `${Math.round(arm.probability_best * 48)}px`;
      pBest.append(bar, document.createTextNode(arm.probability_best.toFixed(2)));
      row.append(pBest);
      body.append(row);
    }
  }
  table.append(body);
  box.textContent = "";
  box.append(table);
}

// The events' analytics summary, when the app has it: a score histogram
// (`score_histogram`: [{ bucket, count }]) and predicted vs observed
// engagement (`engagement`: [{ predicted, observed }]). Missing fields keep
// the panel's "no data".
// `GET /api/analytics/summary` (the events' aggregates): mean score per post
// type, and mean predicted vs observed interactions per page. Panels keep
// their "no data" text until the aggregates have something to show.
// The score distribution: analyses per score tenth, as horizontal bars.
function renderDistribution(histogram) {
  const total = histogram.reduce((a, b) => a + b, 0);
  if (total === 0) return;
  const box = $("score-distribution");
  box.textContent = "";
  const most = Math.max(...histogram);
  histogram.forEach((n, i) => {
    const line = document.createElement("div");
    const bar = document.createElement("span");
    bar.className = "bar";
    bar.style.width = `${Math.round((n / most) * 200)}px`;
    line.append(document.createTextNode(`${(i / 10).toFixed(1)}–${((i + 1) / 10).toFixed(1)} `), bar,
      document.createTextNode(`${n}`));
    box.append(line);
  });
  box.dataset.analyses = String(total);
}

function renderSummary(summary) {
  renderDistribution((summary.totals && summary.totals.score_histogram) || []);
  const types = Object.entries(summary.by_post_type || {})
    .filter(([, t]) => t.analyzed > 0 && typeof t.mean_score === "number");
  if (types.length > 0) {
    const box = $("scores");
    box.textContent = "";
    for (const [type, t] of types) {
      const line = document.createElement("div");
      const bar = document.createElement("span");
      bar.className = "bar";
      bar.style.width = `${Math.round(t.mean_score * 200)}px`;
      line.append(document.createTextNode(`${type} `), bar,
        document.createTextNode(`${t.mean_score.toFixed(2)} (n=${t.analyzed})`));
      box.append(line);
    }
  }
  const pairs = Object.values(summary.by_page || {})
    .filter((t) => typeof t.mean_predicted_interactions === "number"
      && typeof t.mean_observed_interactions === "number")
    .map((t) => ({ predicted: t.mean_predicted_interactions, observed: t.mean_observed_interactions }));
  if (pairs.length > 0) {
    const box = $("engagement");
    box.textContent = "";
    const sorted = pairs.slice().sort((a, b) => a.predicted - b.predicted);
    const opts = {
      width: Math.max(box.clientWidth, 300), height: 200,
      scales: { x: { time: false } },
      series: [{ label: "predicted" }, { label: "observed", stroke: COLORS[1], points: { show: true }, paths: () => null }],
    };
    if (state.charts.engagement) state.charts.engagement.destroy();
    state.charts.engagement = new uPlot(opts, [sorted.map((p) => p.predicted), sorted.map((p) => p.observed)], box);
  }
}

// A Prometheus counter's samples that carry `label`, from the text
// exposition: `name{a="x",b="y"} 12` lines.
function counterBy(text, name, label) {
  const samples = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    const labels = Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    const value = Number(line.slice(line.lastIndexOf(" ") + 1));
    if (label in labels && Number.isFinite(value)) samples.push({ labels, value });
  }
  return samples;
}

// Per label with tiers: lookups answered by L1, by the backend, missed; the
// hit rate; and what pre-caching computed ahead.
function renderCache(metricsText) {
  const lookups = counterBy(metricsText, "fbposts_kv_tier_lookups_total", "tier");
  if (lookups.length === 0) return;
  const byLabel = new Map();
  for (const { labels, value } of lookups) {
    const row = byLabel.get(labels.label) || { l1: 0, backend: 0, miss: 0 };
    row[labels.tier] = value;
    byLabel.set(labels.label, row);
  }
  const precache = Object.fromEntries(counterBy(metricsText, "fbposts_precache_requests_total", "outcome")
    .map(({ labels, value }) => [labels.outcome, value]));
  const box = $("cache");
  box.textContent = "";
  const table = document.createElement("table");
  table.innerHTML = "<thead><tr><th>store</th><th>L1</th><th>backend</th><th>miss</th><th>hit rate</th></tr></thead>";
  const body = document.createElement("tbody");
  for (const [label, row] of byLabel) {
    const total = row.l1 + row.backend + row.miss;
    const tr = document.createElement("tr");
    tr.dataset.label = label;
    const rate = total > 0 ? `${(((row.l1 + row.backend) / total) * 100).toFixed(1)} %` : "–";
    for (const cell of [label, row.l1, row.backend, row.miss, rate]) {
      const td = document.createElement("td");
      td.textContent = String(cell);
      tr.append(td);
    }
    body.append(tr);
  }
  table.append(body);
  box.append(table);
  if ("computed" in precache) {
    const p = document.createElement("p");
    p.id = "precache";
    p.textContent = `computed ahead: ${precache.computed} of ${precache.predicted || 0} predicted`;
    box.append(p);
  }
}

async function getMetricsText(path) {
  const response = await fetch(path, { cache: "no-store" });
  if (response.status === 404) return null; // a host without /metrics
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.text();
}

// One line per live event: what it says in a few words.
function describeEvent(event) {
  const d = event.data || {};
  if (d.message !== undefined) return d.message;
  if (d.score !== undefined) return `score ${d.score}${d.grade ? " (" + d.grade + ")" : ""}`;
  if (d.observed_interactions !== undefined) {
    return `${d.page_id || ""}: ${d.observed_interactions} interactions (p50 ${d.predicted_interactions})`;
  }
  return [d.page_id, d.post_type].filter(Boolean).join(" · ");
}

function startLive(path) {
  const list = $("live");
  const source = new EventSource(path);
  state.live = source;
  let seen = 0;
  const onEvent = (message) => {
    const event = JSON.parse(message.data);
    seen += 1;
    if (seen === 1) list.textContent = "";
    list.dataset.count = String(seen);
    const li = document.createElement("li");
    li.dataset.type = message.type;
    const time = document.createElement("time");
    time.textContent = new Date(event.at_ms).toLocaleTimeString();
    li.append(time, document.createTextNode(`${message.type} ${describeEvent(event)}`));
    list.prepend(li);
    // The oldest event goes first; business alerts stay while any other can go.
    while (list.children.length > LIVE_KEPT) {
      const items = Array.from(list.children).reverse();
      (items.find((item) => item.dataset.type !== "alert.business") || items[0]).remove();
    }
  };
  for (const type of EVENT_TYPES) source.addEventListener(type, onEvent);
  source.addEventListener("dropped", (message) => {
    $("live-dropped").textContent = `${JSON.parse(message.data).dropped} dropped (slow reader)`;
  });
}

function renderBusiness(listing) {
  const list = $("business");
  const alerts = (listing.alerts || []).map((a) => ({ kind: "alert", page: a.page_id, at: a.fired_at_ms, text: a.message }));
  const suggestions = (listing.suggestions || []).slice(0, 5).map((s) => ({
    kind: "suggestion", page: s.page_id, at: s.at_ms,
    text: `${s.why[0]}${s.try_next.length ? " — try: " + s.try_next[0] : ""}`,
  }));
  const items = alerts.concat(suggestions);
  list.dataset.count = String(items.length);
  if (items.length === 0) return;
  list.textContent = "";
  for (const item of items) {
    const li = document.createElement("li");
    li.dataset.kind = item.kind;
    li.dataset.page = item.page;
    if (item.kind === "alert") li.classList.add("active");
    const time = document.createElement("time");
    time.textContent = new Date(item.at).toLocaleTimeString();
    li.append(time, document.createTextNode(item.text));
    list.append(li);
  }
}

async function tick() {
  const problems = [];
  try {
    const view = await getJson("/api/alerts");
    if (sampleRoutes(view)) {
      drawRouteChart("throughput", state.rps, "req/s");
      drawRouteChart("latency", state.p99, "ms");
    }
    renderAlerts(view);
  } catch (err) {
    problems.push(err.message);
  }
  try {
    renderArms(await getJson("/api/experiments"));
  } catch (err) {
    problems.push(err.message);
  }
  if (state.sources.analytics_summary) {
    try {
      renderSummary(await getJson(state.sources.analytics_summary));
    } catch (err) {
      problems.push(err.message);
    }
  }
  if (state.sources.analytics_suggestions) {
    try {
      renderBusiness(await getJson(state.sources.analytics_suggestions));
    } catch (err) {
      problems.push(err.message);
    }
  }
  if (state.sources.metrics) {
    try {
      const text = await getMetricsText(state.sources.metrics);
      if (text === null) {
        $("cache").innerHTML = '<p class="empty">not measured: this host serves no metrics</p>';
      } else {
        renderCache(text);
      }
    } catch (err) {
      problems.push(err.message);
    }
  }
  if (problems.length > 0) {
    state.failures += 1;
    setStatus(`last update failed: ${problems.join("; ")}`, true);
  } else {
    setStatus(`updated ${new Date().toLocaleTimeString()}`, false);
  }
  document.body.dataset.ticks = String(Number(document.body.dataset.ticks || 0) + 1);
}

async function loop() {
  await tick();
  setTimeout(loop, POLL_MS);
}

async function start() {
  try {
    const config = await getJson("sources.json");
    state.sources = config.sources || {};
  } catch (err) {
    setStatus(`sources.json: ${err.message}`, true);
  }
  if (state.sources.analytics_stream) startLive(state.sources.analytics_stream);
  await loop();
}

start().catch((err) => setStatus(`dashboard stopped: ${err.message}`, true));
