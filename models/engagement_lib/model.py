"""The engagement model: a cross-validation committee of quantile MLPs on log1p(target),
with split-conformal adjustment of the p10/p90 tails from the committee's out-of-bag rows,
and a p50 that is a fixed-weight blend (log space) of the committee's median and of other
regressors on log1p(target): a tuned RBF SVR, a random forest and gradient boosting
(`Blend`; which weights are shipped is decided by evaluate.py's selection rule).

Committee: the training rows are cut into `cfg.folds` parts (`cfg.rounds` times, with
different shuffles); member (r, f) is trained on all rows except part f of round r. The
prediction is the average of all members. Each training row is left out by exactly
`cfg.rounds` members; their average is its out-of-bag (OOB) prediction, from which the
conformal offsets of p10/p90 are estimated without ever touching held-out data.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import KFold

from . import features
from .mlp import MLPConfig, forward_batched, train_batched

ALPHA_TAIL = 0.10  # each tail: p10 and p90
COMPONENTS = ("mlp", "svr", "rf", "gbr")


@dataclass(frozen=True)
class Blend:
    """Weights of the p50 components (log space); they sum to 1."""
    mlp: float = 0.0
    svr: float = 0.0
    rf: float = 0.0
    gbr: float = 0.0

    def __post_init__(self):
        if abs(sum(self.as_dict().values()) - 1.0) > 1e-12:
            raise ValueError(f"blend weights must sum to 1: {self}")

    def as_dict(self) -> dict[str, float]:
        return {c: getattr(self, c) for c in COMPONENTS}

    def describe(self) -> str:
        return " + ".join(f"{w:.4g} * {c}" for c, w in self.as_dict().items() if w > 0)


@dataclass
class FittedEnsemble:
    likes_mu: float
    likes_sd: float
    t_mu: np.ndarray            # [K] mean of log1p(target) on training rows
    t_sd: np.ndarray            # [K]
    W1: np.ndarray              # [E, D, H]
    b1: np.ndarray              # [E, 1, H]
    W2: np.ndarray              # [E, H, 3K]
    b2: np.ndarray              # [E, 1, 3K]
    c_lo: np.ndarray            # [K] conformal offsets (log space): p10 - c_lo
    c_hi: np.ndarray            # [K] p90 + c_hi
    svr: list | None = None     # [K] baselines.SVRModel per target
    rf: list | None = None      # [K] fitted RandomForestRegressor on log1p, per target
    gbr: list | None = None     # [K] fitted GradientBoostingRegressor on log1p, per target
    blend: Blend = Blend(mlp=1.0)


def committee_parts(train: np.ndarray, cfg: MLPConfig, seed: int) -> list[np.ndarray]:
    """Rows left out by each member, in member order."""
    out = []
    for r in range(cfg.rounds):
        kf = KFold(cfg.folds, shuffle=True, random_state=seed + 7919 * r)
        out.extend(train[ho] for _, ho in kf.split(train))
    return out


def _log_quantiles(Q: np.ndarray, t_mu: np.ndarray, t_sd: np.ndarray) -> np.ndarray:
    """raw outputs [N, 3K] (standardised) -> sorted log-space quantiles [3, N, K]."""
    K = len(t_mu)
    Q = Q.reshape(Q.shape[0], 3, K).transpose(1, 0, 2) * t_sd + t_mu
    p50 = Q[1]
    return np.stack([np.minimum(Q[0], p50), p50, np.maximum(Q[2], p50)])


def conformal_offsets(q_log: np.ndarray, L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split-conformal (CQR, one tail at a time) offsets in log space from out-of-bag
    quantiles q_log [3, n, K] and true log targets L [n, K]."""
    n = L.shape[0]
    level = min(1.0, np.ceil((n + 1) * (1.0 - ALPHA_TAIL)) / n)
    s_lo = q_log[0] - L          # > 0 when the truth falls below p10
    s_hi = L - q_log[2]          # > 0 when the truth falls above p90
    return (np.quantile(s_lo, level, axis=0, method="higher"),
            np.quantile(s_hi, level, axis=0, method="higher"))


def fit_many(raw: np.ndarray, Y: np.ndarray, trains: list[np.ndarray], cfg: MLPConfig,
             seed: int) -> list[FittedEnsemble]:
    """Fit one committee per training set, all networks in one batched run."""
    dtype = np.float32
    N = len(raw)
    L = np.log1p(Y)
    K = Y.shape[1]
    E = cfg.folds * cfg.rounds
    B = len(trains) * E
    X = np.empty((B, N, features.encode(raw[:1], 0.0, 1.0).shape[1]), dtype=dtype)
    T = np.empty((B, N, K), dtype=dtype)
    mask = np.zeros((B, N), dtype=dtype)
    stats, parts_all = [], []
    for j, tr in enumerate(trains):
        mu, sd = features.likes_stats(raw[tr])
        tmu, tsd = L[tr].mean(axis=0), L[tr].std(axis=0)
        Xe = features.encode(raw, mu, sd).astype(dtype)
        Te = ((L - tmu) / tsd).astype(dtype)
        parts = committee_parts(tr, cfg, seed + j)
        stats.append((mu, sd, tmu, tsd))
        parts_all.append(parts)
        for e, held in enumerate(parts):
            b = j * E + e
            X[b] = Xe
            T[b] = Te
            mask[b, tr] = 1.0
            mask[b, held] = 0.0
    # member e of every committee starts from the same weights (seed + e)
    seeds = np.array([seed + (b % E) for b in range(B)])
    p = train_batched(X, T, mask, seeds, cfg)
    out = []
    for j, tr in enumerate(trains):
        sl = slice(j * E, (j + 1) * E)
        mu, sd, tmu, tsd = stats[j]
        Xe = X[j * E]
        Qm = forward_batched(np.broadcast_to(Xe, (E,) + Xe.shape),
                             {k: v[sl] for k, v in p.items()}).astype(np.float64)
        # out-of-bag: average of the members that did not see the row
        oob = np.zeros((N, 3 * K))
        cnt = np.zeros(N)
        for e, held in enumerate(parts_all[j]):
            oob[held] += Qm[e, held]
            cnt[held] += 1
        oob = oob[tr] / cnt[tr, None]
        c_lo, c_hi = conformal_offsets(_log_quantiles(oob, tmu, tsd), L[tr])
        out.append(FittedEnsemble(mu, sd, tmu, tsd, p["W1"][sl], p["b1"][sl], p["W2"][sl],
                                  p["b2"][sl], c_lo, c_hi))
    return out


def predict_log(ens: FittedEnsemble, raw: np.ndarray, calibrated: bool = True) -> np.ndarray:
    """-> [3, N, K] log1p-space quantiles (p10, p50, p90), float64 reference forward.

    Committee quantiles are sorted around the committee's p50, the tails widened/narrowed by
    the conformal offsets, the p50 replaced by the blend, and the tails clamped to the p50."""
    X = features.encode(raw, ens.likes_mu, ens.likes_sd)
    Q = forward_batched(X[None], {"W1": ens.W1.astype(np.float64), "b1": ens.b1.astype(np.float64),
                                  "W2": ens.W2.astype(np.float64), "b2": ens.b2.astype(np.float64)})
    s10, q50, s90 = _log_quantiles(Q.mean(axis=0), ens.t_mu, ens.t_sd)
    if calibrated:
        s10, s90 = s10 - ens.c_lo, s90 + ens.c_hi
    p50 = blend_log(ens, raw, q50)
    return np.stack([np.minimum(s10, p50), p50, np.maximum(s90, p50)])


def component_log(ens: FittedEnsemble, name: str, raw: np.ndarray) -> np.ndarray:
    """[N, K] log1p-space prediction of one non-MLP component."""
    fitted = getattr(ens, name)
    if fitted is None:
        raise ValueError(f"blend uses {name!r} but it was not fitted")
    if name == "svr":
        return np.stack([m.predict_log(raw) for m in fitted], axis=1)
    return np.stack([m.predict(raw) for m in fitted], axis=1)


def blend_log(ens: FittedEnsemble, raw: np.ndarray, q50: np.ndarray) -> np.ndarray:
    p50 = ens.blend.mlp * q50
    for name, w in ens.blend.as_dict().items():
        if name != "mlp" and w > 0:
            p50 = p50 + w * component_log(ens, name, raw)
    return p50


def predict(ens: FittedEnsemble, raw: np.ndarray, calibrated: bool = True) -> np.ndarray:
    """-> [3, N, K] quantiles in the data's own units."""
    return np.maximum(np.expm1(predict_log(ens, raw, calibrated)), 0.0)


def with_blend(ens: FittedEnsemble, blend: Blend) -> FittedEnsemble:
    """The same fitted parts with other p50 weights."""
    return FittedEnsemble(**{**ens.__dict__, "blend": blend})


def only_target(ens: FittedEnsemble, k: int) -> FittedEnsemble:
    """The same fitted parts for target `k` alone: its MLP output columns (p10, p50, p90 of
    `k`), its conformal offsets, SVR, forest and boosting. Its quantiles are column `k` of the
    whole ensemble's; a model of one target costs about a quarter of the four's."""
    K = len(ens.t_mu)
    cols = [k, K + k, 2 * K + k]
    one = slice(k, k + 1)

    def pick(parts):
        return None if parts is None else [parts[k]]

    return FittedEnsemble(**{
        **ens.__dict__,
        "t_mu": ens.t_mu[one], "t_sd": ens.t_sd[one],
        "W2": ens.W2[:, :, cols], "b2": ens.b2[:, :, cols],
        "c_lo": ens.c_lo[one], "c_hi": ens.c_hi[one],
        "svr": pick(ens.svr), "rf": pick(ens.rf), "gbr": pick(ens.gbr),
    })
