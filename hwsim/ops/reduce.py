"""Reductions, arg-reductions, softmax family, scans, TopK and losses.

FLOPs = (cost per input element) × input elements + (cost per output element) × output
elements, with elementary functions (exp, log, sqrt) counted as one operation, as in
:mod:`hwsim.ops.elementwise`. The tables below give each op's costs and the formula they
count. Softmax is counted in its numerically stable form, 5 per element: running max
(compare), x − max, exp, running sum, divide.
"""

from __future__ import annotations

import math

from hwsim.graph.opnode import OpNode
from hwsim.ops.common import in_shape, make_work, out_numel, prod
from hwsim.ops.registry import MS_DOMAIN, register
from hwsim.ops.work import OpWork, WorkKind

#: (per input element, per output element) operations of each reduction.
REDUCE_FLOPS: dict[str, tuple[int, int]] = {
    "ReduceSum": (1, 0),        # add
    "ReduceMean": (1, 1),       # add; divide by n
    "ReduceMax": (1, 0),        # compare
    "ReduceMin": (1, 0),        # compare
    "ReduceProd": (1, 0),       # mul
    "ReduceL1": (2, 0),         # abs, add
    "ReduceL2": (2, 1),         # mul, add; sqrt
    "ReduceSumSquare": (2, 0),  # mul, add
    "ReduceLogSum": (1, 1),     # add; log
    "ReduceLogSumExp": (4, 2),  # stable: max compare, x − max, exp, add; log, + max
    "ArgMax": (1, 0),           # compare
    "ArgMin": (1, 0),           # compare
}

#: Softmax-family (per element, per row) operations.
SOFTMAX_FLOPS: dict[str, tuple[int, int]] = {
    "Softmax": (5, 0),     # max compare, x − max, exp, sum add, divide
    "LogSoftmax": (5, 1),  # max compare, x − max, exp, sum add, (x − max) − log(sum); log per row
    "Hardmax": (1, 0),     # argmax compare (writing the one-hot is data movement)
}


@register(*REDUCE_FLOPS)
def reduce(node: OpNode) -> OpWork:
    """Reduction of input 0 to output 0: per-input and per-output costs from :data:`REDUCE_FLOPS`."""
    per_in, per_out = REDUCE_FLOPS[node.op_type]
    flops = per_in * prod(in_shape(node, 0)) + per_out * out_numel(node)
    return make_work(node, WorkKind.REDUCE, flops)


def _softmax_rows(node: OpNode) -> int:
    """Number of softmax rows: opset ≥ 13 normalises along ``axis``; earlier opsets coerce
    the input to 2-D at ``axis`` (default 1) and normalise each row of that matrix."""
    x = in_shape(node, 0)
    if not x:
        return 1
    axis = int(node.attrs.get("axis", -1 if node.opset >= 13 else 1)) % len(x)
    row = x[axis] if node.opset >= 13 else prod(x[axis:])
    return prod(x) // row if row else 0


@register(*SOFTMAX_FLOPS)
def softmax(node: OpNode) -> OpWork:
    """Softmax family: per-element and per-row costs from :data:`SOFTMAX_FLOPS`."""
    per_elem, per_row = SOFTMAX_FLOPS[node.op_type]
    flops = per_elem * prod(in_shape(node, 0)) + per_row * _softmax_rows(node)
    return make_work(node, WorkKind.REDUCE, flops)


@register("BiasSoftmax", domain=MS_DOMAIN)
def bias_softmax(node: OpNode) -> OpWork:
    """com.microsoft BiasSoftmax(data, bias): bias add + Softmax = 6 per element."""
    return make_work(node, WorkKind.REDUCE, 6 * out_numel(node))


@register("CumSum", "CumProd")
def cumulative(node: OpNode) -> OpWork:
    """Running sum (product) along an axis: one add (mul) per element."""
    return make_work(node, WorkKind.REDUCE, prod(in_shape(node, 0)))


@register("TopK")
def topk(node: OpNode) -> OpWork:
    """Heap selection of the k largest/smallest of each row of n: n·max(1, ⌈log2 k⌉) compares
    per row (k = 1 is a single max scan, n compares); the heap yields sorted output."""
    x, y = in_shape(node, 0), node.outputs[0].shape
    axis = int(node.attrs.get("axis", -1)) % len(x)
    k = y[axis]
    per_elem = max(1, math.ceil(math.log2(k))) if k > 1 else 1
    return make_work(node, WorkKind.REDUCE, per_elem * prod(x))


@register("SoftmaxCrossEntropyLoss")
def softmax_ce_loss(node: OpNode) -> OpWork:
    """LogSoftmax over classes (5 per score + 1 log per row), then per row: pick the label's
    log-probability and negate (1), weight it (1, when weights are given), reduce (1);
    ``mean`` adds one divide."""
    x = in_shape(node, 0)
    numel = prod(x)
    rows = numel // x[1] if len(x) > 1 and x[1] else numel
    weighted = 1 if node.input(2) is not None else 0
    reduction = str(node.attrs.get("reduction", "mean"))
    flops = 5 * numel + rows * (3 + weighted) + (1 if reduction == "mean" else 0)
    return make_work(node, WorkKind.REDUCE, flops, control_slots=(2,))


@register("NegativeLogLikelihoodLoss")
def nll_loss(node: OpNode) -> OpWork:
    """Per target element: gather input[target] and negate (1), weight (1, when given), reduce
    (1 unless ``reduction`` = none); ``mean`` adds one divide. Reads the targets, one input
    element per target and the weights."""
    x, target = node.input(0), node.input(1)
    rows = target.numel
    weighted = 1 if node.input(2) is not None else 0
    reduction = str(node.attrs.get("reduction", "mean"))
    flops = rows * (1 + weighted + (0 if reduction == "none" else 1)) + (1 if reduction == "mean" else 0)
    read = target.nbytes + rows * (x.nbytes / x.numel if x.numel else 0)
    read += node.input(2).nbytes if weighted else 0
    return make_work(node, WorkKind.REDUCE, flops, bytes_read=read, control_slots=(2,))
