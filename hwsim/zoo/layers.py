"""Layers shared by the zoo families, written as PyTorch's ONNX exporter lowers them.

Each helper takes the :class:`GraphBuilder`, the input tensor name and a module prefix ``p``
(e.g. ``layer3.1.conv2``, ``h.11.attn``) and returns the output tensor name.
"""

from __future__ import annotations

import math

from hwsim.zoo.builder import HE, NORMAL, ONES, ZEROS, GraphBuilder, Init


def conv(b: GraphBuilder, x: str, p: str, cin: int, cout: int, k: int, stride: int = 1,
         pad: int = 0, group: int = 1, bias: bool = False) -> str:
    """Conv2d with square kernel ``k``; weight [cout, cin/group, k, k] (He init)."""
    inputs = [x, b.weight(f"{p}.weight", [cout, cin // group, k, k], HE)]
    if bias:
        inputs.append(b.weight(f"{p}.bias", [cout], ZEROS))
    return b.node("Conv", inputs, p, kernel_shape=[k, k], strides=[stride, stride],
                  pads=[pad] * 4, group=group)


def batch_norm(b: GraphBuilder, x: str, p: str, c: int) -> str:
    """Inference-mode BatchNormalization (eps 1e-5, PyTorch default), unfused."""
    params = [b.weight(f"{p}.weight", [c], ONES), b.weight(f"{p}.bias", [c], ZEROS),
              b.weight(f"{p}.running_mean", [c], ZEROS), b.weight(f"{p}.running_var", [c], ONES)]
    return b.node("BatchNormalization", [x, *params], p, epsilon=1e-5)


def gemm(b: GraphBuilder, x: str, p: str, fin: int, fout: int, out: str | None = None,
         init: Init = NORMAL) -> str:
    """nn.Linear on a 2-D input as PyTorch exports it: Gemm(x, W[fout, fin], b, transB=1)."""
    w = b.weight(f"{p}.weight", [fout, fin], init)
    bias = b.weight(f"{p}.bias", [fout], ZEROS)
    return b.node("Gemm", [x, w, bias], p, out=out, transB=1)


def linear(b: GraphBuilder, x: str, p: str, fin: int, fout: int, bias: bool = True,
           init: Init = NORMAL) -> str:
    """nn.Linear on an N-D input: MatMul(x, W[fin, fout]) then Add(bias)."""
    y = b.node("MatMul", [x, b.weight(f"{p}.weight", [fin, fout], init)], p)
    if not bias:
        return y
    return b.node("Add", [y, b.weight(f"{p}.bias", [fout], ZEROS)], f"{p}.bias_add")


def layer_norm(b: GraphBuilder, x: str, p: str, d: int, eps: float = 1e-5,
               out: str | None = None) -> str:
    """LayerNormalization over the last axis with learned scale and bias."""
    scale, bias = b.weight(f"{p}.weight", [d], ONES), b.weight(f"{p}.bias", [d], ZEROS)
    return b.node("LayerNormalization", [x, scale, bias], p, out=out, axis=-1, epsilon=eps)


def rms_norm(b: GraphBuilder, x: str, p: str, d: int, eps: float = 1e-6) -> str:
    """RMSNorm (Zhang & Sennrich 2019) decomposed as HF LlamaRMSNorm exports it."""
    sq = b.node("Pow", [x, b.const(2.0)], f"{p}.pow")
    mean = b.node("ReduceMean", [sq], f"{p}.mean", axes=[-1], keepdims=1)
    std = b.node("Sqrt", [b.node("Add", [mean, b.const(eps)], f"{p}.add_eps")], f"{p}.sqrt")
    inv = b.node("Reciprocal", [std], f"{p}.rsqrt")
    y = b.node("Mul", [x, inv], f"{p}.normalize")
    return b.node("Mul", [y, b.weight(f"{p}.weight", [d], ONES)], p)


def gelu_erf(b: GraphBuilder, x: str, p: str) -> str:
    """Exact GELU (Hendrycks & Gimpel 2016): x * 0.5 * (1 + erf(x / sqrt 2)), as torch exports."""
    e = b.node("Erf", [b.node("Div", [x, b.const(math.sqrt(2.0))], f"{p}.div")], f"{p}.erf")
    t = b.node("Add", [e, b.const(1.0)], f"{p}.add")
    return b.node("Mul", [b.node("Mul", [x, t], f"{p}.mul"), b.const(0.5)], p)


def gelu_tanh(b: GraphBuilder, x: str, p: str) -> str:
    """GPT-2's gelu_new: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    cube = b.node("Pow", [x, b.const(3.0)], f"{p}.pow")
    inner = b.node("Add", [x, b.node("Mul", [cube, b.const(0.044715)], f"{p}.mul_c")],
                   f"{p}.add_x")
    th = b.node("Tanh", [b.node("Mul", [inner, b.const(math.sqrt(2.0 / math.pi))],
                                f"{p}.mul_s")], f"{p}.tanh")
    half = b.node("Mul", [x, b.const(0.5)], f"{p}.half")
    return b.node("Mul", [half, b.node("Add", [th, b.const(1.0)], f"{p}.add_1")], p)


def split_heads(b: GraphBuilder, x: str, p: str, shape: tuple[int, int, int, int],
                transpose_k: bool = False) -> str:
    """[B, S, H*dh] -> [B, H, S, dh] (or [B, H, dh, S] for keys when ``transpose_k``)."""
    r = b.node("Reshape", [x, b.const(list(shape))], f"{p}.reshape")
    perm = [0, 2, 3, 1] if transpose_k else [0, 2, 1, 3]
    return b.node("Transpose", [r], f"{p}.transpose", perm=perm)


def merge_heads(b: GraphBuilder, x: str, p: str, batch: int, seq: int, d: int) -> str:
    """[B, H, S, dh] -> [B, S, H*dh]."""
    t = b.node("Transpose", [x], f"{p}.transpose", perm=[0, 2, 1, 3])
    return b.node("Reshape", [t, b.const([batch, seq, d])], f"{p}.reshape")


def attention_core(b: GraphBuilder, q: str, k_t: str, v: str, p: str, dh: int,
                   mask: str | None = None, causal: str | None = None) -> str:
    """softmax(q k^T / sqrt(dh) + mask) v on [B, H, S, dh] heads (Vaswani et al. 2017).

    ``mask`` is an additive mask; ``causal`` a bool [1, 1, S, S] keep-mask applied with Where.
    """
    s = b.node("MatMul", [q, k_t], f"{p}.scores")
    s = b.node("Div", [s, b.const(math.sqrt(dh))], f"{p}.scale")
    if mask is not None:
        s = b.node("Add", [s, mask], f"{p}.mask")
    if causal is not None:
        s = b.node("Where", [causal, s, b.const(-1e4)], f"{p}.causal")
    probs = b.node("Softmax", [s], f"{p}.softmax", axis=-1)
    return b.node("MatMul", [probs, v], f"{p}.context")
