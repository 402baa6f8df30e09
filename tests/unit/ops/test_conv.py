"""Conv, ConvTranspose, ConvInteger, QLinearConv on single-node graphs, hand-counted.

Conv MACs = groups × (N·Ho·Wo) × (Cout/g) × (Cin/g·kernel); GEMM view (g, m, n, k).
Weights are constants (parameters); X is a graph input. fp32 = 4 bytes.
"""

from __future__ import annotations

import numpy as np
import pytest

from hwsim.ops.work import WorkKind
from tests.helpers import count_single, f32

FIELDS = ("kind", "flops", "macs", "bytes_read", "bytes_written", "params", "gemm")


def observed(work):
    return {k: getattr(work, k) for k in FIELDS}


def u8(*shape: int) -> np.ndarray:
    return np.full(shape, 3, dtype=np.uint8)


CASES = {
    # X(1,2,5,5) W(4,2,3,3) B(4), pads 1 -> Y(1,4,5,5).
    # 1 group × (1·5·5=25) × 4 × (2·3·3=18) = 1800 MACs; bias 100 -> 3600 + 100 FLOPs;
    # params 72 + 4; reads (50 + 72 + 4)·4 = 504; writes 100·4 = 400.
    "padded_bias": (
        [((1, 2, 5, 5), "fp32"), f32(4, 2, 3, 3), f32(4)], {"pads": [1, 1, 1, 1]},
        dict(flops=3700, macs=1800, bytes_read=504, bytes_written=400, params=76, gemm=(1, 25, 4, 18))),
    # X(1,4,6,6) W(8,2,3,3) group 2 -> Y(1,8,4,4).
    # 2 groups × (1·4·4=16) × (8/2=4) × (2·3·3=18) = 2304 MACs; reads (144 + 144)·4; writes 128·4.
    "grouped": (
        [((1, 4, 6, 6), "fp32"), f32(8, 2, 3, 3)], {"group": 2},
        dict(flops=4608, macs=2304, bytes_read=1152, bytes_written=512, params=144, gemm=(2, 16, 4, 18))),
    # Depthwise X(1,3,5,5) W(3,1,3,3) group 3 pads 1 -> Y(1,3,5,5).
    # 3 groups × 25 × 1 × 9 = 675 MACs; reads (75 + 27)·4 = 408; writes 75·4 = 300.
    "depthwise": (
        [((1, 3, 5, 5), "fp32"), f32(3, 1, 3, 3)], {"group": 3, "pads": [1, 1, 1, 1]},
        dict(flops=1350, macs=675, bytes_read=408, bytes_written=300, params=27, gemm=(3, 25, 1, 9))),
    # Strided X(2,1,7,7) W(2,1,3,3) strides 2 -> Y(2,2,3,3): (7-3)//2+1 = 3.
    # 1 × (2·3·3=18) × 2 × 9 = 324 MACs; reads (98 + 18)·4 = 464; writes 36·4 = 144.
    "strided_batch2": (
        [((2, 1, 7, 7), "fp32"), f32(2, 1, 3, 3)], {"strides": [2, 2]},
        dict(flops=648, macs=324, bytes_read=464, bytes_written=144, params=18, gemm=(1, 18, 2, 9))),
    # Dilated X(1,1,7,7) W(1,1,3,3) dilations 2: span 5 -> Y(1,1,3,3).
    # 1 × 9 × 1 × 9 = 81 MACs; reads (49 + 9)·4 = 232; writes 9·4 = 36.
    "dilated": (
        [((1, 1, 7, 7), "fp32"), f32(1, 1, 3, 3)], {"dilations": [2, 2]},
        dict(flops=162, macs=81, bytes_read=232, bytes_written=36, params=9, gemm=(1, 9, 1, 9))),
    # 1-D X(1,2,10) W(3,2,3) pads 1 -> Y(1,3,10): 1 × 10 × 3 × (2·3=6) = 180 MACs;
    # reads (20 + 18)·4 = 152; writes 30·4 = 120.
    "conv1d": (
        [((1, 2, 10), "fp32"), f32(3, 2, 3)], {"pads": [1, 1]},
        dict(flops=360, macs=180, bytes_read=152, bytes_written=120, params=18, gemm=(1, 10, 3, 6))),
    # 3-D X(1,1,4,4,4) W(2,1,2,2,2) -> Y(1,2,3,3,3): 1 × 27 × 2 × 8 = 432 MACs;
    # reads (64 + 16)·4 = 320; writes 54·4 = 216.
    "conv3d": (
        [((1, 1, 4, 4, 4), "fp32"), f32(2, 1, 2, 2, 2)], {},
        dict(flops=864, macs=432, bytes_read=320, bytes_written=216, params=16, gemm=(1, 27, 2, 8))),
}


@pytest.mark.parametrize("case", list(CASES))
def test_conv_counts(case):
    inputs, attrs, expected = CASES[case]
    _, work = count_single("Conv", inputs, attrs)
    assert observed(work) == {"kind": WorkKind.CONV, **expected}


TRANSPOSE_CASES = {
    # X(1,4,3,3) W(4,2,3,3) B(2) -> Y(1,2,5,5): every input pixel scattered through the kernel:
    # N·Cin·Hi·Wi·(Cout/g)·kh·kw = 1·4·9·2·9 = 648 MACs; view (1, 9, 2·9=18, 4);
    # bias 50 -> 1296 + 50; params 72 + 2; reads (36 + 72 + 2)·4 = 440; writes 50·4 = 200.
    "bias": (
        [((1, 4, 3, 3), "fp32"), f32(4, 2, 3, 3), f32(2)], {},
        dict(flops=1346, macs=648, bytes_read=440, bytes_written=200, params=74, gemm=(1, 9, 18, 4))),
    # Grouped X(1,4,3,3) W(4,1,3,3) group 2 -> Y(1,2,5,5): 1·4·9·1·9 = 324 MACs; view (2, 9, 9, 2).
    "grouped": (
        [((1, 4, 3, 3), "fp32"), f32(4, 1, 3, 3)], {"group": 2},
        dict(flops=648, macs=324, bytes_read=288, bytes_written=200, params=36, gemm=(2, 9, 9, 2))),
    # Strided X(1,1,2,2) W(1,1,3,3) strides 2 -> Y(1,1,5,5): 1·1·4·1·9 = 36 MACs.
    "strided": (
        [((1, 1, 2, 2), "fp32"), f32(1, 1, 3, 3)], {"strides": [2, 2]},
        dict(flops=72, macs=36, bytes_read=52, bytes_written=100, params=9, gemm=(1, 4, 9, 1))),
}


@pytest.mark.parametrize("case", list(TRANSPOSE_CASES))
def test_conv_transpose_counts(case):
    inputs, attrs, expected = TRANSPOSE_CASES[case]
    node, work = count_single("ConvTranspose", inputs, attrs)
    assert observed(work) == {"kind": WorkKind.CONV, **expected}


def test_conv_integer():
    # X uint8 (1,1,4,4), W uint8 (2,1,3,3) -> Y int32 (1,2,2,2): 1 × 4 × 2 × 9 = 72 MACs;
    # reads 16 + 18 bytes; writes 8·4 = 32; uint8 weights are 18 params.
    _, work = count_single("ConvInteger", [((1, 1, 4, 4), "uint8"), u8(2, 1, 3, 3)])
    assert observed(work) == dict(kind=WorkKind.CONV, flops=144, macs=72, bytes_read=34,
                                  bytes_written=32, params=18, gemm=(1, 4, 2, 9))
    assert work.dtype == "uint8"


def test_qlinear_conv():
    # QLinearConv(x, x_s, x_zp, w, w_s, w_zp, y_s, y_zp, B): 72 MACs (as ConvInteger);
    # requantise 2·8 + bias 8 -> 144 + 24 = 168 FLOPs; params w 18 + B 2 (scalars are not params);
    # reads 16 + 4 + 1 + 18 + 4 + 1 + 4 + 1 + 2·4 = 57 bytes; writes 8 (uint8).
    inputs = [((1, 1, 4, 4), "uint8"), np.array(0.1, np.float32), np.array(0, np.uint8), u8(2, 1, 3, 3),
              np.array(0.2, np.float32), np.array(0, np.uint8), np.array(0.3, np.float32),
              np.array(0, np.uint8), np.full(2, 7, np.int32)]
    _, work = count_single("QLinearConv", inputs)
    assert observed(work) == dict(kind=WorkKind.CONV, flops=168, macs=72, bytes_read=57,
                                  bytes_written=8, params=20, gemm=(1, 4, 2, 9))


def test_conv_sparse_weight_density():
    # A quarter of the weights are zero: weight density 0.75, MACs unchanged (dense count).
    w = f32(4, 1, 2, 2)
    w[0] = 0.0
    _, work = count_single("Conv", [((1, 1, 3, 3), "fp32"), w])
    assert work.weight_density == pytest.approx(0.75)
    assert work.macs == 1 * 4 * 4 * 4  # 1 group × (2·2 outputs) × 4 Cout × (1·2·2)
