"""Repeated k-fold CV of the model and the baselines on the same folds, and the gate."""
from __future__ import annotations

import numpy as np
from sklearn.model_selection import KFold

from . import baselines, metrics, model
from .data import TARGET_NAMES
from .mlp import MLPConfig

CV_FOLDS = 5
CV_REPEATS = 3
CV_SEEDS = (0, 1, 2)          # KFold shuffles, fixed a priori
MODEL_NAME = "engagement"
METRICS = ["MAE", "RMSE", "MAPE%", "Spearman", "Cov80"]
COVERAGE_RANGE = (0.72, 0.88)


def make_splits(n: int) -> list[tuple[np.ndarray, np.ndarray]]:
    return [s for r in CV_SEEDS[:CV_REPEATS]
            for s in KFold(CV_FOLDS, shuffle=True, random_state=r).split(np.arange(n))]


def fold_metrics(y, p50, lo=None, hi=None) -> dict[str, float]:
    return {
        "MAE": metrics.mae(y, p50),
        "RMSE": metrics.rmse(y, p50),
        "MAPE%": metrics.mape(y, p50),
        "Spearman": metrics.spearman(y, p50),
        "Cov80": metrics.coverage(y, lo, hi) if lo is not None else float("nan"),
    }


def run_cv(raw: np.ndarray, Y: np.ndarray, cfg: MLPConfig, seed: int, log=print):
    """-> results[target][model][metric] = (mean over folds, sd over folds)."""
    splits = make_splits(len(raw))
    per_fold: dict[str, dict[str, list[dict]]] = {t: {} for t in TARGET_NAMES}

    # tuned SVR per (split, target): the "svr" baseline, and the kernel part of our p50
    svrs = [[baselines.fit_svr(raw[tr], Y[tr, k], seed=s) for k in range(Y.shape[1])]
            for s, (tr, te) in enumerate(splits)]
    log("  svr (inner-CV grid search per fold and target): done")

    preds, _ = model.cv_predict(raw, Y, splits, cfg, seed, svrs=svrs)
    for (tr, te), q in zip(splits, preds):
        for k, t in enumerate(TARGET_NAMES):
            per_fold[t].setdefault(MODEL_NAME, []).append(
                fold_metrics(Y[te, k], q[1][:, k], q[0][:, k], q[2][:, k]))
    log(f"  {MODEL_NAME}: done")

    for name, fn in baselines.SIMPLE_BASELINES.items():
        for tr, te in splits:
            for k, t in enumerate(TARGET_NAMES):
                per_fold[t].setdefault(name, []).append(fold_metrics(Y[te, k], fn(raw[tr], Y[tr, k], raw[te])))
    for s, (tr, te) in enumerate(splits):
        for k, t in enumerate(TARGET_NAMES):
            per_fold[t].setdefault("svr", []).append(
                fold_metrics(Y[te, k], baselines.predict_svr_fitted(svrs[s][k], raw[te])))

    results = {}
    for t in TARGET_NAMES:
        results[t] = {}
        for name, rows in per_fold[t].items():
            results[t][name] = {m: (float(np.mean([r[m] for r in rows])),
                                    float(np.std([r[m] for r in rows]))) for m in METRICS}
    return results


def format_table(results) -> str:
    def fmt(m, v):
        if np.isnan(v[0]):
            return "–"
        if m == "Spearman":
            return f"{v[0]:.3f}"
        if m == "Cov80":
            return f"{v[0]:.3f}"
        if m == "MAPE%":
            return f"{v[0]:.1f}"
        return f"{v[0]:,.1f} ± {v[1]:,.1f}" if m == "MAE" else f"{v[0]:,.1f}"

    lines = [f"Repeated {CV_FOLDS}-fold CV x {CV_REPEATS} (KFold seeds {list(CV_SEEDS[:CV_REPEATS])}), "
             "mean over the 15 test folds (MAE: ± sd over folds). Point prediction = p50; "
             "Cov80 = share of test rows inside [p10, p90]; Spearman of a constant "
             "prediction is set to 0."]
    for t, res in results.items():
        lines.append("")
        lines.append(f"{t}")
        lines.append("| model | " + " | ".join(METRICS) + " |")
        lines.append("|---|" + "---:|" * len(METRICS))
        for name, r in res.items():
            label = f"**{name} (p50)**" if name == MODEL_NAME else name
            lines.append(f"| {label} | " + " | ".join(fmt(m, r[m]) for m in METRICS) + " |")
    return "\n".join(lines)


def gate(results) -> list[str]:
    """Failures (empty list = pass)."""
    fails = []
    lo, hi = COVERAGE_RANGE
    for t, res in results.items():
        ours = res[MODEL_NAME]
        for name, r in res.items():
            if name == MODEL_NAME:
                continue
            if not ours["MAE"][0] < r["MAE"][0]:
                fails.append(f"{t}: MAE {ours['MAE'][0]:.2f} not below {name} {r['MAE'][0]:.2f}")
            if not ours["Spearman"][0] > r["Spearman"][0]:
                fails.append(f"{t}: Spearman {ours['Spearman'][0]:.4f} not above {name} "
                             f"{r['Spearman'][0]:.4f}")
        cov = ours["Cov80"][0]
        if not lo <= cov <= hi:
            fails.append(f"{t}: coverage {cov:.3f} outside [{lo}, {hi}]")
    return fails
