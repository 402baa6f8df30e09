"""Elementwise ops: arithmetic, comparisons, logic, activations, casts.

FLOPs = (cost per output element) × output elements. The cost table below counts the
arithmetic of each op's defining formula in the ONNX spec, with every elementary function
(exp, log, tanh, erf, sqrt, sin, ...) counted as **one** operation, every compare/select as
one, and a division as one. Devices price elementary functions through their
elementwise efficiency (calibrated), not through extra FLOPs here. See docs/counting.md.
"""

from __future__ import annotations

from hwsim.graph.opnode import OpNode
from hwsim.ops.common import const_slots, make_work, out_numel
from hwsim.ops.registry import MS_DOMAIN, register
from hwsim.ops.work import OpWork, WorkKind

#: Operations per output element, with the formula they count.
ACTIVATION_FLOPS: dict[str, int] = {
    "Relu": 1,          # max(x, 0)
    "LeakyRelu": 2,     # x < 0 ? alpha*x : x  -> compare + mul
    "PRelu": 2,         # as LeakyRelu with a tensor slope
    "ThresholdedRelu": 1,  # x > alpha ? x : 0
    "Elu": 3,           # x < 0 ? alpha*(exp(x)-1) : x  -> exp, sub, mul (select folded)
    "Celu": 4,          # max(0,x) + min(0, alpha*(exp(x/alpha)-1)) -> div, exp, sub, mul (+max/min ~ select)
    "Selu": 4,          # gamma * (x > 0 ? x : alpha*(exp(x)-1)) -> exp, sub, mul, mul
    "Sigmoid": 4,       # 1 / (1 + exp(-x)) -> neg, exp, add, div
    "HardSigmoid": 4,   # max(0, min(1, alpha*x + beta)) -> mul, add, min, max
    "HardSwish": 5,     # x * HardSigmoid(x)
    "Tanh": 1,
    "Softplus": 3,      # log(exp(x) + 1)
    "Softsign": 3,      # x / (1 + |x|)
    "Mish": 5,          # x * tanh(softplus(x))
    "Gelu": 5,          # exact: 0.5*x*(1+erf(x/sqrt(2))) -> div, erf, add, mul, mul
    "FastGelu": 9,      # tanh approx: 0.5x(1+tanh(0.79788(x+0.044715x^3))) -> 3 mul for x^3 term, add, mul, tanh, add, 2 mul
    "BiasGelu": 6,      # bias add + exact Gelu
    "QuickGelu": 5,     # x * sigmoid(alpha*x)
    "Swish": 5,         # x * sigmoid(x)
    "Clip": 2,          # min(max(x, lo), hi)
    "Shrink": 2,        # compare + add/sub
}

_UNARY_ONE = (
    "Abs", "Neg", "Sign", "Floor", "Ceil", "Round", "Exp", "Log", "Sqrt", "Reciprocal", "Erf",
    "Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh",
    "Not", "IsNaN", "IsInf", "BitwiseNot",
)
_BINARY_ONE = (
    "Add", "Sub", "Mul", "Div", "Pow", "Mod", "Equal", "Less", "Greater", "LessOrEqual",
    "GreaterOrEqual", "And", "Or", "Xor", "BitShift", "BitwiseAnd", "BitwiseOr", "BitwiseXor",
    "Where",
)


def _per_element(node: OpNode, per_elem: float) -> OpWork:
    slots = const_slots(node)
    return make_work(node, WorkKind.ELEMENTWISE, per_elem * out_numel(node),
                     density_slots=slots)


@register(*_UNARY_ONE)
def unary(node: OpNode) -> OpWork:
    """One operation per element."""
    return _per_element(node, 1)


@register(*_BINARY_ONE)
def binary(node: OpNode) -> OpWork:
    """One operation per output element (broadcast operands are read at their own size).

    A constant non-scalar float operand (a bias or scale vector) is a parameter.
    """
    return _per_element(node, 1)


@register(*(op for op in ACTIVATION_FLOPS if op not in ("FastGelu", "BiasGelu", "QuickGelu")))
def activation(node: OpNode) -> OpWork:
    """Activation with the per-element cost from :data:`ACTIVATION_FLOPS`."""
    per = ACTIVATION_FLOPS[node.op_type]
    if node.op_type == "Gelu" and node.attrs.get("approximate", "none") == "tanh":
        per = ACTIVATION_FLOPS["FastGelu"]
    return _per_element(node, per)


@register("Gelu", "FastGelu", "BiasGelu", "QuickGelu", domain=MS_DOMAIN)
def ms_gelu(node: OpNode) -> OpWork:
    """com.microsoft Gelu family; FastGelu with a bias input adds one FLOP per element."""
    per = ACTIVATION_FLOPS[node.op_type] + (1 if node.op_type == "FastGelu" and node.input(1) is not None else 0)
    return _per_element(node, per)


@register("Sum", "Max", "Min", "Mean")
def variadic(node: OpNode) -> OpWork:
    """Variadic Sum/Max/Min/Mean: (inputs − 1) ops per output element; Mean one more (divide)."""
    per = max(len(node.present_inputs) - 1, 0) + (1 if node.op_type == "Mean" else 0)
    return _per_element(node, per)


@register("Cast", "CastLike")
def cast(node: OpNode) -> OpWork:
    """A dtype conversion: one operation per element."""
    return make_work(node, WorkKind.ELEMENTWISE, out_numel(node))
