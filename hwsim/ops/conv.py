"""Convolutions: Conv, ConvTranspose, ConvInteger, QLinearConv, com.microsoft FusedConv, DeformConv.

Conv MACs = N · C_out · prod(out spatial) · (C_in / group) · prod(kernel); a bias adds one
FLOP per output element. GEMM view by im2col: batch = group, m = N·prod(out spatial),
n = C_out/group, k = (C_in/group)·prod(kernel).

ConvTranspose MACs = N · C_in · prod(in spatial) · (C_out / group) · prod(kernel): every input
pixel is scattered through the whole kernel. GEMM view (col2im): batch = group,
m = N·prod(in spatial), n = (C_out/group)·prod(kernel), k = C_in/group.
"""

from __future__ import annotations

from hwsim.graph.opnode import OpNode
from hwsim.ops.common import in_shape, make_work, out_numel, prod
from hwsim.ops.elementwise import ACTIVATION_FLOPS
from hwsim.ops.registry import MS_DOMAIN, register
from hwsim.ops.work import OpWork, WorkKind


def conv_view(x: tuple[int, ...], w: tuple[int, ...], y: tuple[int, ...], group: int) -> tuple[int, int, int, int]:
    """im2col GEMM view (group, m, n, k) of a convolution with input x, weight w, output y."""
    return group, y[0] * prod(y[2:]), w[0] // group, w[1] * prod(w[2:])


def _conv(node: OpNode, x: int, w: int, bias: int | None, epilogue: int, slots: tuple[int, ...]) -> OpWork:
    group = int(node.attrs.get("group", 1))
    view = conv_view(in_shape(node, x), in_shape(node, w), node.outputs[0].shape, group)
    macs = prod(view)
    flops = 2 * macs + epilogue * out_numel(node)
    if bias is not None and node.input(bias) is not None:
        flops += out_numel(node)
    return make_work(node, WorkKind.CONV, flops, macs, gemm=view, density_slots=(w,))


@register("Conv")
def conv(node: OpNode) -> OpWork:
    """Conv(X, W, B)."""
    return _conv(node, 0, 1, 2, 0, (0, 1, 2) if node.inputs[0].const else (1, 2))


@register("ConvInteger")
def conv_integer(node: OpNode) -> OpWork:
    """ConvInteger(x, w, x_zero_point, w_zero_point): integer MACs, no bias."""
    return _conv(node, 0, 1, None, 0, (1, 3))


@register("QLinearConv")
def qlinear_conv(node: OpNode) -> OpWork:
    """QLinearConv(x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B): requantise 2 FLOPs/out."""
    return _conv(node, 0, 3, 8, 2, (3, 4, 5, 8))


@register("FusedConv", domain=MS_DOMAIN)
def fused_conv(node: OpNode) -> OpWork:
    """com.microsoft FusedConv(X, W, B, Z): conv + optional residual add Z + activation."""
    act = str(node.attrs.get("activation", "") or "")
    epilogue = ACTIVATION_FLOPS.get(act, 1 if act else 0) + (1 if node.input(3) is not None else 0)
    return _conv(node, 0, 1, 2, epilogue, (1, 2))


@register("DeformConv")
def deform_conv(node: OpNode) -> OpWork:
    """DeformConv(X, W, offset, B, mask): conv MACs plus bilinear sampling, 8 FLOPs per sampled tap."""
    group = int(node.attrs.get("group", 1))
    view = conv_view(in_shape(node, 0), in_shape(node, 1), node.outputs[0].shape, group)
    macs = prod(view)
    w = in_shape(node, 1)
    taps = node.outputs[0].shape[0] * prod(node.outputs[0].shape[2:]) * w[1] * group * prod(w[2:])
    flops = 2 * macs + 8 * taps + (out_numel(node) if node.input(3) is not None else 0)
    return make_work(node, WorkKind.CONV, flops, macs, gemm=view, density_slots=(1,))


@register("ConvTranspose")
def conv_transpose(node: OpNode) -> OpWork:
    """ConvTranspose(X, W, B): W is [C_in, C_out/group, *kernel]."""
    group = int(node.attrs.get("group", 1))
    x, w = in_shape(node, 0), in_shape(node, 1)
    view = (group, x[0] * prod(x[2:]), w[1] * prod(w[2:]), w[0] // group)
    macs = prod(view)
    flops = 2 * macs + (out_numel(node) if node.input(2) is not None else 0)
    return make_work(node, WorkKind.CONV, flops, macs, gemm=view, density_slots=(1,))
