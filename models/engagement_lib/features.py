"""Feature encoding. The ONNX graph (export.py) implements exactly this, op for op."""
from __future__ import annotations

import numpy as np

TWO_PI = 2.0 * np.pi
TYPE_VALUES = [0.0, 1.0, 2.0, 3.0]       # Photo, Status, Link, Video
CATEGORY_VALUES = [1.0, 2.0, 3.0]        # action, product, inspiration
WEEKDAY_VALUES = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]

ENCODED_NAMES = (
    ["likes_z"]
    + [f"type={t}" for t in ("photo", "status", "link", "video")]
    + [f"category={c}" for c in (1, 2, 3)]
    + ["month_sin", "month_cos"]
    + [f"weekday={w}" for w in range(1, 8)]
    + ["hour_sin", "hour_cos"]
    + ["paid"]
)
N_ENCODED = len(ENCODED_NAMES)


def likes_stats(raw: np.ndarray) -> tuple[float, float]:
    x = raw[:, 0]
    return float(x.mean()), float(x.std())


def encode(raw: np.ndarray, likes_mu: float, likes_sd: float) -> np.ndarray:
    """raw float [N,7] (FEATURE_NAMES order) -> encoded float64 [N, N_ENCODED]."""
    raw = np.asarray(raw, dtype=np.float64)
    likes, typ, cat, month, wd, hour, paid = (raw[:, i:i + 1] for i in range(7))
    cols = [
        (likes - likes_mu) / likes_sd,
        (typ == np.array(TYPE_VALUES)).astype(np.float64),
        (cat == np.array(CATEGORY_VALUES)).astype(np.float64),
        np.sin(month * (TWO_PI / 12.0)), np.cos(month * (TWO_PI / 12.0)),
        (wd == np.array(WEEKDAY_VALUES)).astype(np.float64),
        np.sin(hour * (TWO_PI / 24.0)), np.cos(hour * (TWO_PI / 24.0)),
        paid,
    ]
    return np.concatenate(cols, axis=1)
