"""Pooling: windowed (Max/Average/Lp), global, ROI pooling/alignment and MaxUnpool.

A window of ``prod(kernel_shape)`` taps costs one operation per tap (a compare for max, an add
for average) for every output element; AveragePool adds one divide per output element, LpPool
costs 2 per tap (|x|^p, add) + 1 root per output. Padded taps are counted (every window is
full size): an upper bound by at most the border fraction. Strides, dilations and padding
enter through the output shape the loader computed. MaxPool's optional Indices output is
written bytes like any output.
"""

from __future__ import annotations

import math

from hwsim.graph.opnode import OpNode
from hwsim.ops.common import in_shape, make_work, out_numel, prod
from hwsim.ops.registry import MS_DOMAIN, register
from hwsim.ops.work import OpWork, WorkKind

#: (per tap, per output element) operations of each windowed or global pool.
POOL_FLOPS: dict[str, tuple[int, int]] = {
    "MaxPool": (1, 0),              # compare
    "AveragePool": (1, 1),          # add; divide
    "LpPool": (2, 1),               # |x|^p, add; p-th root
    "GlobalMaxPool": (1, 0),
    "GlobalAveragePool": (1, 1),
    "GlobalLpPool": (2, 1),
}
#: FLOPs per bilinear sample point: 4 taps, each a multiply-accumulate (as DeformConv).
BILINEAR_SAMPLE_FLOPS = 8


@register("MaxPool", "AveragePool", "LpPool")
@register("NhwcMaxPool", domain=MS_DOMAIN)
def window_pool(node: OpNode) -> OpWork:
    """FLOPs = output elements × (window · per-tap + per-output) from :data:`POOL_FLOPS`."""
    per_tap, per_out = POOL_FLOPS["MaxPool" if node.op_type == "NhwcMaxPool" else node.op_type]
    window = prod(int(k) for k in node.attrs["kernel_shape"])
    return make_work(node, WorkKind.POOL, out_numel(node) * (window * per_tap + per_out))


@register("GlobalMaxPool", "GlobalAveragePool", "GlobalLpPool")
def global_pool(node: OpNode) -> OpWork:
    """The window is the whole spatial extent: per-tap cost × input elements + per-output cost."""
    per_tap, per_out = POOL_FLOPS[node.op_type]
    return make_work(node, WorkKind.POOL, per_tap * prod(in_shape(node, 0)) + per_out * out_numel(node))


@register("MaxRoiPool")
def max_roi_pool(node: OpNode) -> OpWork:
    """ROI sizes are data: upper bound, every ROI spans the whole H×W map, so each (ROI,
    channel) costs H·W compares; + 4 FLOPs per ROI to scale its coordinates."""
    x = in_shape(node, 0)
    rois = in_shape(node, 1)[0]
    flops = rois * x[1] * prod(x[2:]) + 4 * rois
    return make_work(node, WorkKind.POOL, flops,
                     notes=(f"MaxRoiPool {node.name!r}: window sizes are data-dependent; upper bound (ROI = whole map) used",))


@register("RoiAlign")
def roi_align(node: OpNode) -> OpWork:
    """Per output element s_h·s_w bilinear samples (8 FLOPs each) + 1 pooling op per sample
    (add or compare); ``avg`` adds one divide per output. ``sampling_ratio`` = 0 (adaptive,
    data-dependent) uses the upper bound ⌈H/out_h⌉·⌈W/out_w⌉ (an ROI spanning the map)."""
    x = in_shape(node, 0)
    oh, ow = int(node.attrs["output_height"]), int(node.attrs["output_width"])
    ratio = int(node.attrs.get("sampling_ratio", 0))
    samples = ratio * ratio if ratio > 0 else math.ceil(x[2] / oh) * math.ceil(x[3] / ow)
    per_out = samples * (BILINEAR_SAMPLE_FLOPS + 1) + (1 if node.attrs.get("mode", "avg") == "avg" else 0)
    notes = () if ratio > 0 else (f"RoiAlign {node.name!r}: adaptive sampling; upper bound {samples} samples per bin used",)
    return make_work(node, WorkKind.POOL, out_numel(node) * per_out, notes=notes)


@register("MaxUnpool")
def max_unpool(node: OpNode) -> OpWork:
    """Scatter X to the positions in I, zeros elsewhere: no arithmetic; reads X and I, writes Y."""
    return make_work(node, WorkKind.POOL)
