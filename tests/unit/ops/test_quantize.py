"""Quantisation ops: hand-computed counts on single-node graphs."""

import numpy as np
import pytest

from hwsim.ops.work import WorkKind
from tests.helpers import count_single

MS = "com.microsoft"
S = np.array(0.1, dtype=np.float32)
ZU = np.array(3, dtype=np.uint8)


@pytest.mark.parametrize("domain", ["", MS])
def test_quantize_dequantize(domain):
    # quantise 4 per element, dequantise 2 per element, 24 elements
    _, w = count_single("QuantizeLinear", [((2, 3, 4), "fp32"), S, ZU], domain=domain)
    assert w.flops == 96
    _, w = count_single("DequantizeLinear", [((2, 3, 4), "uint8"), S, ZU], domain=domain)
    assert w.flops == 48


def test_dequantize_per_axis_bytes():
    # 6 int8 values, 3 fp32 scales, 3 int8 zero points read: 6 + 12 + 3 = 21 bytes; writes 6·4 = 24
    _, w = count_single("DequantizeLinear", [((2, 3), "int8"), np.full(3, 0.1, np.float32), np.zeros(3, np.int8)], {"axis": 1})
    assert (w.flops, w.bytes_read, w.bytes_written, w.params) == (12, 21, 24, 0)


def test_dynamic_quantize_linear():
    # 20 elements × (2 min/max + 4 quantise) + 10 scalar ops = 130
    node, w = count_single("DynamicQuantizeLinear", [((4, 5), "fp32")], n_outputs=3)
    assert w.flops == 130


@pytest.mark.parametrize("op, per", [("QLinearAdd", 9), ("QLinearMul", 9)])
def test_qlinear_binary(op, per):
    node, w = count_single(op, [((2, 3), "uint8"), S, ZU, ((3,), "uint8"), S, ZU, S, ZU], domain=MS)
    assert node.outputs[0].shape == (2, 3)
    assert w.flops == per * 6


@pytest.mark.parametrize("op, per, kind", [("QLinearSigmoid", 10, WorkKind.ELEMENTWISE), ("QLinearLeakyRelu", 8, WorkKind.ELEMENTWISE),
                                           ("QLinearSoftmax", 11, WorkKind.REDUCE)])
def test_qlinear_unary(op, per, kind):
    _, w = count_single(op, [((2, 3), "uint8"), S, ZU, S, ZU], domain=MS)
    assert (w.flops, w.kind) == (per * 6, kind)


def test_qlinear_pools():
    # global: 32 adds + 6 per output (2 outputs) = 44
    node, w = count_single("QLinearGlobalAveragePool", [((1, 2, 4, 4), "uint8"), S, ZU, S, ZU], domain=MS)
    assert node.outputs[0].shape == (1, 2, 1, 1) and w.flops == 44
    # 2x2 stride 2: 8 outputs × (4 + 6) = 80
    node, w = count_single("QLinearAveragePool", [((1, 2, 4, 4), "uint8"), S, ZU, S, ZU],
                           {"kernel_shape": [2, 2], "strides": [2, 2]}, domain=MS)
    assert node.outputs[0].shape == (1, 2, 2, 2) and w.flops == 80


def test_qlinear_concat():
    # out (1, 5): 5 per element = 25
    node, w = count_single("QLinearConcat", [S, ZU, ((1, 2), "uint8"), S, ZU, ((1, 3), "uint8"), S, ZU], {"axis": 1}, domain=MS)
    assert node.outputs[0].shape == (1, 5) and w.flops == 25


@pytest.mark.parametrize("with_c_y, flops", [
    (True, 48 + (2 + 1 + 4) * 8),   # MACs 2·3·4 = 24; per output dequantise 2 + bias 1 + quantise 4
    (False, 48 + 2 * 8),            # float output, no bias
])
def test_qgemm(with_c_y, flops):
    b = np.ones((3, 4), dtype=np.uint8)
    extra = [np.ones(4, np.int32), S, ZU] if with_c_y else []
    node, w = count_single("QGemm", [((2, 3), "uint8"), S, ZU, b, S, ZU] + extra, domain=MS)
    assert node.outputs[0].shape == (2, 4)
    assert (w.macs, w.flops, w.gemm) == (24, flops, (1, 2, 4, 3))
    assert w.params == 12 + (4 if with_c_y else 0)
