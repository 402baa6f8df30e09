"""Pooling ops, hand-counted: output elements × (window taps × per-tap cost + per-output cost).

fp32 = 4 bytes, int64 = 8.
"""

from __future__ import annotations

import pytest

from hwsim.graph.opnode import OpNode, TensorInfo
from hwsim.ops import count_node
from hwsim.ops.registry import MS_DOMAIN
from hwsim.ops.work import WorkKind
from tests.helpers import count_single

FIELDS = ("kind", "flops", "macs", "bytes_read", "bytes_written", "params", "gemm")


def observed(work):
    return {k: getattr(work, k) for k in FIELDS}


def pool(flops, br, bw):
    return dict(kind=WorkKind.POOL, flops=flops, macs=0, bytes_read=br, bytes_written=bw, params=0, gemm=None)


CASES = {
    # X(1,3,8,8) k3 s2 -> (1,3,3,3) = 27 outputs × 9 compares = 243; reads 192·4; writes 27·4.
    "maxpool": ("MaxPool", [((1, 3, 8, 8), "fp32")], {"kernel_shape": [3, 3], "strides": [2, 2]}, {},
                pool(243, 768, 108)),
    # Same with the Indices output: + 27 int64 written -> 108 + 216.
    "maxpool_indices": ("MaxPool", [((1, 3, 8, 8), "fp32")], {"kernel_shape": [3, 3], "strides": [2, 2]},
                        {"n_outputs": 2}, pool(243, 768, 324)),
    # Padded: X(1,1,4,4) k3 s2 pads 1 -> (4 + 2 - 3)//2 + 1 = 2 -> 4 outputs × 9 = 36 (padded taps counted).
    "maxpool_padded": ("MaxPool", [((1, 1, 4, 4), "fp32")],
                       {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}, {}, pool(36, 64, 16)),
    # Dilated: X(1,1,5,5) k2 dilation 2: span 3 -> 3×3 = 9 outputs × 4 taps = 36.
    "maxpool_dilated": ("MaxPool", [((1, 1, 5, 5), "fp32")], {"kernel_shape": [2, 2], "dilations": [2, 2]}, {},
                        pool(36, 100, 36)),
    # AveragePool X(1,2,4,4) k2 s2 -> 8 outputs × (4 adds + 1 divide) = 40.
    "avgpool": ("AveragePool", [((1, 2, 4, 4), "fp32")], {"kernel_shape": [2, 2], "strides": [2, 2]}, {},
                pool(40, 128, 32)),
    # 1-D AveragePool X(1,1,8) k3 -> 6 outputs × 4 = 24.
    "avgpool_1d": ("AveragePool", [((1, 1, 8), "fp32")], {"kernel_shape": [3]}, {}, pool(24, 32, 24)),
    # LpPool same window: 8 × (2·4 + 1 root) = 72.
    "lppool": ("LpPool", [((1, 2, 4, 4), "fp32")], {"kernel_shape": [2, 2], "strides": [2, 2]}, {},
               pool(72, 128, 32)),
    # Global pools on X(2,3,4,4) = 96 -> (2,3,1,1) = 6 outputs.
    "global_avg": ("GlobalAveragePool", [((2, 3, 4, 4), "fp32")], {}, {}, pool(96 + 6, 384, 24)),
    "global_max": ("GlobalMaxPool", [((2, 3, 4, 4), "fp32")], {}, {}, pool(96, 384, 24)),
    "global_lp": ("GlobalLpPool", [((2, 3, 4, 4), "fp32")], {}, {}, pool(2 * 96 + 6, 384, 24)),
    # MaxRoiPool X(1,2,6,6), 3 ROIs, 2×2 bins -> Y(3,2,2,2). Upper bound: each ROI spans the
    # map: 3·2·36 compares + 4·3 coordinate scalings = 228; reads (72 + 15)·4; writes 24·4.
    "max_roi_pool": ("MaxRoiPool", [((1, 2, 6, 6), "fp32"), ((3, 5), "fp32")], {"pooled_shape": [2, 2]}, {},
                     pool(228, 348, 96)),
    # RoiAlign X(1,2,8,8), 3 ROIs, 2×2 output, sampling_ratio 2 -> Y(3,2,2,2) = 24 outputs;
    # per output 2·2 samples × (8 bilinear + 1 add) + 1 divide = 37 -> 888;
    # reads (128 + 12)·4 + 3·8 = 584; writes 96.
    "roi_align": ("RoiAlign", [((1, 2, 8, 8), "fp32"), ((3, 4), "fp32"), ((3,), "int64")],
                  {"output_height": 2, "output_width": 2, "sampling_ratio": 2}, {}, pool(888, 584, 96)),
    # Adaptive sampling (ratio 0): bound ⌈8/2⌉·⌈8/2⌉ = 16 samples × 9 + 1 = 145 per output -> 3480.
    "roi_align_adaptive": ("RoiAlign", [((1, 2, 8, 8), "fp32"), ((3, 4), "fp32"), ((3,), "int64")],
                           {"output_height": 2, "output_width": 2}, {}, pool(3480, 584, 96)),
    # max mode: no divide -> 16 × 9 = 144 per output -> 3456.
    "roi_align_max": ("RoiAlign", [((1, 2, 8, 8), "fp32"), ((3, 4), "fp32"), ((3,), "int64")],
                      {"output_height": 2, "output_width": 2, "mode": "max"}, {}, pool(3456, 584, 96)),
    # MaxUnpool X(1,1,2,2) + indices int64 -> (1,1,4,4): no arithmetic; reads 16 + 32; writes 64.
    "max_unpool": ("MaxUnpool", [((1, 1, 2, 2), "fp32"), ((1, 1, 2, 2), "int64")],
                   {"kernel_shape": [2, 2], "strides": [2, 2]}, {}, pool(0, 48, 64)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_pool_counts(case):
    op, inputs, attrs, kw, expected = CASES[case]
    _, work = count_single(op, inputs, attrs, **kw)
    assert observed(work) == expected


def test_roi_bounds_are_noted():
    _, work = count_single(*CASES["max_roi_pool"][:3])
    assert any("upper bound" in n for n in work.notes)


def test_nhwc_maxpool_contrib():
    # com.microsoft NhwcMaxPool uint8 (1,4,4,2) k2 s2 -> (1,2,2,2) = 8 outputs × 4 = 32.
    x, y = TensorInfo("x", (1, 4, 4, 2), "uint8"), TensorInfo("y", (1, 2, 2, 2), "uint8")
    node = OpNode("op", "NhwcMaxPool", MS_DOMAIN, 1, (x,), (y,), {"kernel_shape": [2, 2], "strides": [2, 2]})
    assert observed(count_node(node)) == pool(32, 32, 8)
