"""Writes tests/fixtures/engagement_ort.json: ONNX Runtime's p10/p50/p90 for a
fixed set of input rows of models/engagement/model.onnx, the reference that
the tract-based `inference-portable` must match (tests/engagement.rs).

Run from the repository root with the project's venv:
    .venv/bin/python components/inference-portable/tests/make_engagement_fixture.py
"""

import json
import pathlib

import numpy as np
import onnxruntime as ort

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[2]
MODEL = ROOT / "models" / "engagement" / "model.onnx"
OUT = HERE / "fixtures" / "engagement_ort.json"

# page_total_likes, type_code (0 photo, 1 status, 2 link, 3 video), category
# (1..3), month (1..12), weekday (1..7), hour (0..23), paid (0/1).
ROWS = [
    [139441, 0, 1, 1, 1, 3, 0],
    [139441, 1, 2, 1, 2, 10, 0],
    [138414, 0, 3, 1, 3, 3, 0],
    [137020, 2, 2, 2, 4, 10, 1],
    [135713, 0, 2, 2, 5, 3, 0],
    [134879, 3, 1, 3, 6, 12, 1],
    [131728, 0, 3, 3, 7, 22, 0],
    [128032, 1, 2, 4, 1, 5, 0],
    [126424, 0, 1, 5, 2, 13, 1],
    [124050, 2, 3, 5, 3, 17, 0],
    [121540, 0, 2, 6, 7, 23, 0],
    [117764, 3, 3, 7, 4, 9, 1],
    [113028, 0, 1, 8, 5, 11, 0],
    [107907, 1, 3, 8, 6, 2, 0],
    [104070, 0, 2, 9, 1, 14, 1],
    [98195, 0, 1, 10, 2, 4, 0],
    [92786, 2, 2, 10, 3, 20, 0],
    [88135, 0, 3, 11, 4, 7, 1],
    [85979, 1, 1, 12, 5, 1, 0],
    [81370, 3, 2, 12, 6, 16, 1],
    [112500, 0, 2, 6, 3, 0, 0],
    [123000, 0, 1, 4, 7, 8, 1],
]


def dump(value, indent: str = "") -> str:
    """JSON with one matrix row per line (small diffs, easy to read)."""
    inner = indent + "  "
    if isinstance(value, dict):
        items = [f"{inner}{json.dumps(k)}: {dump(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(value, list) and value and isinstance(value[0], (list, dict)):
        items = [inner + dump(v, inner) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + indent + "]"
    return json.dumps(value)


def main() -> None:
    features = np.asarray(ROWS, dtype=np.float32)
    session = ort.InferenceSession(str(MODEL), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    outputs = session.run(names, {"features": features})
    fixture = {
        "model": "engagement",
        "generator": "components/inference-portable/tests/make_engagement_fixture.py",
        "onnxruntime": ort.__version__,
        "input": {"name": "features", "shape": list(features.shape), "rows": features.tolist()},
        "outputs": [
            {"name": name, "shape": list(value.shape), "rows": value.astype(np.float32).tolist()}
            for name, value in zip(names, outputs)
        ],
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(dump(fixture) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}: {len(ROWS)} rows, outputs {names}")


if __name__ == "__main__":
    main()
