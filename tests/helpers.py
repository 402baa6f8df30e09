"""Test helpers: build single-node ONNX graphs and count them with hwsim."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import hwsim
from hwsim.graph.opnode import OpNode
from hwsim.ops import count_node
from hwsim.ops.work import OpWork

_NP_TO_ONNX = {"fp32": TensorProto.FLOAT, "fp16": TensorProto.FLOAT16, "int64": TensorProto.INT64,
               "int32": TensorProto.INT32, "int8": TensorProto.INT8, "uint8": TensorProto.UINT8,
               "bool": TensorProto.BOOL, "fp64": TensorProto.DOUBLE, "string": TensorProto.STRING,
               "bf16": TensorProto.BFLOAT16}


def single_node_model(
    op_type: str,
    inputs: Sequence[tuple[Sequence[int], str] | np.ndarray | None],
    attrs: dict[str, Any] | None = None,
    *,
    n_outputs: int = 1,
    domain: str = "",
    opset: int = 17,
    extra_opsets: dict[str, int] | None = None,
) -> onnx.ModelProto:
    """A model with one node named ``op``. Each input is ``(shape, dtype)`` for a graph input,
    a numpy array for a constant (initializer), or None for an omitted optional input."""
    graph_inputs, inits, names = [], [], []
    for i, spec in enumerate(inputs):
        if spec is None:
            names.append("")
            continue
        name = f"in{i}"
        names.append(name)
        if isinstance(spec, np.ndarray):
            inits.append(numpy_helper.from_array(spec, name))
        else:
            shape, dtype = spec
            graph_inputs.append(helper.make_tensor_value_info(name, _NP_TO_ONNX[dtype], list(shape)))
    outs = [f"out{i}" for i in range(n_outputs)]
    node = helper.make_node(op_type, names, outs, name="op", domain=domain, **(attrs or {}))
    graph = helper.make_graph([node], "g", graph_inputs,
                              [helper.make_value_info(o, onnx.TypeProto()) for o in outs], inits)
    opsets = [helper.make_opsetid("", opset)]
    if domain:
        opsets.append(helper.make_opsetid(domain, 1))
    for d, v in (extra_opsets or {}).items():
        opsets.append(helper.make_opsetid(d, v))
    return helper.make_model(graph, opset_imports=opsets, ir_version=9)


def count_single(op_type: str, inputs, attrs=None, **kw) -> tuple[OpNode, OpWork]:
    """(OpNode, OpWork) of the node named ``op`` in :func:`single_node_model`."""
    model = single_node_model(op_type, inputs, attrs, **kw)
    loaded = hwsim.load_model(model)
    node = next(n for n in loaded.nodes if n.name == "op")
    return node, count_node(node)


def f32(*shape: int, fill: float = 0.5) -> np.ndarray:
    """A constant float32 array (non-zero, so it counts as a dense parameter)."""
    return np.full(shape, fill, dtype=np.float32)


def assert_clean_error(code: int, err: str, *needles: str) -> None:
    """A CLI failure as users must see it: exit 2, one line on stderr naming ``needles``, no traceback."""
    assert code == 2, err
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    for n in needles:
        assert n in lines[0], (n, lines[0])
