"""Conv/matmul MACs against independent counts recorded offline.

* tests/data/onnx_tool_macs.json: onnx-tool 1.0.1 per-node MACs for the models bundled in the
  onnx 1.23.2 wheel (command and bias-term conversion recorded in the file and in
  tests/data/make_onnx_tool_macs.py).
* tests/data/exported/expected.json: graphs exported by PyTorch (TorchScript and dynamo
  exporters), onnxruntime's quantizer, tf2onnx and paddle2onnx, with per-node MACs from the
  shapes onnxruntime actually produced (tests/data/exported/make_expected.py).
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path

import onnx
import pytest

import hwsim
from hwsim.ops import count_node

DATA = Path(__file__).resolve().parents[2] / "data"
WHEEL = Path(os.path.dirname(onnx.__file__)) / "backend" / "test" / "data"
TOOL = json.loads((DATA / "onnx_tool_macs.json").read_text())
EXPORTED = json.loads((DATA / "exported" / "expected.json").read_text())
MATMUL_LIKE = {"Conv", "ConvTranspose", "Gemm", "MatMul", "MatMulInteger", "QLinearMatMul", "QLinearConv",
               "ConvInteger", "QGemm", "LSTM", "GRU", "RNN", "DynamicQuantizeLSTM"}


def _hwsim_macs(loaded) -> dict[str, tuple[str, float]]:
    return {n.name: (n.qualified_type, count_node(n).macs) for n in loaded.nodes if n.op_type in MATMUL_LIKE}


def _by_type(rows) -> dict[str, list[float]]:
    out = defaultdict(list)
    for op, macs in rows:
        out[op].append(float(macs))
    return {k: sorted(v) for k, v in out.items()}


@pytest.mark.parametrize("rel", sorted(TOOL["models"]))
def test_wheel_models_match_onnx_tool(rel):
    ref = TOOL["models"][rel]
    loaded = hwsim.load_model(WHEEL / rel)
    ours = _hwsim_macs(loaded)
    expected = [(op, node["macs_pure"]) for op, nodes in ref.items() if isinstance(nodes, dict)
                for node in nodes.values()]
    got = [(op, macs) for op, macs in ours.values() if op in {op for op, _ in expected}]
    assert _by_type(got) == _by_type(expected)
    for op, nodes in ref.items():
        if not isinstance(nodes, dict):
            continue
        for key, node in nodes.items():
            if not key.startswith("#"):
                assert ours[key] == (op, node["macs_pure"]), key


@pytest.mark.parametrize("fname", sorted(EXPORTED["files"]))
def test_exported_graphs_match_runtime_shapes(fname):
    ref = EXPORTED["files"][fname]
    loaded = hwsim.load_model(DATA / "exported" / fname, dims=ref["binding"])
    ours = _hwsim_macs(loaded)
    for key, node in ref["macs_nodes"].items():
        if key.startswith("#"):
            continue
        assert ours[key][1] == node["macs_pure"], key
    expected = [(n["op_type"], n["macs_pure"]) for n in ref["macs_nodes"].values()]
    assert _by_type([v for v in ours.values() if v[0] in {op for op, _ in expected}]) == _by_type(expected)
    assert sum(m for _, m in ours.values()) == ref["total_macs_pure"]
    for out in ref["outputs"]:
        got = next(o for o in loaded.outputs if o.name == out["name"])
        assert list(got.shape) == out["shape_at_binding"]
