"""Tree ensembles on log1p(target) — the random-forest and gradient-boosting baselines, which
are also components of the model's p50 — and their compilation into a flat node pool that the
ONNX graph walks with standard ops (Gather / GatherElements / LessOrEqual / Where), so neither
ONNX Runtime, tract nor OpenVINO needs the `ai.onnx.ml` TreeEnsemble operators.

Both ensembles are scikit-learn defaults (a plain baseline is one nobody tuned), fitted on the
7 raw input columns (trees need no encoding), one ensemble per target, fixed random_state.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor

TREE_SEED = 0  # random_state of every forest / boosting run, fixed a priori


def fit_rf(raw_tr: np.ndarray, y_tr: np.ndarray) -> RandomForestRegressor:
    """Random forest on log1p(target), scikit-learn defaults (100 trees, full depth)."""
    return RandomForestRegressor(random_state=TREE_SEED, n_jobs=1).fit(raw_tr, np.log1p(y_tr))


def fit_gbr(raw_tr: np.ndarray, y_tr: np.ndarray) -> GradientBoostingRegressor:
    """Gradient boosting on log1p(target), scikit-learn defaults (100 trees of depth 3,
    learning rate 0.1, squared error)."""
    return GradientBoostingRegressor(random_state=TREE_SEED).fit(raw_tr, np.log1p(y_tr))


@dataclass
class TreePool:
    """Many regression trees as one node array. Tree t starts at node roots[t]; an internal node
    sends a row left when raw[feature] <= threshold; a leaf points to itself (left = right =
    own index), so walking `depth` steps from the roots ends on every tree's leaf. The output
    is sum_t value[leaf_t] into column target[t], plus bias (tree weights already folded into
    value and bias)."""
    feature: np.ndarray    # [G] int32, 0 at leaves
    threshold: np.ndarray  # [G] float32, rounded down so that float32 x <= it <=> x <= float64 t
    left: np.ndarray       # [G] int32
    right: np.ndarray      # [G] int32
    value: np.ndarray      # [G] float64, weighted leaf value (0 at internal nodes)
    roots: np.ndarray      # [T] int32
    target: np.ndarray     # [T] int, output column of each tree
    bias: np.ndarray       # [K] float64
    depth: int             # walking steps (the deepest tree's depth)

    def assign(self) -> np.ndarray:
        """[T, K] one-hot: tree t -> output column."""
        a = np.zeros((len(self.roots), len(self.bias)))
        a[np.arange(len(self.roots)), self.target] = 1.0
        return a

    def leaves(self, raw: np.ndarray) -> np.ndarray:
        """[N, T] leaf node index per row and tree (float32 comparisons, as in the graph)."""
        x = np.asarray(raw, np.float32)
        idx = np.broadcast_to(self.roots, (len(x), len(self.roots)))
        rows = np.arange(len(x))[:, None]
        for _ in range(self.depth):
            go_left = x[rows, self.feature[idx]] <= self.threshold[idx]
            idx = np.where(go_left, self.left[idx], self.right[idx])
        return idx

    def predict_log(self, raw: np.ndarray) -> np.ndarray:
        """[N, K] float64 weighted sum of leaf values + bias."""
        return self.value[self.leaves(raw)] @ self.assign() + self.bias


def _float32_floor(t: np.ndarray) -> np.ndarray:
    f = t.astype(np.float32)
    over = f.astype(np.float64) > t
    f[over] = np.nextafter(f[over], np.float32(-np.inf))
    return f


class _PoolBuilder:
    def __init__(self, n_targets: int):
        self.parts: list[dict] = []
        self.roots: list[int] = []
        self.target: list[int] = []
        self.bias = np.zeros(n_targets)
        self.size = 0
        self.depth = 0

    def add_tree(self, tree, weight: float, k: int) -> None:
        """tree: a fitted sklearn `Tree` (estimator.tree_)."""
        n = tree.node_count
        off = self.size
        is_leaf = tree.children_left == -1
        if is_leaf[0]:
            raise ValueError("a tree made of a single leaf cannot be walked from its root")
        own = np.arange(n) + off
        self.parts.append({
            "feature": np.where(is_leaf, 0, tree.feature).astype(np.int32),
            "threshold": np.where(is_leaf, 0.0, tree.threshold),
            "left": np.where(is_leaf, own, tree.children_left + off).astype(np.int32),
            "right": np.where(is_leaf, own, tree.children_right + off).astype(np.int32),
            "value": np.where(is_leaf, tree.value[:, 0, 0] * weight, 0.0),
        })
        self.roots.append(off)
        self.target.append(k)
        self.size += n
        self.depth = max(self.depth, int(tree.max_depth))

    def build(self) -> TreePool:
        cat = {key: np.concatenate([p[key] for p in self.parts]) for key in self.parts[0]}
        return TreePool(cat["feature"], _float32_floor(cat["threshold"]), cat["left"],
                        cat["right"], cat["value"], np.asarray(self.roots, np.int32),
                        np.asarray(self.target), self.bias.copy(), self.depth)


def compile_pool(rfs: list | None, rf_weight: float, gbrs: list | None,
                 gbr_weight: float) -> TreePool:
    """One pool computing, per target k, rf_weight * rfs[k] + gbr_weight * gbrs[k] (log space).
    Lists hold one fitted ensemble per target (None or weight 0: left out)."""
    n_targets = len(rfs or gbrs)
    b = _PoolBuilder(n_targets)
    if rfs and rf_weight > 0:
        for k, rf in enumerate(rfs):
            for est in rf.estimators_:
                b.add_tree(est.tree_, rf_weight / len(rf.estimators_), k)
    if gbrs and gbr_weight > 0:
        for k, g in enumerate(gbrs):
            b.bias[k] += gbr_weight * float(np.ravel(g.init_.constant_)[0])
            for est in g.estimators_[:, 0]:
                b.add_tree(est.tree_, gbr_weight * g.learning_rate, k)
    return b.build()
