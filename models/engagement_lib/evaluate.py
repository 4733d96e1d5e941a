"""Model selection: two validation schemes, every baseline and every candidate in the same
folds, the selection rule, and the gate.

The rule below was written and committed before this validation was first run; the results
did not change it (see the model card for the history).

Schemes (each fold: fit on its training rows only — SVR grid by inner CV, conformal offsets
from the committee's out-of-bag rows, standardisation from training rows):
  grouped  grouped 5-fold CV x 3 repeats (GroupKFold, shuffle seeds 0, 1, 2); a group is one
           `Page total likes` snapshot, i.e. the posts of the same few days, so a test post
           never has a same-days neighbour in training.
  forward  time-ordered forward chaining. The page grows through 2014, so `Page total likes`
           is a clock: rows sorted by it (then month) are cut into 10 consecutive blocks at
           snapshot boundaries; fold j trains on blocks 0..j-1 and tests block j, j = 5..9
           (training 200..360 rows, always the past; test always the next weeks).

Metrics per test fold on the p50, in data units; averaged over the folds of a scheme.

Selection rule: a candidate passes when, for every target and both schemes, its mean MAE is
below and its mean Spearman above those of every baseline, and its 80 % interval coverage
(grouped scheme) lies in COVERAGE_RANGE. The shipped model is the first passing candidate in
CANDIDATES order (the order is a preference: fewer parts first). If none passes, the candidate
with the most passed conditions (ties: CANDIDATES order) is shipped, the gate asserts the
conditions it passes, and the shortfalls are listed in KNOWN_SHORTFALLS and the model card.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import GroupKFold

from . import baselines, metrics, model, trees
from .data import TARGET_NAMES
from .mlp import MLPConfig

GROUPED_FOLDS = 5
GROUPED_SEEDS = (0, 1, 2)
FORWARD_BLOCKS = 10
FORWARD_FIRST_TEST = 5
SCHEMES = ("grouped", "forward")
COVERAGE_SCHEME = "grouped"
COVERAGE_RANGE = (0.72, 0.88)
METRICS = ["MAE", "RMSE", "Spearman", "Cov80"]
GATED_METRICS = ("MAE", "Spearman")

# Candidates for the shipped p50, in order of preference (declared before the first run).
CANDIDATES = {
    "blend-compact": model.Blend(mlp=1 / 3, svr=1 / 3, gbr=1 / 3),
    "blend-all": model.Blend(mlp=0.25, svr=0.25, rf=0.25, gbr=0.25),
    "blend-no-mlp": model.Blend(svr=1 / 3, rf=1 / 3, gbr=1 / 3),
}
SHIPPED_1_0 = model.Blend(mlp=0.5, svr=0.5)   # the model shipped as engagement 1.0.0
BASELINES = ["mean", "median", "linreg", "rf_log", "svr_log", "gbr_log", "engagement-1.0.0"]
# Gate conditions the shipped candidate does not meet, as (scheme, target, metric, baseline).
# Filled in after the first run (rule above); all are MAE in the time-ordered scheme, within
# 0.2-2.5 % of the best baseline and far inside the fold-to-fold spread (model card).
KNOWN_SHORTFALLS: set[tuple[str, str, str, str]] = {
    ("forward", "total_interactions", "MAE", "median"),
    ("forward", "total_interactions", "MAE", "engagement-1.0.0"),
    ("forward", "engaged_users", "MAE", "gbr_log"),
    ("forward", "consumers", "MAE", "gbr_log"),
    ("forward", "reach", "MAE", "engagement-1.0.0"),
}


@dataclass
class Split:
    train: np.ndarray
    test: np.ndarray


def snapshot_groups(raw: np.ndarray) -> np.ndarray:
    """Group id per row: rows sharing a `Page total likes` value share a group."""
    return np.unique(raw[:, 0], return_inverse=True)[1]


def grouped_splits(raw: np.ndarray) -> list[Split]:
    groups = snapshot_groups(raw)
    idx = np.arange(len(raw))
    return [Split(tr, te) for seed in GROUPED_SEEDS
            for tr, te in GroupKFold(GROUPED_FOLDS, shuffle=True, random_state=seed)
            .split(idx, groups=groups)]


def time_blocks(raw: np.ndarray) -> list[np.ndarray]:
    """Rows in time order cut into FORWARD_BLOCKS consecutive blocks, never inside a snapshot."""
    order = np.lexsort((raw[:, 3], raw[:, 0]))      # by page likes, then month
    likes = raw[order, 0]
    starts = np.flatnonzero(np.r_[True, likes[1:] != likes[:-1]])   # snapshot starts
    cuts = [0]
    for b in range(1, FORWARD_BLOCKS):
        target = b * len(raw) / FORWARD_BLOCKS
        cuts.append(int(starts[np.argmin(np.abs(starts - target))]))
    cuts.append(len(raw))
    return [order[a:b] for a, b in zip(cuts[:-1], cuts[1:])]


def forward_splits(raw: np.ndarray) -> list[Split]:
    blocks = time_blocks(raw)
    return [Split(np.sort(np.concatenate(blocks[:j])), np.sort(blocks[j]))
            for j in range(FORWARD_FIRST_TEST, FORWARD_BLOCKS)]


def make_splits(raw: np.ndarray) -> dict[str, list[Split]]:
    return {"grouped": grouped_splits(raw), "forward": forward_splits(raw)}


def describe_schemes(raw: np.ndarray) -> str:
    fw = forward_splits(raw)
    return (f"grouped: GroupKFold({GROUPED_FOLDS}, shuffle) x seeds {list(GROUPED_SEEDS)}, "
            f"{len(np.unique(snapshot_groups(raw)))} page-likes snapshots as groups, "
            f"{GROUPED_FOLDS * len(GROUPED_SEEDS)} test folds; "
            f"forward: {FORWARD_BLOCKS} time blocks, {len(fw)} folds, train sizes "
            f"{[len(s.train) for s in fw]}, test sizes {[len(s.test) for s in fw]}")


def fold_metrics(y, p50, lo=None, hi=None) -> dict[str, float]:
    return {
        "MAE": metrics.mae(y, p50),
        "RMSE": metrics.rmse(y, p50),
        "Spearman": metrics.spearman(y, p50),
        "Cov80": metrics.coverage(y, lo, hi) if lo is not None else float("nan"),
    }


def fit_fold_parts(raw, Y, splits: list[Split], cfg: MLPConfig, seed: int,
                   log=print) -> list[model.FittedEnsemble]:
    """Every part of every candidate, fitted once per fold (MLP committees batched)."""
    K = Y.shape[1]
    fitted = model.fit_many(raw, Y, [s.train for s in splits], cfg, seed)
    log(f"    committees: {len(splits)} x {cfg.folds * cfg.rounds} networks")
    for i, (f, s) in enumerate(zip(fitted, splits)):
        f.svr = [baselines.fit_svr(raw[s.train], Y[s.train, k], seed=i) for k in range(K)]
        f.rf = [trees.fit_rf(raw[s.train], Y[s.train, k]) for k in range(K)]
        f.gbr = [trees.fit_gbr(raw[s.train], Y[s.train, k]) for k in range(K)]
    log("    svr (inner-CV grid per fold and target), rf, gbr: done")
    return fitted


def baseline_predictions(name: str, f: model.FittedEnsemble, raw, Y, s: Split) -> np.ndarray:
    """[n_test, K] point predictions in data units."""
    K = Y.shape[1]
    if name in baselines.SIMPLE_BASELINES:
        fn = baselines.SIMPLE_BASELINES[name]
        return np.stack([fn(raw[s.train], Y[s.train, k], raw[s.test]) for k in range(K)], axis=1)
    if name == "engagement-1.0.0":
        return model.predict(model.with_blend(f, SHIPPED_1_0), raw[s.test])[1]
    component = name.removesuffix("_log")
    return np.maximum(np.expm1(model.component_log(f, component, raw[s.test])), 0.0)


def run_cv(raw: np.ndarray, Y: np.ndarray, cfg: MLPConfig, seed: int, log=print):
    """-> results[scheme][target][model][metric] = (mean over folds, sd over folds)."""
    results = {}
    for scheme, splits in make_splits(raw).items():
        log(f"  scheme {scheme}: {len(splits)} folds")
        fitted = fit_fold_parts(raw, Y, splits, cfg, seed, log)
        per_fold: dict[str, dict[str, list[dict]]] = {t: {} for t in TARGET_NAMES}
        for f, s in zip(fitted, splits):
            for name, blend in CANDIDATES.items():
                q = model.predict(model.with_blend(f, blend), raw[s.test])
                for k, t in enumerate(TARGET_NAMES):
                    per_fold[t].setdefault(name, []).append(
                        fold_metrics(Y[s.test, k], q[1][:, k], q[0][:, k], q[2][:, k]))
            for name in BASELINES:
                p = baseline_predictions(name, f, raw, Y, s)
                for k, t in enumerate(TARGET_NAMES):
                    per_fold[t].setdefault(name, []).append(fold_metrics(Y[s.test, k], p[:, k]))
        results[scheme] = {t: {name: {m: (float(np.mean([r[m] for r in rows])),
                                          float(np.std([r[m] for r in rows]))) for m in METRICS}
                               for name, rows in per_fold[t].items()} for t in TARGET_NAMES}
    return results


def conditions(results, candidate: str) -> list[tuple[tuple[str, str, str, str], bool, str]]:
    """Every gate condition for one candidate: (key, passed, description)."""
    out = []
    for scheme in SCHEMES:
        for t, res in results[scheme].items():
            ours = res[candidate]
            for name in BASELINES:
                r = res[name]
                mae_ok = ours["MAE"][0] < r["MAE"][0]
                out.append(((scheme, t, "MAE", name), mae_ok,
                            f"{scheme}/{t}: MAE {ours['MAE'][0]:.2f} vs {name} {r['MAE'][0]:.2f}"))
                sp_ok = ours["Spearman"][0] > r["Spearman"][0]
                out.append(((scheme, t, "Spearman", name), sp_ok,
                            f"{scheme}/{t}: Spearman {ours['Spearman'][0]:.4f} vs {name} "
                            f"{r['Spearman'][0]:.4f}"))
    lo, hi = COVERAGE_RANGE
    for t, res in results[COVERAGE_SCHEME].items():
        cov = res[candidate]["Cov80"][0]
        out.append(((COVERAGE_SCHEME, t, "Cov80", "-"), lo <= cov <= hi,
                    f"{COVERAGE_SCHEME}/{t}: coverage {cov:.3f} in [{lo}, {hi}]"))
    return out


def select(results) -> str:
    """The selection rule (module docstring)."""
    passed = {c: sum(ok for _, ok, _ in conditions(results, c)) for c in CANDIDATES}
    total = len(conditions(results, next(iter(CANDIDATES))))
    for c in CANDIDATES:
        if passed[c] == total:
            return c
    best = max(passed.values())
    return next(c for c in CANDIDATES if passed[c] == best)


def gate(results, shipped: str) -> list[str]:
    """Failures of the shipped candidate, except the KNOWN_SHORTFALLS (empty list = pass)."""
    return [desc for key, ok, desc in conditions(results, shipped)
            if not ok and key not in KNOWN_SHORTFALLS]


def shortfalls(results, shipped: str) -> list[str]:
    return [desc for key, ok, desc in conditions(results, shipped)
            if not ok and key in KNOWN_SHORTFALLS]


def format_table(results, shipped: str) -> str:
    def fmt(m, v):
        if np.isnan(v[0]):
            return "–"
        if m in ("Spearman", "Cov80"):
            return f"{v[0]:.3f}"
        return f"{v[0]:,.1f} ± {v[1]:,.1f}" if m == "MAE" else f"{v[0]:,.1f}"

    lines = ["Point prediction = p50; metrics in data units, mean over the scheme's test folds "
             "(MAE: ± sd over folds); Cov80 = share of test rows inside [p10, p90]; Spearman "
             "of a constant prediction is set to 0. Bold: the shipped candidate."]
    for scheme in SCHEMES:
        for t, res in results[scheme].items():
            lines += ["", f"{scheme} / {t}", "| model | " + " | ".join(METRICS) + " |",
                      "|---|" + "---:|" * len(METRICS)]
            for name, r in res.items():
                label = f"**{name}**" if name == shipped else name
                lines.append(f"| {label} | " + " | ".join(fmt(m, r[m]) for m in METRICS) + " |")
    return "\n".join(lines)


def format_summary(results, shipped: str) -> str:
    """One table per scheme: every model's MAE and Spearman for every target side by side;
    a cell of the shipped model is marked † where it is not ahead of every baseline."""
    short = {"total_interactions": "interactions", "engaged_users": "engaged users",
             "consumers": "consumers", "reach": "reach"}
    fails = {(k[0], k[1], k[2]) for k, ok, _ in conditions(results, shipped) if not ok}
    lines = []
    for scheme in SCHEMES:
        res = results[scheme]
        lines += ["", f"{scheme}: MAE / Spearman of the p50",
                  "| model | " + " | ".join(short[t] for t in res) + " |",
                  "|---|" + "---:|" * len(res)]
        for name in res[next(iter(res))]:
            cells = []
            for t in res:
                r = res[t][name]
                mark = {m: "†" if name == shipped and (scheme, t, m) in fails else ""
                        for m in GATED_METRICS}
                cells.append(f"{r['MAE'][0]:,.1f}{mark['MAE']} / {r['Spearman'][0]:.3f}"
                             f"{mark['Spearman']}")
            label = f"**{name}**" if name == shipped else name
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        cov = " | ".join(f"{res[t][shipped]['Cov80'][0]:.3f}" for t in res)
        lines.append(f"| {shipped} 80 % coverage | {cov} |")
    return "\n".join(lines[1:])
