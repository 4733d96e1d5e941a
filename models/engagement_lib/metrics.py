"""Evaluation metrics (raw data units)."""
from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr


def mae(y, p):
    return float(np.mean(np.abs(y - p)))


def rmse(y, p):
    return float(np.sqrt(np.mean((y - p) ** 2)))


def mape(y, p):
    """Mean absolute percentage error with the denominator floored at 1 (a few posts have 0
    interactions)."""
    return float(np.mean(np.abs(y - p) / np.maximum(np.abs(y), 1.0)) * 100.0)


def spearman(y, p):
    """Spearman rank correlation; 0.0 for a constant prediction (undefined there)."""
    if np.ptp(p) == 0.0:
        return 0.0
    return float(spearmanr(y, p).statistic)


def coverage(y, lo, hi):
    return float(np.mean((y >= lo) & (y <= hi)))
