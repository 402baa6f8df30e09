"""Matrix products: MatMul, Gemm, Einsum and their integer / quantized / fused variants.

MACs = batch·M·N·K; FLOPs = 2·MACs plus one FLOP per output element for each epilogue
(bias add, alpha/beta scaling, requantisation, fused activation). GEMM view (batch, m, n, k).
Any constant operand is a parameter (a weight), attributed to its first consumer.
"""

from __future__ import annotations

import re

from hwsim.errors import ShapeError
from hwsim.graph.opnode import OpNode
from hwsim.ops.common import const_slots, in_shape, make_work, out_numel, prod
from hwsim.ops.registry import MS_DOMAIN, register
from hwsim.ops.work import OpWork, WorkKind


def matmul_view(a: tuple[int, ...], b: tuple[int, ...], out: tuple[int, ...]) -> tuple[int, int, int, int]:
    """(batch, m, n, k) of numpy-style ``a @ b`` with broadcasting and 1-D promotion."""
    k = a[-1] if a else 1
    m = a[-2] if len(a) >= 2 else 1
    n = b[-1] if len(b) >= 2 else 1
    denom = m * n
    batch = prod(out) // denom if denom else 0
    return batch, m, n, k


def _matmul_work(node: OpNode, a: int, b: int, epilogue_per_out: int, slots: tuple[int, ...]) -> OpWork:
    bt, m, n, k = matmul_view(in_shape(node, a), in_shape(node, b), node.outputs[0].shape)
    macs = bt * m * n * k
    flops = 2 * macs + epilogue_per_out * out_numel(node)
    return make_work(node, WorkKind.MATMUL, flops, macs, gemm=(bt, m, n, k),
                     density_slots=slots)


@register("MatMul")
@register("FusedMatMul", domain=MS_DOMAIN)
def matmul(node: OpNode) -> OpWork:
    """A @ B (FusedMatMul: transposes and alpha are layout/scale only, alpha ≠ 1 costs one FLOP/out)."""
    if node.op_type == "FusedMatMul":
        return _fused_matmul(node)
    return _matmul_work(node, 0, 1, 0, const_slots(node))


def _fused_matmul(node: OpNode) -> OpWork:
    a, b = list(in_shape(node, 0)), list(in_shape(node, 1))
    if node.attrs.get("transA", 0) and len(a) >= 2:
        a[-2], a[-1] = a[-1], a[-2]
    if node.attrs.get("transB", 0) and len(b) >= 2:
        b[-2], b[-1] = b[-1], b[-2]
    bt, m, n, k = matmul_view(tuple(a), tuple(b), node.outputs[0].shape)
    macs = bt * m * n * k
    extra = out_numel(node) if node.attrs.get("alpha", 1.0) != 1.0 else 0
    return make_work(node, WorkKind.MATMUL, 2 * macs + extra, macs, gemm=(bt, m, n, k), density_slots=const_slots(node))


@register("Gemm")
def gemm(node: OpNode) -> OpWork:
    """alpha·op(A)·op(B) + beta·C: bias add 1 FLOP/out, alpha ≠ 1 and beta ∉ {0,1} one more each."""
    a, b = in_shape(node, 0), in_shape(node, 1)
    m, k = (a[1], a[0]) if node.attrs.get("transA", 0) else (a[0], a[1])
    n = b[0] if node.attrs.get("transB", 0) else b[1]
    macs = m * n * k
    outs = m * n
    extra = 0
    if node.input(2) is not None and node.attrs.get("beta", 1.0) != 0.0:
        extra += outs + (outs if node.attrs.get("beta", 1.0) != 1.0 else 0)
    if node.attrs.get("alpha", 1.0) != 1.0:
        extra += outs
    return make_work(node, WorkKind.MATMUL, 2 * macs + extra, macs, gemm=(1, m, n, k), density_slots=(1,))


@register("MatMulInteger")
def matmul_integer(node: OpNode) -> OpWork:
    """Integer A @ B with zero points (zero-point subtraction folded into the MACs)."""
    return _matmul_work(node, 0, 1, 0, const_slots(node))


@register("QLinearMatMul")
def qlinear_matmul(node: OpNode) -> OpWork:
    """Quantized A @ B (inputs a, a_scale, a_zp, b, ...): requantisation 2 FLOPs per output."""
    return _matmul_work(node, 0, 3, 2, const_slots(node))


@register("MatMulIntegerToFloat", "DynamicQuantizeMatMul", domain=MS_DOMAIN)
def ms_int_matmul(node: OpNode) -> OpWork:
    """com.microsoft integer matmuls producing float: dequantise 2 FLOPs per output (+ bias)."""
    return _matmul_work(node, 0, 1, 2, const_slots(node))


_EINSUM_TERM = re.compile(r"^[A-Za-z.]*$")


@register("Einsum")
def einsum(node: OpNode) -> OpWork:
    """Einsum: MACs = product of every index size per pairwise product of the operands."""
    eq = str(node.attrs["equation"]).replace(" ", "")
    lhs, _, rhs = eq.partition("->")
    terms = lhs.split(",")
    if not all(_EINSUM_TERM.match(t) for t in terms) or "." in lhs:
        raise ShapeError(f"node {node.name!r}: Einsum equation {eq!r} with ellipsis is not supported")
    sizes: dict[str, int] = {}
    for term, t in zip(terms, node.present_inputs):
        sizes.update(zip(term, t.shape))
    total = prod(sizes.values())
    slots = const_slots(node)
    if len(terms) == 1:
        return make_work(node, WorkKind.REDUCE, total, 0)
    macs = total * (len(terms) - 1)
    out_idx = set(rhs) if "->" in eq else {c for c in lhs if lhs.count(c) == 1}
    a, b = set(terms[0]), set(terms[1])
    view = tuple(prod(sizes[c] for c in group) for group in (
        a & b & out_idx, (a - b) & out_idx, (b - a) & out_idx, (a & b) - out_idx))
    return make_work(node, WorkKind.MATMUL, 2 * macs, macs, gemm=view,
                     density_slots=slots)
