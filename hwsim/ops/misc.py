"""Random generators, NonMaxSuppression, signal processing, Det, AffineGrid, training ops.

Elementary functions (exp, log, sqrt, cos, tanh) count one operation each, as in
:mod:`hwsim.ops.elementwise`. Per-op formulas are in each docstring.
"""

from __future__ import annotations

import math

from hwsim.graph.opnode import OpNode
from hwsim.ops.common import in_shape, make_work, out_numel, prod
from hwsim.ops.registry import register
from hwsim.ops.work import OpWork, WorkKind

TRAINING = "ai.onnx.preview.training"

#: Operations per generated element: a counter-based PRNG draw counts 1.
RANDOM_FLOPS = {
    "RandomUniform": 3,      # draw u, u·(high − low), + low
    "RandomUniformLike": 3,
    "RandomNormal": 6,       # Box–Muller per pair (2 draws, log, ·−2, sqrt, cos/sin, 2 mul) = 8 → 4 each, + ·scale + mean
    "RandomNormalLike": 6,
    "Bernoulli": 2,          # draw u, compare with p
}


@register(*RANDOM_FLOPS)
def random(node: OpNode) -> OpWork:
    """Generated elements × :data:`RANDOM_FLOPS` (the *Like inputs are read for their shape only)."""
    read = node.inputs[0].nbytes if node.op_type == "Bernoulli" else 0.0
    return make_work(node, WorkKind.ELEMENTWISE, RANDOM_FLOPS[node.op_type] * out_numel(node), bytes_read=read)


@register("Multinomial")
def multinomial(node: OpNode) -> OpWork:
    """Per batch row of C log-probabilities: softmax 5·C + cumulative sum C; per sample one draw and a
    binary search of ⌈log2 C⌉ compares. FLOPs = B·6C + B·S·(1 + ⌈log2 C⌉)."""
    b, c = in_shape(node, 0)
    samples = out_numel(node)
    return make_work(node, WorkKind.ELEMENTWISE, 6 * b * c + samples * (1 + math.ceil(math.log2(max(c, 2)))))


#: Operations of one IoU between two boxes: 4 min/max for the intersection corners, 2 sub and
#: 2 max(·,0) for its sides, 1 mul for its area, union = area_a + area_b − inter (2), 1 div, 1 compare.
IOU_FLOPS = 13


@register("NonMaxSuppression")
def nms(node: OpNode) -> OpWork:
    """Worst case per (batch, class) with n boxes: score threshold n, sort n·⌈log2 n⌉, box areas 3n,
    and an IoU (:data:`IOU_FLOPS`) for every pair n(n−1)/2 (no box suppressed early).

    The real count depends on the data (suppressed boxes skip their IoUs); this is the upper bound.
    """
    batch, classes, n = in_shape(node, 1)
    per = n + n * math.ceil(math.log2(max(n, 2))) + 3 * n + IOU_FLOPS * n * (n - 1) // 2
    note = f"NonMaxSuppression {node.name!r}: worst-case IoU count (every box pair compared)"
    return make_work(node, WorkKind.ELEMENTWISE, batch * classes * per, notes=(note,))


def fft_flops(n: int, real: bool) -> float:
    """5·n·log2 n for a complex radix-2 FFT of length n (Cooley–Tukey count); half for real input."""
    if n <= 1:
        return 0.0
    return (2.5 if real else 5.0) * n * math.log2(n)


@register("DFT")
def dft(node: OpNode) -> OpWork:
    """Transforms × FFT cost of the DFT length along ``axis`` (input length when ``dft_length`` is absent).

    transforms = input elements (complex pairs as one) / input length along the axis.
    """
    x = in_shape(node, 0)
    axis = int(node.attrs.get("axis", 1))
    if node.opset >= 20:
        axis = int(node.values[2].reshape(-1)[0]) if 2 in node.values else -2
    axis %= len(x)
    n_in = x[axis]
    n = int(node.values[1].reshape(-1)[0]) if 1 in node.values else n_in
    transforms = prod(x[:-1]) // n_in
    return make_work(node, WorkKind.ELEMENTWISE, transforms * fft_flops(n, x[-1] == 1))


@register("STFT")
def stft(node: OpNode) -> OpWork:
    """Per frame: window multiply (frame_length) + FFT of frame_length (:func:`fft_flops`).

    Frames come from output 0 [batch, frames, bins, 2].
    """
    sig = in_shape(node, 0)
    b, frames = node.outputs[0].shape[:2]
    n = int(node.values[3].reshape(-1)[0]) if 3 in node.values else in_shape(node, 2)[0]
    window = n if node.input(2) is not None else 0
    return make_work(node, WorkKind.ELEMENTWISE, b * frames * (window + fft_flops(n, sig[-1] == 1)))


#: Per output element: Hann a0 − a1·cos(2πn/N) → 2π·n/N (2), cos, mul, sub = 5; Hamming same;
#: Blackman adds a2·cos(4πn/N) → +4. MelWeightMatrix: triangle filter (2 sub, 1 div, 1 min) = 4.
WINDOW_FLOPS = {"HannWindow": 5, "HammingWindow": 5, "BlackmanWindow": 9, "MelWeightMatrix": 4}


@register(*WINDOW_FLOPS)
def window(node: OpNode) -> OpWork:
    """Output elements × :data:`WINDOW_FLOPS` (usually constant-folded at load time)."""
    return make_work(node, WorkKind.ELEMENTWISE, WINDOW_FLOPS[node.op_type] * out_numel(node))


@register("Det")
def det(node: OpNode) -> OpWork:
    """LU factorisation per M×M matrix: (2/3)·M³ FLOPs, plus M multiplies of the diagonal."""
    x = in_shape(node, 0)
    m = x[-1]
    return make_work(node, WorkKind.MATMUL, prod(x[:-2]) * (2 * m ** 3 / 3 + m))


@register("AffineGrid")
def affine_grid(node: OpNode) -> OpWork:
    """Per output point of k spatial dims: base-grid coordinate (2 per dim: scale, shift) and
    θ·[coords, 1] (k·k MACs + k adds). FLOPs = points·(2k + 2k² + k); MACs = points·k²."""
    out = node.outputs[0].shape
    k = out[-1]
    points = prod(out[:-1])
    return make_work(node, WorkKind.ELEMENTWISE, points * (3 * k + 2 * k * k), points * k * k)


@register("ImageDecoder")
def image_decoder(node: OpNode) -> OpWork:
    """JPEG/PNG decode ≈ 30 operations per output value (8×8 IDCT ≈ 16/px, colour conversion and
    upsampling ≈ 14/px): a rough figure; the output shape is data-dependent and must be static."""
    return make_work(node, WorkKind.ELEMENTWISE, 30 * out_numel(node))


@register("Gradient", domain=TRAINING)
def gradient(node: OpNode) -> OpWork:
    """dY/dx for each x: only its **lower bound** is visible to a single-op count.

    The backward pass through the sub-graph from xs to y is not part of this node (hwsim's training
    transform prices backprop from the forward ops). Counted: one chain-rule multiply-add per
    gradient element (2 FLOPs per output element), with a note.
    """
    note = f"Gradient {node.name!r}: counted as 2 FLOPs per gradient element; the backward sub-graph is not expanded"
    return make_work(node, WorkKind.ELEMENTWISE, 2 * sum(t.numel for t in node.outputs), notes=(note,))


#: Operations per updated parameter element (the ONNX preview-training definitions):
#: Momentum: g' = g + λx (2), v = α·v + β·g' (3), x −= r·v (2) [Nesterov: +2];
#: Adagrad: g' = g + λx (2), h += g'² (2), sqrt(h) + ε (2), x −= r·g'/denom (3);
#: Adam: g' = g + λx (2), v = αv + (1−α)g' (3), h = βh + (1−β)g'² (4), sqrt(h) + ε (2), x −= r·v/denom (3).
OPTIMIZER_FLOPS = {"Momentum": 7, "Adagrad": 9, "Adam": 14}


@register(*OPTIMIZER_FLOPS, domain=TRAINING)
def optimizer(node: OpNode) -> OpWork:
    """Updated elements (the X tensors: the first third/quarter of the non-scalar inputs) × :data:`OPTIMIZER_FLOPS`."""
    tensors = node.inputs[2:]
    groups = {"Momentum": 3, "Adagrad": 3, "Adam": 4}[node.op_type]
    updated = sum(t.numel for t in tensors[: len(tensors) // groups] if t is not None)
    per = OPTIMIZER_FLOPS[node.op_type] + (2 if node.attrs.get("mode") == "nesterov" else 0)
    return make_work(node, WorkKind.ELEMENTWISE, per * updated)


@register("BitCast")
def bitcast(node: OpNode) -> OpWork:
    """Reinterpret the bits as another dtype of the same width: no arithmetic, no copy."""
    return OpWork(kind=WorkKind.NONE, dtype=node.outputs[0].dtype)


@register("SwiGLU")
def swiglu(node: OpNode) -> OpWork:
    """Y = A·sigmoid(alpha·A)·B: alpha mul 1, sigmoid 4, two muls 2 → 7 per output element."""
    return make_work(node, WorkKind.ELEMENTWISE, 7 * out_numel(node))


@register("TensorScatter")
def tensor_scatter(node: OpNode) -> OpWork:
    """KV-cache update modelled in place: reads the update (and write indices), writes as many bytes."""
    upd = node.inputs[1].nbytes
    idx = node.inputs[2].nbytes if node.input(2) is not None else 0.0
    return make_work(node, WorkKind.DATA_MOVEMENT, bytes_read=upd + idx, bytes_written=upd)


@register("CausalConvWithState")
def causal_conv_with_state(node: OpNode) -> OpWork:
    """Depthwise causal 1-D conv, weight (C, 1, k): MACs = B·C·L·k; + bias 1 and SiLU 5 per output
    when given. GEMM view as a grouped conv: (C, B·L, 1, k)."""
    b, c, length = node.outputs[0].shape
    k = in_shape(node, 1)[-1]
    macs = b * c * length * k
    per = (1 if node.input(2) is not None else 0) + (5 if node.attrs.get("activation", "none") != "none" else 0)
    return make_work(node, WorkKind.CONV, 2 * macs + per * b * c * length, macs, gemm=(c, b * length, 1, k), density_slots=(1,))
