"""Data movement: layout changes, copies, gathers/scatters, padding, resampling, index generation.

No arithmetic unless stated (0 FLOPs); bytes are what the op really moves: every input read
once and every output written once, except gathers and slices, which read only the elements
they copy (plus their index tensors). A constant float data operand (an embedding table read
by Gather, a learned token fed to Expand or Concat) is a parameter owned by its first consumer;
shape, index and scale vectors never are. Resampling ops count one multiply-accumulate
(2 FLOPs) per interpolation tap: 2^d taps for linear, 4^d for cubic, none for nearest, where d
is the number of axes actually resized (Resize) or the grid dimension (GridSample).
"""

from __future__ import annotations

import math

from hwsim.graph.opnode import OpNode
from hwsim.ops.common import in_shape, make_work, out_bytes, out_numel, prod
from hwsim.ops.registry import register
from hwsim.ops.work import OpWork, WorkKind

_COPY_OPS = (
    "Transpose", "Split", "Pad", "Tile", "Expand", "DepthToSpace", "SpaceToDepth", "Compress",
    "Trilu", "ReverseSequence", "CenterCropPad",
)

#: Interpolation taps per resized axis, by mode name (Resize, Upsample and GridSample spellings).
TAPS_PER_AXIS: dict[str, int] = {
    "nearest": 0, "linear": 2, "bilinear": 2, "cubic": 4, "bicubic": 4,
}


def _taps(mode: str, axes: int) -> int:
    """Interpolation taps per output element: (taps per axis)^axes, 0 for nearest or no axis."""
    per_axis = TAPS_PER_AXIS[mode]
    return per_axis ** axes if per_axis and axes else 0


@register(*_COPY_OPS)
def copy(node: OpNode) -> OpWork:
    """Reads every input, writes every output; a constant data input is a parameter."""
    return make_work(node, WorkKind.DATA_MOVEMENT)


@register("Concat")
def concat(node: OpNode) -> OpWork:
    """Reads every input, writes the output; any constant float operand is a parameter."""
    return make_work(node, WorkKind.DATA_MOVEMENT)


def _index_bytes(node: OpNode, slots: range | tuple[int, ...]) -> float:
    return float(sum(t.nbytes for i in slots if (t := node.input(i)) is not None))


@register("Slice")
def slice_(node: OpNode) -> OpWork:
    """Reads the selected elements (output bytes) and the starts/ends/axes/steps vectors."""
    return make_work(node, WorkKind.DATA_MOVEMENT,
                     bytes_read=out_bytes(node) + _index_bytes(node, range(1, 5)))


@register("Gather", "GatherElements", "GatherND")
def gather(node: OpNode) -> OpWork:
    """bytes_read = indices bytes + gathered elements (output bytes), never the whole table;
    a constant table (an embedding) is a parameter, counted whole."""
    return make_work(node, WorkKind.DATA_MOVEMENT,
                     bytes_read=out_bytes(node) + _index_bytes(node, (1,)))


@register("Scatter", "ScatterElements", "ScatterND")
def scatter(node: OpNode) -> OpWork:
    """Reads data, indices and updates, writes the output; a ``reduction`` other than none
    (add, mul, max, min) costs 1 FLOP per update element."""
    reduction = str(node.attrs.get("reduction", "none"))
    flops = 0 if reduction == "none" else prod(in_shape(node, 2))
    return make_work(node, WorkKind.DATA_MOVEMENT, flops)


@register("Resize", "Upsample")
def resize(node: OpNode) -> OpWork:
    """Per output element 2 FLOPs per tap: nearest 0, linear 2^d taps (bilinear 8 FLOPs),
    cubic 4^d (bicubic 32 FLOPs), d = axes whose size changes. Antialiased downsampling
    (wider filters) is counted as plain interpolation."""
    x, y = in_shape(node, 0), node.outputs[0].shape
    axes = sum(1 for a, b in zip(x, y, strict=True) if a != b)
    taps = _taps(str(node.attrs.get("mode", "nearest")), axes)
    return make_work(node, WorkKind.DATA_MOVEMENT, 2 * taps * out_numel(node), control_slots=(1, 2, 3))


@register("GridSample")
def grid_sample(node: OpNode) -> OpWork:
    """Per output element 2 FLOPs per tap (bilinear 2^d taps, bicubic 4^d, nearest 0), d = grid's
    last dim; + 2 FLOPs (mul, add) per grid coordinate to unnormalise it."""
    d = in_shape(node, 1)[-1]
    taps = _taps(str(node.attrs.get("mode", "linear")), d)
    flops = 2 * taps * out_numel(node) + 2 * prod(in_shape(node, 1))
    return make_work(node, WorkKind.DATA_MOVEMENT, flops)


@register("Col2Im")
def col2im(node: OpNode) -> OpWork:
    """Sums overlapping blocks into the image: 1 add per input element."""
    return make_work(node, WorkKind.DATA_MOVEMENT, prod(in_shape(node, 0)))


@register("OneHot")
def one_hot(node: OpNode) -> OpWork:
    """Reads indices, depth and values; writes the output (off value, on value at the index)."""
    return make_work(node, WorkKind.DATA_MOVEMENT, control_slots=(1, 2))


@register("Range")
def range_(node: OpNode) -> OpWork:
    """start + i·delta as a running add: 1 FLOP per output element."""
    return make_work(node, WorkKind.DATA_MOVEMENT, out_numel(node))


@register("NonZero")
def nonzero(node: OpNode) -> OpWork:
    """One compare per input element; writes the (upper-bound) index output."""
    return make_work(node, WorkKind.DATA_MOVEMENT, prod(in_shape(node, 0)))


@register("Unique")
def unique(node: OpNode) -> OpWork:
    """Sort-based: n·⌈log2 n⌉ compares over the n elements (or slices along ``axis``) of input
    0; outputs are the loader's upper bound (all unique)."""
    x = in_shape(node, 0)
    axis = node.attrs.get("axis")
    n = prod(x) if axis is None else x[int(axis) % len(x)]
    per = math.ceil(math.log2(n)) if n > 1 else 0
    return make_work(node, WorkKind.DATA_MOVEMENT, n * per * (prod(x) // n if n else 0))
