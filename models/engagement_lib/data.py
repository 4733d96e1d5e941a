"""Loading the UCI "Facebook metrics" CSV (Moro, Rita & Vala 2016; DOI 10.24432/C5QK55; CC BY 4.0)."""
from __future__ import annotations

import csv
import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CSV_NAME = "dataset_Facebook.csv"
ENV_DATA_DIR = "FBPOSTS_DATA_DIR"

# Model input contract: column order of the ONNX input `features` [N, 7], raw values.
FEATURE_NAMES = [
    "page_total_likes",  # `Page total likes`, raw count
    "type_code",         # `Type`: 0=Photo, 1=Status, 2=Link, 3=Video
    "category",          # `Category`: 1=action, 2=product, 3=inspiration
    "month",             # `Post Month`: 1..12
    "weekday",           # `Post Weekday`: 1..7 as in the data (1=Sunday ... 7=Saturday, inferred)
    "hour",              # `Post Hour`: 0..23
    "paid",              # `Paid`: 0/1 (missing -> 0)
]
FEATURE_COLUMNS = ["Page total likes", "Type", "Category", "Post Month",
                   "Post Weekday", "Post Hour", "Paid"]
TYPE_CODES = {"Photo": 0, "Status": 1, "Link": 2, "Video": 3}

TARGET_NAMES = ["total_interactions", "engaged_users", "consumers", "reach"]
TARGET_COLUMNS = ["Total Interactions", "Lifetime Engaged Users",
                  "Lifetime Post Consumers", "Lifetime Post Total Reach"]


def default_data_dir() -> Path:
    """`<repo>/models/data/uci-facebook-metrics`, resolved from this file's location."""
    env = os.environ.get(ENV_DATA_DIR)
    if env:
        return Path(env)
    models = Path(__file__).resolve().parents[1]  # models/engagement_lib/data.py -> models/
    return models / "data" / "uci-facebook-metrics"


@dataclass
class Dataset:
    X: np.ndarray          # float64 [N, 7] raw features in FEATURE_NAMES order
    Y: np.ndarray          # float64 [N, 4] targets in TARGET_NAMES order
    n_paid_missing: int
    path: Path


def load(data_dir: Path | None = None) -> Dataset:
    path = (data_dir or default_data_dir()) / CSV_NAME
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found; set {ENV_DATA_DIR} to the folder holding {CSV_NAME}")
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    header, body = rows[0], [r for r in rows[1:] if any(c.strip() for c in r)]
    idx = {name: header.index(name) for name in FEATURE_COLUMNS + TARGET_COLUMNS}
    X = np.zeros((len(body), 7))
    Y = np.zeros((len(body), 4))
    n_paid_missing = 0
    for i, r in enumerate(body):
        X[i, 0] = float(r[idx["Page total likes"]])
        X[i, 1] = TYPE_CODES[r[idx["Type"]].strip()]
        X[i, 2] = float(r[idx["Category"]])
        X[i, 3] = float(r[idx["Post Month"]])
        X[i, 4] = float(r[idx["Post Weekday"]])
        X[i, 5] = float(r[idx["Post Hour"]])
        paid = r[idx["Paid"]].strip()
        if paid == "":
            n_paid_missing += 1  # documented choice: a missing `Paid` is treated as 0 (not paid)
            X[i, 6] = 0.0
        else:
            X[i, 6] = float(paid)
        for j, c in enumerate(TARGET_COLUMNS):
            v = r[idx[c]].strip()
            if v == "":
                raise ValueError(f"row {i + 2}: target {c!r} is missing")
            Y[i, j] = float(v)
    return Dataset(X=X, Y=Y, n_paid_missing=n_paid_missing, path=path)


def weekday_evidence(X: np.ndarray) -> dict[str, int]:
    """Infer what `Post Weekday` 1..7 means, using the 2014 calendar.

    `Page total likes` is a snapshot shared by the posts of the same few days. For every
    snapshot whose posts straddle a month boundary, place each post on the latest (old
    month) or earliest (new month) 2014 date with the hypothesised weekday, and take the
    span in days of the snapshot. Returns, per hypothesis "1 = <day>", the largest such span;
    only the true mapping keeps every span within one week.
    """
    names = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    groups: dict[float, set[tuple[int, int]]] = {}
    for likes, month, wd in zip(X[:, 0], X[:, 3].astype(int), X[:, 4].astype(int)):
        groups.setdefault(float(likes), set()).add((int(month), int(wd)))
    out = {}
    for k in range(7):
        worst = 0
        for s in groups.values():
            months = sorted({m for m, _ in s})
            if len(months) != 2:
                continue
            dates = []
            for m, w in s:
                pyw = (w - 1 + k) % 7  # python weekday(), Monday = 0
                if m == months[0]:
                    d = (dt.date(2014, m + 1, 1) if m < 12 else dt.date(2015, 1, 1)) - dt.timedelta(days=1)
                    while d.weekday() != pyw:
                        d -= dt.timedelta(days=1)
                else:
                    d = dt.date(2014, m, 1)
                    while d.weekday() != pyw:
                        d += dt.timedelta(days=1)
                dates.append(d)
            worst = max(worst, (max(dates) - min(dates)).days)
        out[f"1={names[k]}"] = worst
    return out
