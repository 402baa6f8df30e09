"""Quantisation: (De)QuantizeLinear, DynamicQuantizeLinear and com.microsoft QLinear* / QGemm.

Counted from the defining formulas (ONNX spec / onnxruntime contrib-op docs), per element:

* dequantise ``(q − zp)·scale``: 2; quantise ``saturate(round(x / scale) + zp)``: 4
  (div, round, add, clamp). Per-axis and blocked scales cost the same per element (their
  small scale tensors are read once, included in ``bytes_read``).
* QLinear elementwise ops = dequantise every input value + the float op + quantise the result
  (runtimes use lookup tables or fixed-point for some; the formula count is the convention).

Constant quantised weights reached through DequantizeLinear are counted as parameters at their
consumer (the DequantizeLinear of a constant folds at load time).
"""

from __future__ import annotations

from hwsim.graph.opnode import OpNode
from hwsim.ops.common import in_shape, make_work, out_numel, prod
from hwsim.ops.elementwise import ACTIVATION_FLOPS
from hwsim.ops.registry import MS_DOMAIN, register
from hwsim.ops.work import OpWork, WorkKind

DEQUANT = 2
QUANT = 4
SOFTMAX = 5


@register("DequantizeLinear")
@register("DequantizeLinear", domain=MS_DOMAIN)
def dequantize(node: OpNode) -> OpWork:
    """(x − zero_point)·scale: 2 FLOPs per element."""
    return make_work(node, WorkKind.ELEMENTWISE, DEQUANT * out_numel(node), control_slots=(1, 2))


@register("QuantizeLinear")
@register("QuantizeLinear", domain=MS_DOMAIN)
def quantize(node: OpNode) -> OpWork:
    """saturate(round(x / scale) + zero_point): 4 FLOPs per element."""
    return make_work(node, WorkKind.ELEMENTWISE, QUANT * out_numel(node), control_slots=(1, 2))


@register("DynamicQuantizeLinear")
def dynamic_quantize(node: OpNode) -> OpWork:
    """min and max reductions (2 per element), scale and zero point (≈10 scalar ops), then
    quantise (4 per element): FLOPs = 6·elements + 10."""
    return make_work(node, WorkKind.ELEMENTWISE, (2 + QUANT) * node.inputs[0].numel + 10)


@register("QLinearAdd", "QLinearMul", domain=MS_DOMAIN)
def qlinear_binary(node: OpNode) -> OpWork:
    """Dequantise A and B (2 each), add/multiply (1), quantise (4): 9 per output element."""
    return make_work(node, WorkKind.ELEMENTWISE, (2 * DEQUANT + 1 + QUANT) * out_numel(node))


@register("QLinearSigmoid", "QLinearLeakyRelu", domain=MS_DOMAIN)
def qlinear_activation(node: OpNode) -> OpWork:
    """Dequantise (2) + activation (Sigmoid 4, LeakyRelu 2) + quantise (4) per element."""
    act = ACTIVATION_FLOPS[node.op_type.removeprefix("QLinear")]
    return make_work(node, WorkKind.ELEMENTWISE, (DEQUANT + act + QUANT) * out_numel(node))


@register("QLinearSoftmax", domain=MS_DOMAIN)
def qlinear_softmax(node: OpNode) -> OpWork:
    """Dequantise (2) + softmax (5: max, sub, exp, sum, div) + quantise (4): 11 per element."""
    return make_work(node, WorkKind.REDUCE, (DEQUANT + SOFTMAX + QUANT) * out_numel(node))


@register("QLinearGlobalAveragePool", domain=MS_DOMAIN)
def qlinear_global_avgpool(node: OpNode) -> OpWork:
    """One add per input element (zero point folded), then per output: divide (1), rescale (1),
    quantise (4). FLOPs = in elements + 6·out elements."""
    return make_work(node, WorkKind.POOL, node.inputs[0].numel + 6 * out_numel(node))


@register("QLinearAveragePool", domain=MS_DOMAIN)
def qlinear_avgpool(node: OpNode) -> OpWork:
    """Per output: kernel-volume adds, divide, rescale, quantise: out · (kernel volume + 6)."""
    k = prod(node.attrs["kernel_shape"])
    return make_work(node, WorkKind.POOL, out_numel(node) * (k + 6))


@register("QLinearConcat", domain=MS_DOMAIN)
def qlinear_concat(node: OpNode) -> OpWork:
    """Requantise every element to the output scale: (x − zp_x)·(s_x/s_y) + zp_y, round, clamp =
    5 per output element (a plain copy when scales match, but the runtime cannot assume it)."""
    return make_work(node, WorkKind.ELEMENTWISE, 5 * out_numel(node))


@register("QGemm", domain=MS_DOMAIN)
def qgemm(node: OpNode) -> OpWork:
    """com.microsoft QGemm(A, a_scale, a_zp, B, b_scale, b_zp, C, y_scale, y_zp): integer M·N·K MACs;
    per output: dequantise 2, bias add 1 (C given), alpha 1 (≠ 1), quantise 4 (y_scale given)."""
    a, b = in_shape(node, 0), in_shape(node, 3)
    m, k = (a[1], a[0]) if node.attrs.get("transA", 0) else (a[0], a[1])
    n = b[0] if node.attrs.get("transB", 0) else b[1]
    macs = m * n * k
    per = DEQUANT + (1 if node.input(6) is not None else 0) + (1 if node.attrs.get("alpha", 1.0) != 1.0 else 0)
    per += QUANT if node.input(7) is not None else 0
    return make_work(node, WorkKind.MATMUL, 2 * macs + per * m * n, macs, gemm=(1, m, n, k), density_slots=(3,))
