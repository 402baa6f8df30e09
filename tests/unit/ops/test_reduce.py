"""Reductions, softmax family, scans, TopK and losses, hand-counted.

Per-input-element and per-output-element costs follow hwsim/ops/reduce.py's tables; each case
states its arithmetic. fp32 = 4 bytes, int64 = 8.
"""

from __future__ import annotations

import numpy as np
import pytest

from hwsim.graph.opnode import OpNode, TensorInfo
from hwsim.ops import count_node
from hwsim.ops.registry import MS_DOMAIN
from hwsim.ops.work import WorkKind
from tests.helpers import count_single

FIELDS = ("kind", "flops", "macs", "bytes_read", "bytes_written", "params", "gemm")


def observed(work):
    return {k: getattr(work, k) for k in FIELDS}


def red(flops, br, bw, params=0):
    return dict(kind=WorkKind.REDUCE, flops=flops, macs=0, bytes_read=br, bytes_written=bw,
                params=params, gemm=None)


AXES1 = np.array([1], dtype=np.int64)

# X(2,3,4) = 24 elements reduced over axis 1 (keepdims) -> (2,1,4) = 8 outputs.
# Reads 24·4 + 8 (axes int64) = 104; writes 8·4 = 32.
REDUCE_EXPECTED = {
    "ReduceSum": 24,            # 24 adds
    "ReduceMean": 32,           # 24 adds + 8 divides
    "ReduceMax": 24,            # 24 compares
    "ReduceMin": 24,
    "ReduceProd": 24,           # 24 muls
    "ReduceL1": 48,             # (abs + add) × 24
    "ReduceL2": 56,             # (mul + add) × 24 + 8 sqrt
    "ReduceSumSquare": 48,      # (mul + add) × 24
    "ReduceLogSum": 32,         # 24 adds + 8 logs
    "ReduceLogSumExp": 112,     # (max, sub, exp, add) × 24 + (log, add max) × 8
}


@pytest.mark.parametrize("op", list(REDUCE_EXPECTED))
def test_reduce_counts(op):
    _, work = count_single(op, [((2, 3, 4), "fp32"), AXES1], {}, opset=18)
    assert observed(work) == red(REDUCE_EXPECTED[op], 104, 32)


@pytest.mark.parametrize("op", ["ArgMax", "ArgMin"])
def test_arg_reduce(op):
    # 24 compares; output (2,1,4) int64 -> writes 8·8 = 64.
    _, work = count_single(op, [((2, 3, 4), "fp32")], {"axis": 1})
    assert observed(work) == red(24, 96, 64)


SOFTMAX = {
    # opset 13 along the last axis: (max, sub, exp, add, div) × 24 = 120.
    "softmax_13": ("Softmax", {}, 13, 120),
    # LogSoftmax axis 1: 5 × 24 + one log per row; rows = 24 / 3 = 8 -> 128.
    "logsoftmax_13_axis1": ("LogSoftmax", {"axis": 1}, 13, 128),
    # opset 11 coerces to 2-D at axis 1: 2 rows of 12 -> 120 + 2.
    "logsoftmax_11": ("LogSoftmax", {}, 11, 122),
    "softmax_11": ("Softmax", {}, 11, 120),
    # Hardmax: one compare per element.
    "hardmax": ("Hardmax", {}, 13, 24),
}


@pytest.mark.parametrize("case", list(SOFTMAX))
def test_softmax_family(case):
    op, attrs, opset, flops = SOFTMAX[case]
    _, work = count_single(op, [((2, 3, 4), "fp32")], attrs, opset=opset)
    assert observed(work) == red(flops, 96, 96)


def test_cumsum():
    # (2,3) along axis 0: 6 adds; reads 24 + 8 (axis int64 scalar), writes 24.
    _, work = count_single("CumSum", [((2, 3), "fp32"), np.array(0, np.int64)])
    assert observed(work) == red(6, 32, 24)


@pytest.mark.parametrize("k,flops", [
    (1, 30),   # k = 1: one max scan, 30 compares
    (4, 60),   # heap of 4: ⌈log2 4⌉ = 2 compares per element × 30
    (5, 90),   # ⌈log2 5⌉ = 3 × 30
])
def test_topk(k, flops):
    # X(3,10), K = [k]: Values (3,k) fp32 + Indices (3,k) int64; reads 120 + 8.
    _, work = count_single("TopK", [((3, 10), "fp32"), np.array([k], np.int64)], n_outputs=2)
    assert observed(work) == red(flops, 128, 3 * k * (4 + 8))


def test_softmax_cross_entropy_loss():
    # scores (2,5), labels int64 (2,), mean: LogSoftmax 5·10, then per row 3 (log, pick the
    # label's log-prob and negate, reduce) -> 50 + 2·3 = 56, + 1 mean divide = 57.
    _, work = count_single("SoftmaxCrossEntropyLoss", [((2, 5), "fp32"), ((2,), "int64")])
    assert observed(work) == red(57, 40 + 16, 4)


def test_softmax_cross_entropy_loss_weighted_sum():
    # + weights (5,): one weight mul per row (2); reduction sum: no final divide -> 50 + 2·4 = 58.
    _, work = count_single("SoftmaxCrossEntropyLoss", [((2, 5), "fp32"), ((2,), "int64"), ((5,), "fp32")],
                           {"reduction": "sum"})
    assert observed(work) == red(58, 40 + 16 + 20, 4)


@pytest.mark.parametrize("reduction,flops,bw", [
    ("mean", 5, 4),   # per target: pick+negate 1, reduce 1 -> 2·2, + 1 divide
    ("none", 2, 8),   # pick+negate only; output (2,)
])
def test_nll_loss(reduction, flops, bw):
    # Reads targets 2·8 + one gathered input element per target 2·4 = 24 (not the whole input).
    _, work = count_single("NegativeLogLikelihoodLoss", [((2, 5), "fp32"), ((2,), "int64")],
                           {"reduction": reduction})
    assert observed(work) == red(flops, 24, bw)


def test_bias_softmax_contrib():
    # com.microsoft BiasSoftmax(data (2,4,8), bias (2,4,8)): add + softmax = 6 × 64 = 384.
    t = TensorInfo("x", (2, 4, 8), "fp32")
    node = OpNode("op", "BiasSoftmax", MS_DOMAIN, 1, (t, t), (t,), {"axis": -1})
    assert observed(count_node(node)) == red(384, 512, 256)
