"""Multi-output quantile MLP, trained in numpy (float32) with a hand-written Adam.

Many networks (committee members x CV folds) are trained at once as one batched problem:
network b sees every row but weights them with mask[b] (0 for rows outside its training
set), so one run of batched matrix products trains all of them. Deterministic given the
seeds (train.py pins BLAS to one thread before numpy is imported).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

QUANTILES = (0.1, 0.5, 0.9)  # the exported heads, in this order


@dataclass(frozen=True)
class MLPConfig:
    hidden: int = 32             # ReLU units per member (one hidden layer)
    epochs: int = 1500           # full-batch Adam steps
    lr: float = 0.01             # Adam step size, cosine-decayed to 0
    weight_decay: float = 1e-3   # L2 penalty on W1, W2
    folds: int = 5               # committee: each member leaves out 1/folds of the rows
    rounds: int = 1              # committee rounds (members = folds * rounds)
    # extra quantiles trained as auxiliary heads (shared hidden layer), dropped after training
    aux_quantiles: tuple = (0.2, 0.3, 0.4, 0.6, 0.7, 0.8)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["aux_quantiles"] = list(self.aux_quantiles)
        return d


def train_batched(X: np.ndarray, T: np.ndarray, mask: np.ndarray, seeds: np.ndarray,
                  cfg: MLPConfig) -> dict[str, np.ndarray]:
    """Train B networks at once with the pinball loss.

    X    [B, N, D] encoded inputs per network (its own input standardisation), float32
    T    [B, N, K] standardised log targets per network, float32
    mask [B, N]    1 for the network's training rows, 0 otherwise
    seeds [B]      initialisation seed per network
    Returns params W1 [B,D,H], b1 [B,1,H], W2 [B,H,3K], b2 [B,1,3K] (heads p10, p50, p90).
    """
    B, N, D = X.shape
    K = T.shape[2]
    H = cfg.hidden
    dt = X.dtype
    qs = np.concatenate([QUANTILES, np.asarray(cfg.aux_quantiles, dtype=float)])
    nq = len(qs)
    tau = np.repeat(qs, K).astype(dt)                             # output j: quantile j // K
    Tq = np.concatenate([T] * nq, axis=2)                         # [B, N, nq*K]
    w = mask / mask.sum(axis=1, keepdims=True)                    # [B, N]
    wg = (w / (nq * K))[:, :, None].astype(dt)                    # weight of each loss term
    wd2 = dt.type(2.0 * cfg.weight_decay)

    W1 = np.empty((B, D, H), dtype=dt)
    W2 = np.empty((B, H, nq * K), dtype=dt)
    for b in range(B):
        rng = np.random.default_rng(int(seeds[b]))
        W1[b] = rng.standard_normal((D, H)) * np.sqrt(2.0 / D)
        W2[b] = rng.standard_normal((H, nq * K)) * np.sqrt(1.0 / H)
    b1 = np.zeros((B, 1, H), dtype=dt)
    b2 = np.zeros((B, 1, nq * K), dtype=dt)
    params = [W1, b1, W2, b2]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    beta1, beta2, eps = dt.type(0.9), dt.type(0.999), dt.type(1e-8)
    Xt = np.ascontiguousarray(np.swapaxes(X, 1, 2))               # [B, D, N]
    for step in range(1, cfg.epochs + 1):
        Hpre = X @ W1 + b1
        Hh = np.maximum(Hpre, 0.0)
        Q = Hh @ W2 + b2
        G = np.where(Tq > Q, -tau, 1 - tau) * wg                  # d pinball / dQ
        gW2 = np.swapaxes(Hh, 1, 2) @ G + wd2 * W2
        gb2 = G.sum(axis=1, keepdims=True)
        gH = (G @ np.swapaxes(W2, 1, 2)) * (Hpre > 0.0)
        gW1 = Xt @ gH + wd2 * W1
        gb1 = gH.sum(axis=1, keepdims=True)
        lr = cfg.lr * 0.5 * (1.0 + np.cos(np.pi * (step - 1) / cfg.epochs))
        a = dt.type(lr / (1.0 - 0.9 ** step))
        c2 = dt.type(1.0 / (1.0 - 0.999 ** step))
        for p, g, mm, vv in zip(params, (gW1, gb1, gW2, gb2), m, v):
            mm *= beta1
            mm += (1 - beta1) * g
            vv *= beta2
            vv += (1 - beta2) * (g * g)
            p -= a * mm / (np.sqrt(vv * c2) + eps)
    keep = slice(0, 3 * K)
    return {"W1": W1, "b1": b1, "W2": np.ascontiguousarray(W2[:, :, keep]),
            "b2": np.ascontiguousarray(b2[:, :, keep])}


def forward_batched(X: np.ndarray, p: dict[str, np.ndarray]) -> np.ndarray:
    """X [B, N, D] -> raw outputs [B, N, 3K] (standardised log space, unsorted)."""
    return np.maximum(X @ p["W1"] + p["b1"], 0.0) @ p["W2"] + p["b2"]
