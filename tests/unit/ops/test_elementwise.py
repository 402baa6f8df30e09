"""Elementwise ops on single-node graphs: FLOPs = per-element cost × output elements.

Per-element costs come from the formulas in hwsim/ops/elementwise.py (every elementary function
one operation). A constant non-scalar float operand is a parameter. fp32 = 4 bytes.
"""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto

from hwsim.ops.work import WorkKind
from tests.helpers import count_single, f32

FIELDS = ("kind", "flops", "macs", "bytes_read", "bytes_written", "params", "gemm")


def observed(work):
    return {k: getattr(work, k) for k in FIELDS}


CASES = {
    # (2,3,4) + bias(4): 24 adds; reads (24 + 4)·4 = 112; writes 96; the bias is 4 params.
    "add_const_bias": ("Add", [((2, 3, 4), "fp32"), f32(4)], {}, {},
                       dict(flops=24, bytes_read=112, bytes_written=96, params=4)),
    # (2,1,4) + (3,1) -> (2,3,4): 24 adds; operands read at their own size (8 + 3)·4 = 44.
    "add_broadcast_inputs": ("Add", [((2, 1, 4), "fp32"), ((3, 1), "fp32")], {}, {},
                             dict(flops=24, bytes_read=44, bytes_written=96, params=0)),
    # x·2.0: 6 muls; the scalar constant is read (4 bytes) but is not a parameter.
    "mul_scalar": ("Mul", [((2, 3), "fp32"), np.array(2.0, np.float32)], {}, {},
                   dict(flops=6, bytes_read=28, bytes_written=24, params=0)),
    # Relu (2,3): 1 per element.
    "relu": ("Relu", [((2, 3), "fp32")], {}, {}, dict(flops=6, bytes_read=24, bytes_written=24, params=0)),
    # Sigmoid: neg, exp, add, div = 4 per element -> 24.
    "sigmoid": ("Sigmoid", [((2, 3), "fp32")], {}, {}, dict(flops=24, bytes_read=24, bytes_written=24, params=0)),
    # Erf: one elementary function per element.
    "erf": ("Erf", [((5,), "fp32")], {}, {}, dict(flops=5, bytes_read=20, bytes_written=20, params=0)),
    # PRelu X(1,3,2,2), slope(3,1,1): compare + mul = 2 × 12 = 24; slope 3 params;
    # reads (12 + 3)·4 = 60.
    "prelu": ("PRelu", [((1, 3, 2, 2), "fp32"), f32(3, 1, 1)], {}, {},
              dict(flops=24, bytes_read=60, bytes_written=48, params=3)),
    # Sum of 3 (2,2) inputs: 2 adds per element × 4; reads 3·16.
    "sum_variadic": ("Sum", [((2, 2), "fp32")] * 3, {}, {},
                     dict(flops=8, bytes_read=48, bytes_written=16, params=0)),
    # Mean of 3: 2 adds + 1 divide per element × 4.
    "mean_variadic": ("Mean", [((2, 2), "fp32")] * 3, {}, {},
                      dict(flops=12, bytes_read=48, bytes_written=16, params=0)),
    # Cast fp32 -> fp16 (2,3): 1 conversion per element; reads 6·4, writes 6·2.
    "cast": ("Cast", [((2, 3), "fp32")], {"to": TensorProto.FLOAT16}, {},
             dict(flops=6, bytes_read=24, bytes_written=12, params=0)),
    # Gelu opset 20, exact (erf): div, erf, add, mul, mul = 5 × 6.
    "gelu_exact": ("Gelu", [((2, 3), "fp32")], {}, {"opset": 20},
                   dict(flops=30, bytes_read=24, bytes_written=24, params=0)),
    # Gelu approximate="tanh": x³ (2 mul) ·0.044715 (1), +x, ·√(2/π), tanh, +1, ·x, ·0.5 = 9 × 6.
    "gelu_tanh": ("Gelu", [((2, 3), "fp32")], {"approximate": "tanh"}, {"opset": 20},
                  dict(flops=54, bytes_read=24, bytes_written=24, params=0)),
    # Where(cond bool(2,3), X(2,3), Y(1,)): 1 select per element; reads 6 + 24 + 4.
    "where": ("Where", [((2, 3), "bool"), ((2, 3), "fp32"), ((1,), "fp32")], {}, {},
              dict(flops=6, bytes_read=34, bytes_written=24, params=0)),
    # Clip with scalar min/max: max then min = 2 per element; reads 24 + 4 + 4.
    "clip": ("Clip", [((2, 3), "fp32"), np.array(0.0, np.float32), np.array(6.0, np.float32)], {}, {},
             dict(flops=12, bytes_read=32, bytes_written=24, params=0)),
    # Equal -> bool output: 1 compare per element; writes 6 bytes.
    "equal": ("Equal", [((2, 3), "fp32"), ((2, 3), "fp32")], {}, {},
              dict(flops=6, bytes_read=48, bytes_written=6, params=0)),
    # fp16 Add: 2 bytes per element: reads 2·6·2, writes 6·2.
    "add_fp16": ("Add", [((2, 3), "fp16"), ((2, 3), "fp16")], {}, {},
                 dict(flops=6, bytes_read=24, bytes_written=12, params=0)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_elementwise_counts(case):
    op, inputs, attrs, kw, expected = CASES[case]
    _, work = count_single(op, inputs, attrs, **kw)
    assert observed(work) == {"kind": WorkKind.ELEMENTWISE, "macs": 0, "gemm": None, **expected}


def test_dtype_follows_float_input():
    _, work = count_single("Add", [((2, 3), "fp16"), ((2, 3), "fp16")])
    assert work.dtype == "fp16"


def test_constant_only_op_is_folded_and_free():
    # Both operands are constants: folded at load time, zero work per inference.
    node, work = count_single("Add", [f32(2, 3), f32(2, 3)])
    assert node.folded
    assert (work.flops, work.bytes_read, work.bytes_written, work.kind) == (0, 0, 0, WorkKind.NONE)
