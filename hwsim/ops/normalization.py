"""Normalisation ops: BatchNorm, Instance/Layer/Group/RMS/Lp norms, MVN, LRN and contrib norms.

Per-element costs, with every elementary function (sqrt, pow, reciprocal) counted as one
operation as in :mod:`hwsim.ops.elementwise`:

* **standardise** (mean/variance over a group, then normalise): :data:`STATS_FLOPS` = 5 per
  element (sum for the mean 1, x−μ 1, (x−μ)² accumulated 2, ×rstd 1) plus
  :data:`GROUP_FLOPS` = 5 per normalised group (μ = s/n 1, σ² = q/n 1, +ε 1, sqrt 1,
  reciprocal 1).
* **RMS** (no mean): :data:`RMS_FLOPS` = 3 per element (x² accumulated 2, ×rrms 1) plus
  :data:`RMS_GROUP_FLOPS` = 4 per group (divide by n, +ε, sqrt, reciprocal).
* **affine**: 1 per element for a scale, 1 more for a bias.

So LayerNormalization with scale and bias costs 7 FLOPs per element + 5 per row.
Inference BatchNormalization with constant statistics is folded by runtimes into one
per-channel multiplier and offset: 2 FLOPs per element (mul, add). Scale and bias are
parameters; running mean and variance are buffers (weight bytes, not parameters).
"""

from __future__ import annotations

from hwsim.graph.opnode import OpNode
from hwsim.ops.common import in_shape, make_work, prod
from hwsim.ops.elementwise import ACTIVATION_FLOPS
from hwsim.ops.registry import MS_DOMAIN, register
from hwsim.ops.work import OpWork, WorkKind

STATS_FLOPS = 5
GROUP_FLOPS = 5
RMS_FLOPS = 3
RMS_GROUP_FLOPS = 4
#: Per channel, when BatchNorm's statistics are not constants: a = scale/sqrt(var+ε)
#: (add, sqrt, divide) and b = bias − mean·a (mul, sub).
BN_FOLD_FLOPS = 5
#: Per channel, training-mode BatchNorm running-statistics update r·m + s·(1−m), twice.
BN_RUNNING_FLOPS = 6


def standardise_flops(numel: int, groups: int, affine: int) -> int:
    """FLOPs of mean/variance normalisation of ``numel`` elements in ``groups`` groups."""
    return numel * (STATS_FLOPS + affine) + groups * GROUP_FLOPS


def rms_flops(numel: int, groups: int, affine: int) -> int:
    """FLOPs of RMS normalisation of ``numel`` elements in ``groups`` groups."""
    return numel * (RMS_FLOPS + affine) + groups * RMS_GROUP_FLOPS


def _present(node: OpNode, *slots: int) -> int:
    return sum(1 for i in slots if node.input(i) is not None)


def _rows(node: OpNode, axis: int) -> tuple[int, int]:
    """(elements, groups) of input 0 normalised over the dims from ``axis`` on."""
    x = in_shape(node, 0)
    axis = axis % len(x) if x else 0
    return prod(x), prod(x[:axis])


@register("BatchNormalization")
def batch_norm(node: OpNode) -> OpWork:
    """Inference: 2·numel (folded per-channel mul+add), + 5·C when the statistics or affine
    inputs are not constants. Training mode (batch statistics): standardise (7·numel + 5·C)
    + 6·C for the running-statistics update."""
    x = in_shape(node, 0)
    numel, channels = prod(x), (x[1] if len(x) > 1 else 1)
    if node.attrs.get("training_mode", 0):
        flops = standardise_flops(numel, channels, 2) + BN_RUNNING_FLOPS * channels
    else:
        consts = all((t := node.input(i)) is not None and t.const for i in (1, 2, 3, 4))
        flops = 2 * numel + (0 if consts else BN_FOLD_FLOPS * channels)
    return make_work(node, WorkKind.NORM, flops, buffer_slots=(3, 4))


@register("InstanceNormalization")
def instance_norm(node: OpNode) -> OpWork:
    """Standardise each (n, c) over its spatial dims, affine scale+bias: 7·numel + 5·N·C."""
    numel, groups = _rows(node, 2)
    return make_work(node, WorkKind.NORM, standardise_flops(numel, groups, 2))


@register("LayerNormalization")
@register("LayerNormalization", domain=MS_DOMAIN)
def layer_norm(node: OpNode) -> OpWork:
    """Standardise over dims ``axis``.. : (5 + 1 scale + 1 bias if given)·numel + 5·rows."""
    numel, groups = _rows(node, int(node.attrs.get("axis", -1)))
    return make_work(node, WorkKind.NORM, standardise_flops(numel, groups, 1 + _present(node, 2)))


@register("GroupNormalization")
def group_norm(node: OpNode) -> OpWork:
    """Standardise N·num_groups groups, affine scale+bias: 7·numel + 5·N·num_groups."""
    x = in_shape(node, 0)
    groups = x[0] * int(node.attrs["num_groups"])
    return make_work(node, WorkKind.NORM, standardise_flops(prod(x), groups, 2))


@register("RMSNormalization", "SimplifiedLayerNormalization")
@register("SimplifiedLayerNormalization", domain=MS_DOMAIN)
def rms_norm(node: OpNode) -> OpWork:
    """RMS-normalise over dims ``axis``.. with a scale: 4·numel + 4·rows."""
    numel, groups = _rows(node, int(node.attrs.get("axis", -1)))
    return make_work(node, WorkKind.NORM, rms_flops(numel, groups, 1))


@register("LpNormalization")
def lp_norm(node: OpNode) -> OpWork:
    """x / ||x||_p along ``axis``: 3 per element (p=2: mul, add, divide; p=1: abs, add,
    divide) + 1 sqrt per row for p=2."""
    x = in_shape(node, 0)
    numel = prod(x)
    rows = numel // x[int(node.attrs.get("axis", -1)) % len(x)] if numel else 0
    per_row = 1 if int(node.attrs.get("p", 2)) == 2 else 0
    return make_work(node, WorkKind.NORM, 3 * numel + per_row * rows)


@register("MeanVarianceNormalization")
def mvn(node: OpNode) -> OpWork:
    """(x − E[x]) / sqrt(E[(x − E[x])²]) over ``axes``: 5·numel + 5 per group, no affine."""
    x = in_shape(node, 0)
    axes = {int(a) % len(x) for a in node.attrs.get("axes", (0, 2, 3))}
    numel = prod(x)
    groups = numel // prod(x[a] for a in axes) if numel else 0
    return make_work(node, WorkKind.NORM, standardise_flops(numel, groups, 0))


@register("LRN")
def lrn(node: OpNode) -> OpWork:
    """x / (bias + alpha/size · Σ_window x²)^beta: ``size`` MACs per element (the window sum of
    squares) + 4 (scale, add, pow, divide): FLOPs = numel·(2·size + 4), MACs = numel·size."""
    numel = prod(in_shape(node, 0))
    size = int(node.attrs["size"])
    return make_work(node, WorkKind.NORM, numel * (2 * size + 4), numel * size)


@register("SkipLayerNormalization", domain=MS_DOMAIN)
def skip_layer_norm(node: OpNode) -> OpWork:
    """(input, skip, gamma, beta?, bias?): skip add 1 + bias add 1 per element, then
    LayerNorm over the last dim: (5 + 1 + beta?)·numel + 5·rows."""
    numel, rows = _rows(node, -1)
    flops = numel * (1 + _present(node, 4)) + standardise_flops(numel, rows, 1 + _present(node, 3))
    return make_work(node, WorkKind.NORM, flops)


@register("SkipSimplifiedLayerNormalization", domain=MS_DOMAIN)
def skip_rms_norm(node: OpNode) -> OpWork:
    """(input, skip, gamma, bias?): skip add 1 + bias 1 per element, then RMSNorm: 4·numel + 4·rows."""
    numel, rows = _rows(node, -1)
    flops = numel * (1 + _present(node, 3)) + rms_flops(numel, rows, 1)
    return make_work(node, WorkKind.NORM, flops)


@register("EmbedLayerNormalization", domain=MS_DOMAIN)
def embed_layer_norm(node: OpNode) -> OpWork:
    """(ids, segment_ids?, word_emb, pos_emb, seg_emb?, gamma, beta, mask?, position_ids?):
    one gather of B·S rows per table, (tables − 1) adds per element, LayerNorm with scale and
    bias (7·numel + 5·rows), + 1 add per mask element (mask_index). Reads the index tensors, the
    gathered rows and gamma/beta; the whole tables are parameters."""
    out = node.outputs[0]
    numel, rows = out.numel, out.numel // out.shape[-1]
    tables = _present(node, 2, 3, 4)
    flops = numel * (tables - 1) + standardise_flops(numel, rows, 2) + prod(in_shape(node, 7)) * _present(node, 7)
    small = sum(t.nbytes for i in (0, 1, 5, 6, 7, 8) if (t := node.input(i)) is not None)
    return make_work(node, WorkKind.NORM, flops,
                     bytes_read=small + tables * out.nbytes)


@register("GroupNorm", "SkipGroupNorm", domain=MS_DOMAIN)
def ms_group_norm(node: OpNode) -> OpWork:
    """NHWC GroupNorm(X, gamma, beta[, skip, bias]): (SkipGroupNorm: skip add 1 + bias 1 per
    element) + standardise N·groups groups with affine (7·numel + 5·N·groups) + SiLU (5 per
    element) when ``activation`` = 1."""
    x = in_shape(node, 0)
    numel = prod(x)
    flops = standardise_flops(numel, x[0] * int(node.attrs["groups"]), 2)
    flops += numel * _present(node, 3, 4)
    flops += numel * ACTIVATION_FLOPS["Swish"] * int(node.attrs.get("activation", 0))
    return make_work(node, WorkKind.NORM, flops)
