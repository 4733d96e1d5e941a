"""ONNX export of a fitted model (standard ai.onnx ops only, opset 17), a numpy mirror of the
graph, and runtime checks with ONNX Runtime and OpenVINO.

Graph: in-graph feature encoding -> committee MLP (p10/p50/p90 heads) ; RBF SVR as an explicit
kernel sum ; tree ensembles as node pools walked with GatherElements/Greater
(trees.TreePool; no ai.onnx.ml operators) -> p50 = fixed-weight blend (log space) -> conformal
tails clamped to the p50 -> expm1, clipped at 0.

`build_onnx(..., native_trees=True)` gives the same model for ONNX Runtime alone: the tree pools
become `ai.onnx.ml` TreeEnsemble operators (opset 5), which ONNX Runtime runs natively about
3x faster than the walk (169 rows: 4.2 -> 1.5 ms on one core); tract and OpenVINO cannot."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from . import features, trees
from .data import FEATURE_NAMES
from .model import FittedEnsemble

OPSET = 17
IR_VERSION = 8  # opset 17 needs IR >= 8; kept low for older runtimes (tract, OpenVINO)
INPUT_NAME = "features"
OUTPUT_NAMES = ["p10", "p50", "p90"]
POOL_NAMES = ("rf", "gbr")
ML_DOMAIN = "ai.onnx.ml"
ML_OPSET = 5  # TreeEnsemble (tensor attributes), which ONNX Runtime runs natively
ALLOWED_OPS = {"MatMul", "Gemm", "Add", "Sub", "Mul", "Div", "Relu", "Exp", "Log", "Equal",
               "Cast", "Concat", "Sin", "Cos", "Reshape", "Unsqueeze", "Slice", "Max", "Min",
               "GatherElements", "Greater"}

F32 = np.float32


def folded_constants(ens: FittedEnsemble) -> dict[str, np.ndarray]:
    """The graph's constants (float32). The committee average and the target
    de-standardisation are folded into the second layer."""
    E, D, H = ens.W1.shape
    K = len(ens.t_mu)
    t_sd3 = np.tile(ens.t_sd, 3)          # output layout [p10 x K, p50 x K, p90 x K]
    t_mu3 = np.tile(ens.t_mu, 3)
    W1 = np.concatenate([ens.W1[e].astype(np.float64) for e in range(E)], axis=1)   # [D, E*H]
    b1 = np.concatenate([ens.b1[e].astype(np.float64) for e in range(E)], axis=1)   # [1, E*H]
    W2 = np.concatenate([ens.W2[e].astype(np.float64) for e in range(E)], axis=0) / E  # [E*H, 3K]
    b2 = ens.b2.astype(np.float64).mean(axis=0)                                     # [1, 3K]
    return {
        "likes_mu": np.array([[ens.likes_mu]], F32),
        "likes_sd": np.array([[ens.likes_sd]], F32),
        "type_values": np.array([features.TYPE_VALUES], F32),
        "category_values": np.array([features.CATEGORY_VALUES], F32),
        "weekday_values": np.array([features.WEEKDAY_VALUES], F32),
        "month_freq": np.array([[features.TWO_PI / 12.0]], F32),
        "hour_freq": np.array([[features.TWO_PI / 24.0]], F32),
        "W1": W1.astype(F32),
        "b1": b1.astype(F32),
        "W2": (W2 * t_sd3).astype(F32),
        "b2": (b2 * t_sd3 + t_mu3).astype(F32),
        "c_lo": ens.c_lo.reshape(1, K).astype(F32),
        "c_hi": ens.c_hi.reshape(1, K).astype(F32),
        "one": np.array([[1.0]], F32),
        "zero": np.array([[0.0]], F32),
        "w_mlp": np.array([[ens.blend.mlp]], F32),
        **svr_constants(ens, D),
        **tree_constants(ens),
    }


def tree_pools(ens: FittedEnsemble) -> dict[str, trees.TreePool]:
    """The blend's forest and boosting parts, one node pool each (weights folded in). Kept
    apart because the walk costs (trees x depth): the forest needs ~22 steps, boosting 3."""
    pools = {}
    if ens.blend.rf > 0:
        pools["rf"] = trees.compile_pool(ens.rf, ens.blend.rf, None, 0.0)
    if ens.blend.gbr > 0:
        pools["gbr"] = trees.compile_pool(None, 0.0, ens.gbr, ens.blend.gbr)
    return pools


def tree_constants(ens: FittedEnsemble) -> dict[str, np.ndarray]:
    """Tree blocks, prefixed `<pool>_`. Node tables are [1, G] so that GatherElements can read
    them with the flattened [1, N*T] node indices (ONNX Runtime's Gather is ~10x slower). The
    first step (every tree's root) is a MatMul with a one-hot column selector, which also gives
    the [N, T] shape the later steps keep."""
    out = {}
    for name, pool in tree_pools(ens).items():
        r = pool.roots
        select = np.zeros((len(FEATURE_NAMES), len(r)), F32)
        select[pool.feature[r], np.arange(len(r))] = 1.0
        out.update({
            f"{name}_root_select": select,                                 # [7, T]
            f"{name}_root_threshold": pool.threshold[r][None, :],          # [1, T]
            f"{name}_root_slot": (2 * r)[None, :].astype(np.int32),        # [1, T]
            f"{name}_feature": pool.feature[None, :],                      # [1, G] int32
            f"{name}_threshold": pool.threshold[None, :],                  # [1, G] float32
            f"{name}_children": np.stack([pool.left, pool.right], axis=1).reshape(1, -1),  # [1, 2G]
            f"{name}_value": pool.value.astype(F32)[None, :],              # [1, G]
            f"{name}_assign": pool.assign().astype(F32),                   # [T, K]
            f"{name}_bias": pool.bias[None, :].astype(F32),                # [1, K]
            f"{name}_trees": np.array([-1, len(r)], np.int64),             # reshape to [N, T]
            f"{name}_steps": np.array([pool.depth], np.int64),             # not in the graph
        })
    if out:
        out["flat_shape"] = np.array([1, -1], np.int64)
    return out


def svr_constants(ens: FittedEnsemble, D: int) -> dict[str, np.ndarray]:
    """RBF SVR block: f = exp(2g x.s - g|x|^2 - g|s|^2) @ dual + b, one column per target."""
    if ens.blend.svr <= 0:
        return {}
    K = len(ens.svr)
    for m in ens.svr:
        assert m.likes_mu == ens.likes_mu and m.likes_sd == ens.likes_sd
    sv = np.concatenate([m.support_vectors for m in ens.svr])                 # [S, D]
    g = np.concatenate([np.full(len(m.dual_coef), m.gamma) for m in ens.svr])  # [S]
    dual = np.zeros((len(sv), K))
    o = 0
    for k, m in enumerate(ens.svr):
        dual[o:o + len(m.dual_coef), k] = m.dual_coef
        o += len(m.dual_coef)
    return {
        "ones_d": np.ones((D, 1), F32),
        "svr_W": (2.0 * g[None, :] * sv.T).astype(F32),                 # [D, S]
        "svr_gamma": g[None, :].astype(F32),                              # [1, S]
        "svr_gss": (g * (sv ** 2).sum(axis=1))[None, :].astype(F32),      # [1, S]
        "svr_dual": dual.astype(F32),                                     # [S, K]
        "svr_b": np.array([[m.intercept for m in ens.svr]], F32),         # [1, K]
        "w_svr": np.array([[ens.blend.svr]], F32),
    }


def numpy_forward(c: dict[str, np.ndarray], raw: np.ndarray) -> dict[str, np.ndarray]:
    """Op-by-op float32 mirror of the ONNX graph."""
    x = np.asarray(raw, F32)
    col = [x[:, i:i + 1] for i in range(7)]
    enc = np.concatenate([
        (col[0] - c["likes_mu"]) / c["likes_sd"],
        (col[1] == c["type_values"]).astype(F32),
        (col[2] == c["category_values"]).astype(F32),
        np.sin(col[3] * c["month_freq"]), np.cos(col[3] * c["month_freq"]),
        (col[4] == c["weekday_values"]).astype(F32),
        np.sin(col[5] * c["hour_freq"]), np.cos(col[5] * c["hour_freq"]),
        col[6],
    ], axis=1)
    h = np.maximum(enc @ c["W1"] + c["b1"], F32(0))
    q = h @ c["W2"] + c["b2"]
    K = c["c_lo"].shape[1]
    q10, q50, q90 = q[:, :K], q[:, K:2 * K], q[:, 2 * K:]
    p50 = q50 * c["w_mlp"]
    if "svr_W" in c:
        xx = (enc * enc) @ c["ones_d"]
        kern = np.exp(enc @ c["svr_W"] - xx * c["svr_gamma"] - c["svr_gss"])
        f = kern @ c["svr_dual"] + c["svr_b"]
        p50 = p50 + f * c["w_svr"]
    for name in POOL_NAMES:
        if f"{name}_steps" in c:
            p50 = p50 + numpy_trees(c, name, x)
    l10 = np.minimum(np.minimum(q10, q50) - c["c_lo"], p50)
    l90 = np.maximum(np.maximum(q90, q50) + c["c_hi"], p50)
    out = {}
    for name, v in zip(OUTPUT_NAMES, (l10, p50, l90)):
        out[name] = np.maximum(np.exp(v) - c["one"], c["zero"])
    return out


def numpy_trees(c: dict[str, np.ndarray], name: str, x: np.ndarray) -> np.ndarray:
    """Mirror of one tree block: [N, 7] float32 raw -> [N, K] weighted log-space sum."""
    go_right = (x @ c[f"{name}_root_select"]) > c[f"{name}_root_threshold"]
    idx = c[f"{name}_children"][0, c[f"{name}_root_slot"] + go_right.astype(np.int32)]
    rows = np.arange(len(x))[:, None]
    for _ in range(int(c[f"{name}_steps"][0]) - 1):
        go_right = x[rows, c[f"{name}_feature"][0, idx]] > c[f"{name}_threshold"][0, idx]
        idx = c[f"{name}_children"][0, 2 * idx + go_right.astype(np.int32)]
    return c[f"{name}_value"][0, idx] @ c[f"{name}_assign"] + c[f"{name}_bias"]


def build_onnx(ens: FittedEnsemble, doc: str, native_trees: bool = False) -> onnx.ModelProto:
    """The model graph: outputs [N, K] for the K targets `ens` holds. With `native_trees`, each tree pool is `ai.onnx.ml` TreeEnsemble
    operators instead of the standard-op walk: the same trees, thresholds and leaf values, for
    ONNX Runtime only (tract and OpenVINO do not run `ai.onnx.ml`)."""
    c = folded_constants(ens)
    pools = tree_pools(ens) if native_trees else {}
    K = c["c_lo"].shape[1]
    steps = {name: int(c.pop(f"{name}_steps")[0]) for name in POOL_NAMES if f"{name}_steps" in c}
    if native_trees:  # the walk's tables are not in this graph; the biases are
        c = {k: v for k, v in c.items() if k != "flat_shape" and not any(
            k.startswith(f"{p}_") and k != f"{p}_bias" for p in pools)}
    inits = [numpy_helper.from_array(v, name=k) for k, v in c.items()]

    def i64(name, vals):
        inits.append(numpy_helper.from_array(np.array(vals, np.int64), name=name))
        return name

    nodes = []

    def node(op, inputs, name, **attrs):
        nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        return name

    axis1 = i64("axis_1", [1])
    cols = []
    for i, fname in enumerate(FEATURE_NAMES):
        cols.append(node("Slice", [INPUT_NAME, i64(f"col{i}_start", [i]), i64(f"col{i}_end", [i + 1]),
                                   axis1], f"in_{fname}"))
    likes_c = node("Sub", [cols[0], "likes_mu"], "likes_centered")
    likes_z = node("Div", [likes_c, "likes_sd"], "likes_z")

    def onehot(col, values, tag):
        eq = node("Equal", [col, values], f"{tag}_eq")
        return node("Cast", [eq], f"{tag}_onehot", to=TensorProto.FLOAT)

    type_oh = onehot(cols[1], "type_values", "type")
    cat_oh = onehot(cols[2], "category_values", "category")
    m_ang = node("Mul", [cols[3], "month_freq"], "month_angle")
    m_sin, m_cos = node("Sin", [m_ang], "month_sin"), node("Cos", [m_ang], "month_cos")
    wd_oh = onehot(cols[4], "weekday_values", "weekday")
    h_ang = node("Mul", [cols[5], "hour_freq"], "hour_angle")
    h_sin, h_cos = node("Sin", [h_ang], "hour_sin"), node("Cos", [h_ang], "hour_cos")
    enc = node("Concat", [likes_z, type_oh, cat_oh, m_sin, m_cos, wd_oh, h_sin, h_cos, cols[6]],
               "encoded", axis=1)
    h = node("Relu", [node("Add", [node("MatMul", [enc, "W1"], "hidden_mm"), "b1"], "hidden_pre")],
             "hidden")
    q = node("Add", [node("MatMul", [h, "W2"], "out_mm"), "b2"], "quantiles_log")
    q10 = node("Slice", [q, i64("q10_start", [0]), i64("q10_end", [K]), axis1], "q10_log_raw")
    q50 = node("Slice", [q, i64("q50_start", [K]), i64("q50_end", [2 * K]), axis1], "q50_log_mlp")
    q90 = node("Slice", [q, i64("q90_start", [2 * K]), i64("q90_end", [3 * K]), axis1], "q90_log_raw")
    p50 = node("Mul", [q50, "w_mlp"], "p50_mlp_part")
    if "svr_W" in c:  # RBF SVR (log space), one column per target
        xx = node("MatMul", [node("Mul", [enc, enc], "enc_sq"), "ones_d"], "enc_norm2")
        arg = node("Sub", [node("Sub", [node("MatMul", [enc, "svr_W"], "svr_cross"),
                                        node("Mul", [xx, "svr_gamma"], "svr_gxx")], "svr_arg0"),
                           "svr_gss"], "svr_arg")
        f = node("Add", [node("MatMul", [node("Exp", [arg], "svr_kernel"), "svr_dual"],
                                "svr_mm"), "svr_b"], "svr_log")
        p50 = node("Add", [p50, node("Mul", [f, "w_svr"], "p50_svr_part")], "p50_mlp_svr")
    for name, n_steps in steps.items():
        trees_log = (tree_ensemble(nodes, name, pools[name]) if native_trees
                     else tree_nodes(node, name, n_steps))
        p50 = node("Add", [p50, trees_log], f"p50_with_{name}")
    s10 = node("Min", [q10, q50], "q10_log_sorted")
    s90 = node("Max", [q90, q50], "q90_log_sorted")
    l10 = node("Min", [node("Sub", [s10, "c_lo"], "q10_log_conformal"), p50], "p10_log")
    l90 = node("Max", [node("Add", [s90, "c_hi"], "q90_log_conformal"), p50], "p90_log")
    for out_name, v in zip(OUTPUT_NAMES, (l10, p50, l90)):
        e = node("Exp", [v], f"{out_name}_exp")
        em1 = node("Sub", [e, "one"], f"{out_name}_expm1")
        nodes.append(helper.make_node("Max", [em1, "zero"], [out_name], name=f"{out_name}_clip"))

    graph = helper.make_graph(
        nodes, "engagement",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["N", 7])],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["N", K])
         for n in OUTPUT_NAMES],
        initializer=inits,
    )
    graph.doc_string = doc
    opsets = [helper.make_opsetid("", OPSET)]
    if native_trees:
        opsets.append(helper.make_opsetid(ML_DOMAIN, ML_OPSET))
    model = helper.make_model(graph, opset_imports=opsets,
                              ir_version=IR_VERSION, producer_name="fbposts models/train.py",
                              producer_version="1", model_version=1)
    onnx.checker.check_model(model, full_check=True)
    bad = {n.op_type for n in model.graph.node} - ALLOWED_OPS - (
        {"TreeEnsemble"} if native_trees else set())
    if bad:
        raise RuntimeError(f"non-allowed ops in graph: {sorted(bad)}")
    domains = ("", "ai.onnx", ML_DOMAIN) if native_trees else ("", "ai.onnx")
    if any(n.domain not in domains for n in model.graph.node):
        raise RuntimeError("graph uses an unexpected operator domain")
    return model


def tree_nodes(node, name: str, steps: int) -> str:
    """Walk every tree of pool `name` `steps` levels deep; -> name of its [N, K] sum. Node
    indices live flattened as [1, N*T] (GatherElements on the [1, G] node tables); only the
    lookup of each row's feature value uses the [N, T] layout. Children are interleaved
    ([left, right] per node), so the next node is children[2 * node + (x > threshold)]."""
    def t(what):
        return f"{name}_{what}"

    root_x = node("MatMul", [INPUT_NAME, t("root_select")], t("root_x"))
    go_right = node("Cast", [node("Greater", [root_x, t("root_threshold")], t("go_right_1"))],
                    t("go_right_int_1"), to=TensorProto.INT32)
    slot = node("Reshape", [node("Add", [t("root_slot"), go_right], t("child_slot_rows_1")),
                            "flat_shape"], t("child_slot_1"))
    idx = node("GatherElements", [t("children"), slot], t("node_1"), axis=1)
    for d in range(2, steps + 1):
        feat = node("GatherElements", [t("feature"), idx], t(f"feature_{d}"), axis=1)
        feat2 = node("Reshape", [feat, t("trees")], t(f"feature_rows_{d}"))
        x2 = node("GatherElements", [INPUT_NAME, feat2], t(f"x_rows_{d}"), axis=1)
        x = node("Reshape", [x2, "flat_shape"], t(f"x_{d}"))
        thr = node("GatherElements", [t("threshold"), idx], t(f"threshold_{d}"), axis=1)
        go_right = node("Cast", [node("Greater", [x, thr], t(f"go_right_{d}"))],
                        t(f"go_right_int_{d}"), to=TensorProto.INT32)
        child = node("Add", [node("Add", [idx, idx], t(f"node_x2_{d}")), go_right],
                     t(f"child_slot_{d}"))
        idx = node("GatherElements", [t("children"), child], t(f"node_{d}"), axis=1)
    leaf = node("GatherElements", [t("value"), idx], t("leaf_value"), axis=1)
    leaf2 = node("Reshape", [leaf, t("trees")], t("leaf_value_rows"))
    return node("Add", [node("MatMul", [leaf2, t("assign")], t("sum")), t("bias")], t("log"))


def tree_ensemble(nodes: list, name: str, pool: trees.TreePool) -> str:
    """Pool `name` as `ai.onnx.ml` TreeEnsemble operators on the raw input, one per target
    (ONNX Runtime's single-target path is about twice as fast as one operator with K targets),
    concatenated, plus the pool's bias; -> name of the [N, K] sum. A pool node goes left when
    `x <= threshold` (float32, rounded down): mode 0, BRANCH_LEQ, true branch. Leaves keep
    their weighted values. Opset 5's tensor attributes make the file 2.5x smaller than
    TreeEnsembleRegressor's per-node strings, and ONNX Runtime's memory for it half as large."""
    ends = np.append(pool.roots[1:], len(pool.feature))
    outs = []
    for k in range(len(pool.bias)):
        mine = np.flatnonzero(pool.target == k)
        g = np.concatenate([np.arange(pool.roots[t], ends[t]) for t in mine])
        leaf = pool.left[g] == g
        local = np.full(len(pool.feature), -1, np.int64)  # pool node -> index among its kind
        local[g[~leaf]] = np.arange(int((~leaf).sum()))
        local[g[leaf]] = np.arange(int(leaf.sum()))
        is_leaf = np.zeros(len(pool.feature), np.int64)
        is_leaf[g[leaf]] = 1
        inner = g[~leaf]
        out = f"{name}_log_{k}"
        nodes.append(helper.make_node(
            "TreeEnsemble", [INPUT_NAME], [out], name=out, domain=ML_DOMAIN,
            n_targets=1, aggregate_function=1, post_transform=0,  # SUM, NONE
            tree_roots=local[pool.roots[mine]].tolist(),
            nodes_featureids=pool.feature[inner].tolist(),
            nodes_splits=numpy_helper.from_array(pool.threshold[inner].astype(F32)),
            nodes_modes=numpy_helper.from_array(np.zeros(len(inner), np.uint8)),
            nodes_truenodeids=local[pool.left[inner]].tolist(),
            nodes_trueleafs=is_leaf[pool.left[inner]].tolist(),
            nodes_falsenodeids=local[pool.right[inner]].tolist(),
            nodes_falseleafs=is_leaf[pool.right[inner]].tolist(),
            leaf_targetids=[0] * int(leaf.sum()),
            leaf_weights=numpy_helper.from_array(pool.value[g[leaf]].astype(F32))))
        outs.append(out)
    both = f"{name}_sum"
    nodes.append(helper.make_node("Concat", outs, [both], name=both, axis=1))
    out = f"{name}_log"
    nodes.append(helper.make_node("Add", [both, f"{name}_bias"], [out], name=out))
    return out


def ort_run(model_bytes: bytes, raw: np.ndarray) -> dict[str, np.ndarray]:
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(model_bytes, so, providers=["CPUExecutionProvider"])
    res = sess.run(OUTPUT_NAMES, {INPUT_NAME: np.asarray(raw, F32)})
    return dict(zip(OUTPUT_NAMES, res))


def to_openvino(onnx_path: Path, xml_path: Path) -> None:
    import openvino as ov
    ov_model = ov.convert_model(str(onnx_path))
    ov.save_model(ov_model, str(xml_path), compress_to_fp16=False)


def ov_run(xml_path: Path, raw: np.ndarray) -> dict[str, np.ndarray]:
    import openvino as ov
    core = ov.Core()
    compiled = core.compile_model(str(xml_path), "CPU",
                                  {"INFERENCE_PRECISION_HINT": "f32", "INFERENCE_NUM_THREADS": 1})
    res = compiled({INPUT_NAME: np.asarray(raw, F32)})
    return {n: np.asarray(res[compiled.output(n)]) for n in OUTPUT_NAMES}


def max_rel_diff(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> float:
    """max |a-b| / max(1, |b|) over all outputs."""
    return max(float(np.max(np.abs(a[n].astype(np.float64) - b[n].astype(np.float64))
                            / np.maximum(1.0, np.abs(b[n].astype(np.float64)))))
               for n in OUTPUT_NAMES)
