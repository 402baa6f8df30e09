"""Output-shape rules for ops ONNX shape inference cannot handle.

Two cases: ops without an ONNX schema (``com.microsoft`` contrib ops), and ops whose output
shape depends on data (NonZero, NonMaxSuppression, Compress, Unique): for those hwsim uses the
documented **upper bound** (every element selected) and says so in the result's notes.
A rule returns ``(shapes, note)``: one static shape per output (None for an output it cannot
give) and a note (empty string when exact); or ``(shapes, note, dtypes)`` when an output's
element type is not input 0's (None in ``dtypes`` keeps the default).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx

MS = "com.microsoft"


@dataclass(frozen=True)
class ShapeCtx:
    """What a shape rule may look at: the node, its input shapes/dtypes/values, its attributes."""

    node: onnx.NodeProto
    shapes: list[tuple[int, ...] | None]
    dtypes: list[str]
    values: list[np.ndarray | None]
    attrs: dict[str, Any]

    def shape(self, i: int) -> tuple[int, ...] | None:
        """Shape of input ``i`` (None when absent)."""
        return self.shapes[i] if i < len(self.shapes) else None


RuleResult = tuple  # (shapes, note) or (shapes, note, dtypes)
ShapeRule = Callable[[ShapeCtx], RuleResult]
_RULES: dict[tuple[str, str], ShapeRule] = {}


def shape_rule(*op_types: str, domain: str = "") -> Callable[[ShapeRule], ShapeRule]:
    """Decorator: register a shape rule for ``op_types`` in ``domain``."""

    def deco(fn: ShapeRule) -> ShapeRule:
        for op in op_types:
            _RULES[(domain, op)] = fn
        return fn

    return deco


def find_rule(op_type: str, domain: str) -> ShapeRule | None:
    """The rule for an op, if any."""
    return _RULES.get(("" if domain == "ai.onnx" else domain, op_type))


def broadcast(*shapes: tuple[int, ...]) -> tuple[int, ...]:
    """Numpy broadcast of static shapes."""
    return tuple(np.broadcast_shapes(*shapes))


def matmul_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """Output shape of numpy matmul ``a @ b``."""
    a2 = (1,) + a if len(a) == 1 else a
    b2 = b + (1,) if len(b) == 1 else b
    out = broadcast(a2[:-2], b2[:-2]) + (a2[-2], b2[-1])
    if len(a) == 1:
        out = out[:-2] + out[-1:]
    if len(b) == 1:
        out = out[:-1]
    return out


def conv_out_shape(x: tuple[int, ...], w: tuple[int, ...], attrs: dict[str, Any]) -> tuple[int, ...]:
    """Output shape of a convolution (ONNX Conv semantics incl. auto_pad)."""
    nsp = len(x) - 2
    strides = attrs.get("strides") or (1,) * nsp
    dil = attrs.get("dilations") or (1,) * nsp
    kernel = attrs.get("kernel_shape") or w[2:]
    pads = attrs.get("pads") or (0,) * (2 * nsp)
    auto = attrs.get("auto_pad", "NOTSET")
    out = []
    for i in range(nsp):
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            out.append(math.ceil(x[2 + i] / strides[i]))
        else:
            span = dil[i] * (kernel[i] - 1) + 1
            p = 0 if auto == "VALID" else pads[i] + pads[i + nsp]
            out.append((x[2 + i] + p - span) // strides[i] + 1)
    return (x[0], w[0], *out)


@shape_rule("Gelu", "FastGelu", "BiasGelu", "QuickGelu", "BiasAdd", "BiasSoftmax", domain=MS)
def same_as_first(ctx: ShapeCtx) -> RuleResult:
    """Output 0 has input 0's shape."""
    return [ctx.shape(0)], ""


@shape_rule("FusedMatMul", "MatMulIntegerToFloat", "DynamicQuantizeMatMul", domain=MS)
def ms_matmul(ctx: ShapeCtx) -> RuleResult:
    """Matmul broadcast (FusedMatMul transposes applied)."""
    a, b = list(ctx.shape(0)), list(ctx.shape(1))
    if ctx.attrs.get("transA", 0) and len(a) >= 2:
        a[-2], a[-1] = a[-1], a[-2]
    if ctx.attrs.get("transB", 0) and len(b) >= 2:
        b[-2], b[-1] = b[-1], b[-2]
    return [matmul_shape(tuple(a), tuple(b))], ""


@shape_rule("FusedConv", domain=MS)
def ms_fused_conv(ctx: ShapeCtx) -> RuleResult:
    """Conv output shape."""
    return [conv_out_shape(ctx.shape(0), ctx.shape(1), ctx.attrs)], ""


@shape_rule("NonZero")
def nonzero(ctx: ShapeCtx) -> RuleResult:
    """[rank, count]: count is exact when the input value is known, else the upper bound numel."""
    x = ctx.shape(0)
    if ctx.values[0] is not None:
        return [(len(x), int(np.count_nonzero(ctx.values[0])))], ""
    return [(len(x), math.prod(x))], f"NonZero {ctx.node.name!r}: output size is data-dependent; upper bound (all {math.prod(x)} elements non-zero) used"


@shape_rule("NonMaxSuppression")
def nms(ctx: ShapeCtx) -> RuleResult:
    """[selected, 3] bounded by batch·classes·min(boxes, max_output_boxes_per_class)."""
    boxes, scores = ctx.shape(0), ctx.shape(1)
    batch, classes, nboxes = scores[0], scores[1], boxes[1]
    per_class = nboxes
    if len(ctx.values) > 2 and ctx.values[2] is not None and ctx.values[2].size:
        per_class = min(nboxes, int(ctx.values[2].reshape(-1)[0]))
    sel = batch * classes * per_class
    return [(sel, 3)], f"NonMaxSuppression {ctx.node.name!r}: selected-box count is data-dependent; upper bound {sel} used"


@shape_rule("Compress")
def compress(ctx: ShapeCtx) -> RuleResult:
    """Upper bound: every element along the axis kept (exact when the condition is known)."""
    x = ctx.shape(0)
    axis = ctx.attrs.get("axis")
    cond = ctx.values[1] if len(ctx.values) > 1 else None
    if axis is None:
        n = int(np.count_nonzero(cond)) if cond is not None else math.prod(x)
        return [(n,)], "" if cond is not None else f"Compress {ctx.node.name!r}: upper bound used"
    axis = axis % len(x)
    n = int(np.count_nonzero(cond[: x[axis]])) if cond is not None else x[axis]
    return [x[:axis] + (n,) + x[axis + 1:]], "" if cond is not None else f"Compress {ctx.node.name!r}: upper bound used"


@shape_rule("Unique")
def unique(ctx: ShapeCtx) -> RuleResult:
    """Upper bound: all elements unique."""
    x = ctx.shape(0)
    axis = ctx.attrs.get("axis")
    n = math.prod(x) if axis is None else x[axis % len(x)]
    y = (n,) if axis is None else x[: axis % len(x)] + (n,) + x[axis % len(x) + 1:]
    return [y, (n,), (math.prod(x) if axis is None else x[axis % len(x)],), (n,)], f"Unique {ctx.node.name!r}: upper bound (all unique) used"


@shape_rule("GroupNormalization", "MeanVarianceNormalization")
def shape_preserving(ctx: ShapeCtx) -> RuleResult:
    """The two default-domain ops whose schemas carry no shape inference (onnx 1.23): both
    normalise in place, so the output has the input's shape."""
    return [ctx.shape(0)], ""


@shape_rule("Dropout")
def dropout(ctx: ShapeCtx) -> RuleResult:
    """Output and mask both have the input's shape (opset ≤ 10 schemas do not infer the mask)."""
    return [ctx.shape(0), ctx.shape(0)], ""


from hwsim.graph import shape_rules_extra  # noqa: E402,F401  (registers more rules)
