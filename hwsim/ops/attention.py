"""Attention: ONNX Attention (opset 23), com.microsoft Attention, MultiHeadAttention,
GroupQueryAttention and RotaryEmbedding (both domains).

Scaled dot-product attention over B batches, N query heads, S queries, T keys (past + new),
head sizes d (Q·K) and d_v (V):

* MACs = B·N·S·T·d (Q·Kᵀ) + B·N·S·T·d_v (P·V).
* Per score (B·N·S·T): scale 1, softmax 5 (max, sub, exp, sum, div), mask/bias add 1 when a mask,
  bias or causal flag is given, softcap 3 (div, tanh, mul) when set.
* com.microsoft Attention also projects the input: B·S·H_in·(H_q + H_k + H_v) MACs, + 1 FLOP per
  projected value for the bias.

Causal masking is counted as a full S×T score matrix (what non-flash kernels compute).
GEMM view: the largest single product — the QKV projection (1, B·S, H_q+H_k+H_v, H_in) when it
dominates, else Q·Kᵀ (B·N, S, T, d). P·V has the same MACs as Q·Kᵀ when d_v = d with the
shape (B·N, S, d_v, T); ``macs`` always holds the sum of all products.
"""

from __future__ import annotations

from hwsim.graph.opnode import OpNode
from hwsim.graph.shape_rules_extra import gqa_dims, mha_dims
from hwsim.ops.common import const_slots, in_shape, make_work
from hwsim.ops.registry import MS_DOMAIN, register
from hwsim.ops.work import OpWork, WorkKind

SOFTMAX_FLOPS = 5


def sdpa(node: OpNode, b: int, n: int, s: int, t: int, d: int, dv: int, masked: bool,
         proj: tuple[int, int, int] | None = None, extra: float = 0.0, slots: tuple[int, ...] = ()) -> OpWork:
    """Work of attention core (+ optional projection ``proj`` = (rows, n_out, k))."""
    scores = b * n * s * t
    per_score = 1 + SOFTMAX_FLOPS + (1 if masked else 0) + (3 if node.attrs.get("softcap", 0.0) else 0)
    core = scores * (d + dv)
    view = (b * n, s, t, d)
    macs = core
    if proj is not None:
        pm = proj[0] * proj[1] * proj[2]
        macs += pm
        if pm > scores * d:
            view = (1, *proj)
    flops = 2 * macs + scores * per_score + extra
    return make_work(node, WorkKind.MATMUL, flops, macs, gemm=view, density_slots=slots)


@register("Attention")
def onnx_attention(node: OpNode) -> OpWork:
    """ONNX Attention(Q, K, V, attn_mask, past_key, past_value): Q 3-D [B, S, N·d] (heads from
    ``q_num_heads``) or 4-D [B, N, S, d]; T from present_key (past + new)."""
    q, v = in_shape(node, 0), in_shape(node, 2)
    if len(q) == 4:
        b, n, s, d = q
        dv = v[3]
    else:
        n = int(node.attrs["q_num_heads"])
        b, s, d = q[0], q[1], q[2] // n
        dv = v[2] // int(node.attrs["kv_num_heads"])
    k = in_shape(node, 1)
    t = k[2] if len(k) == 4 else k[1]
    if node.input(4) is not None:
        t += in_shape(node, 4)[2]
    masked = node.input(3) is not None or bool(node.attrs.get("is_causal", 0))
    return sdpa(node, b, n, s, t, d, dv, masked)


@register("Attention", "QAttention", domain=MS_DOMAIN)
def ms_attention(node: OpNode) -> OpWork:
    """com.microsoft Attention(input [B,S,H_in], weights [H_in, H_q+H_k+H_v], bias, mask_index, past,
    attention_bias): QKV projection + bias, then attention. QAttention (int8 input/weights, inputs
    input, weight, bias, input_scale, weight_scale, mask_index, ...) also dequantises the projection
    (2 FLOPs per projected value)."""
    b, s, h_in = in_shape(node, 0)
    w = in_shape(node, 1)
    n = int(node.attrs["num_heads"])
    hq, hk, hv = node.attrs.get("qkv_hidden_sizes") or (w[1] // 3,) * 3
    quant = node.op_type == "QAttention"
    past = node.input(8 if quant else 4)
    t = s + (past.shape[3] if past is not None else 0)
    mask_slots = (5,) if quant else (3, 5)
    masked = bool(node.attrs.get("unidirectional", 0)) or any(node.input(i) is not None for i in mask_slots)
    per_proj = (1 if node.input(2) is not None else 0) + (2 if quant else 0)
    extra = b * s * w[1] * per_proj
    slots = const_slots(node)
    return sdpa(node, b, n, s, t, hq // n, hv // n, masked, proj=(b * s, w[1], h_in), extra=extra, slots=slots)


@register("MultiHeadAttention", domain=MS_DOMAIN)
def ms_mha(node: OpNode) -> OpWork:
    """com.microsoft MultiHeadAttention(query, key, value, bias, key_padding_mask, attention_bias,
    past_key, past_value): no projection weights; the optional bias adds 1 FLOP per Q, K and V value."""
    n = int(node.attrs["num_heads"])
    m = mha_dims([t.shape if t is not None else None for t in node.inputs], n)
    t = m["P"] + m["L"]
    extra = 0
    if node.input(3) is not None:
        extra = m["B"] * (m["S"] * n * m["d"] + m["L"] * n * (m["d"] + m["dv"]))
    masked = node.input(4) is not None or node.input(5) is not None or bool(node.attrs.get("unidirectional", 0))
    return sdpa(node, m["B"], n, m["S"], t, m["d"], m["dv"], masked, extra=extra)


def rotary_flops(elements: int) -> int:
    """Rotating pairs: x·cos − rot(x)·sin → 2 mul + 1 add per rotated element."""
    return 3 * elements


@register("GroupQueryAttention", domain=MS_DOMAIN)
def ms_gqa(node: OpNode) -> OpWork:
    """com.microsoft GroupQueryAttention: N query heads share N_kv key/value heads; MACs as for
    attention with T = total sequence length; ``do_rotary`` adds rotary on Q and K
    (3 per element of B·S·(N + N_kv)·d). Causal masking: +1 per score."""
    m = gqa_dims([t.shape if t is not None else None for t in node.inputs],
                 [node.values.get(i) for i in range(len(node.inputs))], dict(node.attrs))
    extra = rotary_flops(m["B"] * m["S"] * (m["N"] + m["Nkv"]) * m["d"]) if node.attrs.get("do_rotary", 0) else 0
    return sdpa(node, m["B"], m["N"], m["S"], m["T"], m["d"], m["d"], True, extra=extra)


@register("RotaryEmbedding")
@register("RotaryEmbedding", domain=MS_DOMAIN)
def rotary_embedding(node: OpNode) -> OpWork:
    """Rotary position embedding: rotated elements = input elements × rotary_dim / head_size
    (all when ``rotary_embedding_dim`` is 0); 3 FLOPs each. Bytes read: the input, position ids and
    the cos/sin rows actually gathered (2 · rows · rotary_dim/2), not the whole caches."""
    x = node.inputs[0]
    ms = node.domain == MS_DOMAIN
    cos = node.input(2 if ms else 1)
    rot_dim = int(node.attrs.get("rotary_embedding_dim", 0) or 0)
    heads = int(node.attrs.get("num_heads", 0) or 0)
    head = x.shape[-1] if len(x.shape) == 4 else (x.shape[-1] // heads if heads else 2 * cos.shape[-1])
    rotated = x.numel * min(rot_dim or head, head) // head
    pos = node.input(1 if ms else 3)
    rows = x.numel // head
    read = x.nbytes + (pos.nbytes if pos is not None else 0) + 2 * rows * cos.shape[-1] * cos.nbytes / cos.numel
    return make_work(node, WorkKind.ELEMENTWISE, rotary_flops(rotated), bytes_read=min(read, x.nbytes + sum(
        t.nbytes for t in node.inputs[1:] if t is not None)))


@register("LinearAttention")
def linear_attention(node: OpNode) -> OpWork:
    """ONNX LinearAttention (recurrent form), per token: state update k⊗v (d_k·d_v MACs per KV head;
    delta rules add Sᵀk, another d_k·d_v MACs, and d_v subtractions + β scaling; gated rules scale
    S by exp(g): d_k·d_v + 1) and readout qᵀS (d_k·d_v MACs per query head)."""
    b, t, _ = in_shape(node, 0)
    hq, hkv = int(node.attrs["q_num_heads"]), int(node.attrs["kv_num_heads"])
    dk = in_shape(node, 1)[2] // hkv
    dv = in_shape(node, 2)[2] // hkv
    rule = str(node.attrs.get("update_rule", "gated_delta"))
    state = dk * dv
    delta, gated = "delta" in rule, "gated" in rule
    macs = b * t * (hq * state + hkv * state * (2 if delta else 1))
    extra = b * t * hkv * ((state + 1 if gated else 0) + (2 * dv if delta else 0)) + b * t * hq * dv
    return make_work(node, WorkKind.MATMUL, 2 * macs + extra, macs, gemm=(b * t * hq, 1, dv, dk))
