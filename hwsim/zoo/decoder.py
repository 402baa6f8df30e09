"""Decoder-only language models: GPT-2 family, GPT-3 175B, LLaMA-7B (published dimensions).

Causal masking is a bool [1, 1, S, S] lower-triangular ``Constant`` applied with ``Where``
(as HF GPT-2 exports ``torch.where(causal_mask, w, mask_value)``). Dense attention in every
layer (GPT-3's alternating locally banded sparse layers are modelled as dense).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from onnx import ModelProto, TensorProto

from hwsim.zoo.builder import GraphBuilder
from hwsim.zoo.layers import (
    attention_core,
    gelu_tanh,
    layer_norm,
    linear,
    merge_heads,
    rms_norm,
    split_heads,
)


@dataclass(frozen=True)
class DecoderDims:
    """Decoder hyper-parameters: layers, width, heads, FFN width, vocabulary, context."""

    layers: int
    d: int
    heads: int
    ffn: int
    vocab: int
    n_ctx: int


#: GPT-2 sizes: Radford et al. 2019, Table 2 (+ released hparams: vocab 50257, n_ctx 1024).
GPT2 = {
    "gpt2": DecoderDims(12, 768, 12, 3072, 50257, 1024),
    "gpt2-medium": DecoderDims(24, 1024, 16, 4096, 50257, 1024),
    "gpt2-large": DecoderDims(36, 1280, 20, 5120, 50257, 1024),
    "gpt2-xl": DecoderDims(48, 1600, 25, 6400, 50257, 1024),
}
#: GPT-3 175B: Brown et al. 2020, Table 2.1 (96 layers, d_model 12288, 96 heads x 128, n_ctx 2048).
GPT3_175B = DecoderDims(96, 12288, 96, 4 * 12288, 50257, 2048)
#: LLaMA-7B: Touvron et al. 2023, Table 2 (+ released config: ffn 11008, vocab 32000).
LLAMA_7B = DecoderDims(32, 4096, 32, 11008, 32000, 2048)


def _tokens(b: GraphBuilder, batch: int, seq: int, dims: DecoderDims, name: str) -> str:
    ids = b.input("input_ids", [batch, seq], TensorProto.INT64)
    return b.node("Gather", [b.weight(f"{name}.weight", [dims.vocab, dims.d]), ids], name)


def _causal(b: GraphBuilder, seq: int) -> str:
    return b.const(np.tril(np.ones((seq, seq), dtype=bool))[None, None])


def _gpt_block(b: GraphBuilder, x: str, p: str, dims: DecoderDims, bs: tuple[int, int],
               causal: str) -> str:
    """Pre-LN GPT-2 block (Radford 2019, Sec. 2.3): fused c_attn, causal MHA, c_proj, MLP."""
    (batch, seq), d = bs, dims.d
    y = layer_norm(b, x, f"{p}.ln_1", d)
    qkv = linear(b, y, f"{p}.attn.c_attn", d, 3 * d)
    q, k, v = b.multi("Split", [qkv, b.const([d, d, d])], f"{p}.attn.split",
                      [f"{p}.attn.q", f"{p}.attn.k", f"{p}.attn.v"], axis=-1)
    shape = (batch, seq, dims.heads, d // dims.heads)
    q, v = (split_heads(b, t, f"{p}.attn.{n}_heads", shape) for t, n in ((q, "q"), (v, "v")))
    k = split_heads(b, k, f"{p}.attn.k_heads", shape, transpose_k=True)
    a = attention_core(b, q, k, v, f"{p}.attn", d // dims.heads, causal=causal)
    a = linear(b, merge_heads(b, a, f"{p}.attn.merge", batch, seq, d), f"{p}.attn.c_proj", d, d)
    x = b.node("Add", [x, a], f"{p}.attn_residual")
    y = linear(b, layer_norm(b, x, f"{p}.ln_2", d), f"{p}.mlp.c_fc", d, dims.ffn)
    y = linear(b, gelu_tanh(b, y, f"{p}.mlp.gelu"), f"{p}.mlp.c_proj", dims.ffn, d)
    return b.node("Add", [x, y], f"{p}.mlp_residual")


def build_gpt(b: GraphBuilder, batch: int, seq: int, dims: DecoderDims) -> ModelProto:
    """GPT-2/GPT-3 LM: wte + wpe, pre-LN blocks, ln_f, LM head tied to ``wte.weight``.

    The head is Gemm(h, wte.weight, transB=1) on the SAME initializer, so the tied embedding
    is one parameter tensor.
    """
    x = _tokens(b, batch, seq, dims, "wte")
    pos = b.node("Gather", [b.weight("wpe.weight", [dims.n_ctx, dims.d]),
                            b.const([list(range(seq))])], "wpe")
    x = b.node("Add", [x, pos], "embed_add")
    causal = _causal(b, seq)
    for i in range(dims.layers):
        x = _gpt_block(b, x, f"h.{i}", dims, (batch, seq), causal)
    x = layer_norm(b, x, "ln_f", dims.d)
    x = b.node("Reshape", [x, b.const([batch * seq, dims.d])], "lm_head.flatten")
    x = b.node("Gemm", [x, "wte.weight"], "lm_head", transB=1)
    x = b.node("Reshape", [x, b.const([batch, seq, dims.vocab])], "lm_head.unflatten",
               out="logits")
    b.output(x, [batch, seq, dims.vocab])
    return b.model()


def _rotary_tables(b: GraphBuilder, seq: int, dh: int) -> tuple[str, str]:
    """cos/sin [S, dh] from positions x inv_freq (Su et al. 2021, base 10000), HF layout."""
    inv_freq = 1.0 / (10000.0 ** (np.arange(0, dh, 2, dtype=np.float32) / dh))
    pos = np.arange(seq, dtype=np.float32)[:, None]
    freqs = b.node("Mul", [b.const(pos), b.const(inv_freq[None, :])], "rotary.freqs")
    emb = b.node("Concat", [freqs, freqs], "rotary.emb", axis=-1)
    return b.node("Cos", [emb], "rotary.cos"), b.node("Sin", [emb], "rotary.sin")


def _rope(b: GraphBuilder, x: str, p: str, cos_sin: tuple[str, str], dh: int) -> str:
    """x * cos + rotate_half(x) * sin, rotate_half(x) = concat(-x[dh/2:], x[:dh/2])."""
    half, last = b.const([dh // 2]), b.const([-1])
    x1 = b.node("Slice", [x, b.const([0]), half, last], f"{p}.x1")
    x2 = b.node("Slice", [x, half, b.const([dh]), last], f"{p}.x2")
    rot = b.node("Concat", [b.node("Neg", [x2], f"{p}.neg"), x1], f"{p}.rotate_half", axis=-1)
    a = b.node("Mul", [x, cos_sin[0]], f"{p}.mul_cos")
    return b.node("Add", [a, b.node("Mul", [rot, cos_sin[1]], f"{p}.mul_sin")], p)


def _llama_attention(b: GraphBuilder, x: str, p: str, dims: DecoderDims, bs: tuple[int, int],
                     rope: tuple[str, str], causal: str) -> str:
    """Separate q/k/v/o projections without bias, rotary on q and k, causal softmax."""
    (batch, seq), d, dh = bs, dims.d, dims.d // dims.heads
    shape = (batch, seq, dims.heads, dh)
    q, k, v = (split_heads(b, linear(b, x, f"{p}.{n}_proj", d, d, bias=False),
                           f"{p}.{n}_heads", shape) for n in ("q", "k", "v"))
    q, k = _rope(b, q, f"{p}.q_rope", rope, dh), _rope(b, k, f"{p}.k_rope", rope, dh)
    k = b.node("Transpose", [k], f"{p}.k_t", perm=[0, 1, 3, 2])
    a = attention_core(b, q, k, v, p, dh, causal=causal)
    return linear(b, merge_heads(b, a, f"{p}.merge", batch, seq, d), f"{p}.o_proj", d, d,
                  bias=False)


def _llama_layer(b: GraphBuilder, x: str, p: str, dims: DecoderDims, bs: tuple[int, int],
                 rope: tuple[str, str], causal: str) -> str:
    """Pre-RMSNorm block with SwiGLU FFN: down(silu(gate(x)) * up(x)) (Shazeer 2020)."""
    y = rms_norm(b, x, f"{p}.input_layernorm", dims.d)
    x = b.node("Add", [x, _llama_attention(b, y, f"{p}.self_attn", dims, bs, rope, causal)],
               f"{p}.attn_residual")
    y = rms_norm(b, x, f"{p}.post_attention_layernorm", dims.d)
    gate = linear(b, y, f"{p}.mlp.gate_proj", dims.d, dims.ffn, bias=False)
    silu = b.node("Mul", [gate, b.node("Sigmoid", [gate], f"{p}.mlp.sigmoid")], f"{p}.mlp.silu")
    up = linear(b, y, f"{p}.mlp.up_proj", dims.d, dims.ffn, bias=False)
    y = b.node("Mul", [silu, up], f"{p}.mlp.gated")
    y = linear(b, y, f"{p}.mlp.down_proj", dims.ffn, dims.d, bias=False)
    return b.node("Add", [x, y], f"{p}.mlp_residual")


def build_llama(b: GraphBuilder, batch: int, seq: int, dims: DecoderDims = LLAMA_7B) -> ModelProto:
    """LLaMA decoder (HF LlamaForCausalLM names): RMSNorm, RoPE, SwiGLU, untied lm_head."""
    x = _tokens(b, batch, seq, dims, "embed_tokens")
    rope, causal = _rotary_tables(b, seq, dims.d // dims.heads), _causal(b, seq)
    for i in range(dims.layers):
        x = _llama_layer(b, x, f"layers.{i}", dims, (batch, seq), rope, causal)
    x = rms_norm(b, x, "norm", dims.d)
    head = b.weight("lm_head.weight", [dims.d, dims.vocab])
    b.output(b.node("MatMul", [x, head], "lm_head", out="logits"), [batch, seq, dims.vocab])
    return b.model()
