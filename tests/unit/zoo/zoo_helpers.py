"""Helpers for the zoo tests: cached zoo builds and graph measurements written independently
of hwsim (nothing here uses hwsim beyond ``zoo.build``)."""

from __future__ import annotations

from functools import cache

import numpy as np
import onnx
from onnx import shape_inference

from hwsim import zoo


@cache
def built(name: str, **params) -> onnx.ModelProto:
    """One build per (name, params) for the whole test session (GPT-3 builds once)."""
    return zoo.build(name, **params)


@cache
def inferred(name: str) -> onnx.ModelProto:
    """Default build after strict ONNX shape inference."""
    return shape_inference.infer_shapes(built(name), strict_mode=True)


def param_count(model: onnx.ModelProto) -> int:
    """Numel of float initializers, each counted once, BN running mean/var excluded."""
    buffers = {n.input[i] for n in model.graph.node if n.op_type == "BatchNormalization"
               for i in (3, 4)}
    seen, total = set(), 0
    for t in model.graph.initializer:
        if t.data_type == onnx.TensorProto.FLOAT and t.name not in buffers and t.name not in seen:
            seen.add(t.name)
            total += int(np.prod(t.dims, dtype=np.int64))
    return total


def static_shapes(model: onnx.ModelProto) -> dict[str, tuple[int, ...] | None]:
    """name -> static shape (None when any dim is unknown or symbolic) from an inferred model."""
    out: dict[str, tuple[int, ...] | None] = {}
    g = model.graph
    for vi in [*g.input, *g.value_info, *g.output]:
        tt = vi.type.tensor_type
        if not tt.HasField("shape"):
            out[vi.name] = None
            continue
        dims = [d.dim_value if d.HasField("dim_value") else -1 for d in tt.shape.dim]
        out[vi.name] = None if any(d <= 0 for d in dims) else tuple(dims)
    for t in g.initializer:
        out[t.name] = tuple(t.dims)
    return out


def macs(model: onnx.ModelProto) -> int:
    """Multiply-accumulates of Conv, Gemm and MatMul from inferred static shapes."""
    shapes, total = static_shapes(model), 0
    for n in model.graph.node:
        out = shapes[n.output[0]]
        if n.op_type == "Conv":
            w = shapes[n.input[1]]
            total += int(np.prod(out)) * int(np.prod(w[1:]))
        elif n.op_type == "Gemm":
            a = shapes[n.input[0]]
            trans_a = any(at.name == "transA" and at.i for at in n.attribute)
            total += int(np.prod(out)) * (a[0] if trans_a else a[1])
        elif n.op_type == "MatMul":
            total += int(np.prod(out)) * shapes[n.input[0]][-1]
    return total
