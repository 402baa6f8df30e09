"""Encoder transformers: ViT-B/16 (pre-LN) and BERT (post-LN), published dimensions.

Lowered as PyTorch/HF exports them: LayerNormalization, MatMul + Add projections, heads split
with Reshape/Transpose, Softmax attention, exact GELU as Div/Erf/Add/Mul (opset 17 has no Gelu).
"""

from __future__ import annotations

from dataclasses import dataclass

from onnx import ModelProto, TensorProto

from hwsim.zoo.builder import GraphBuilder
from hwsim.zoo.layers import (
    attention_core,
    conv,
    gelu_erf,
    gemm,
    layer_norm,
    linear,
    merge_heads,
    split_heads,
)


@dataclass(frozen=True)
class EncoderDims:
    """Encoder hyper-parameters: layers, model width, heads, FFN width, LayerNorm epsilon."""

    layers: int
    d: int
    heads: int
    ffn: int
    eps: float


#: ViT-B/16: Dosovitskiy et al. 2021 (ICLR), Table 1 (timm LayerNorm eps 1e-6).
VIT_B16 = EncoderDims(12, 768, 12, 3072, 1e-6)
#: BERT-base / BERT-large: Devlin et al. 2019 (NAACL), Section 3 (LayerNorm eps 1e-12).
BERT_BASE = EncoderDims(12, 768, 12, 3072, 1e-12)
BERT_LARGE = EncoderDims(24, 1024, 16, 4096, 1e-12)
BERT_VOCAB, BERT_POSITIONS, BERT_TYPES = 30522, 512, 2


def _self_attention(b: GraphBuilder, x: str, p: str, dims: EncoderDims, batch: int, seq: int,
                    fused_qkv: bool, mask: str | None = None) -> str:
    """Multi-head self-attention with a fused (timm) or separate (HF BERT) QKV projection."""
    d, h = dims.d, dims.heads
    shape = (batch, seq, h, d // h)
    if fused_qkv:
        qkv = linear(b, x, f"{p}.qkv", d, 3 * d)
        q, k, v = b.multi("Split", [qkv, b.const([d, d, d])], f"{p}.split",
                          [f"{p}.q", f"{p}.k", f"{p}.v"], axis=-1)
    else:
        q, k, v = (linear(b, x, f"{p}.{n}", d, d) for n in ("query", "key", "value"))
    q = split_heads(b, q, f"{p}.q_heads", shape)
    k = split_heads(b, k, f"{p}.k_heads", shape, transpose_k=True)
    v = split_heads(b, v, f"{p}.v_heads", shape)
    ctx = attention_core(b, q, k, v, p, d // h, mask=mask)
    return merge_heads(b, ctx, f"{p}.merge", batch, seq, d)


def _mlp(b: GraphBuilder, x: str, p: str, names: tuple[str, str], d: int, ffn: int) -> str:
    """Position-wise FFN: Linear(d, ffn) -> exact GELU -> Linear(ffn, d)."""
    y = gelu_erf(b, linear(b, x, f"{p}.{names[0]}", d, ffn), f"{p}.gelu")
    return linear(b, y, f"{p}.{names[1]}", ffn, d)


def _vit_block(b: GraphBuilder, x: str, p: str, dims: EncoderDims, batch: int, seq: int) -> str:
    """Pre-LN encoder block: x + MSA(LN(x)), then x + MLP(LN(x)) (Dosovitskiy 2021, Eq. 2-3)."""
    y = layer_norm(b, x, f"{p}.norm1", dims.d, dims.eps)
    y = _self_attention(b, y, f"{p}.attn", dims, batch, seq, True)
    y = linear(b, y, f"{p}.attn.proj", dims.d, dims.d)
    x = b.node("Add", [x, y], f"{p}.attn_residual")
    y = layer_norm(b, x, f"{p}.norm2", dims.d, dims.eps)
    y = _mlp(b, y, f"{p}.mlp", ("fc1", "fc2"), dims.d, dims.ffn)
    return b.node("Add", [x, y], f"{p}.mlp_residual")


def _vit_embed(b: GraphBuilder, batch: int, d: int, tokens: int) -> str:
    """16x16 patch conv, flatten to tokens, prepend the class token, add position embeddings."""
    x = b.input("input", [batch, 3, 224, 224])
    x = conv(b, x, "patch_embed.proj", 3, d, 16, stride=16, bias=True)
    x = b.node("Reshape", [x, b.const([batch, d, tokens - 1])], "patch_embed.flatten")
    x = b.node("Transpose", [x], "patch_embed.transpose", perm=[0, 2, 1])
    cls = b.node("Expand", [b.weight("cls_token", [1, 1, d]), b.const([batch, 1, d])],
                 "cls_token.expand")
    x = b.node("Concat", [cls, x], "cls_concat", axis=1)
    return b.node("Add", [x, b.weight("pos_embed", [1, tokens, d])], "pos_embed.add")


def build_vit(b: GraphBuilder, batch: int, dims: EncoderDims = VIT_B16) -> ModelProto:
    """ViT-B/16 at 224x224: 196 patches + class token, 12 pre-LN blocks, 1000-class head."""
    tokens = (224 // 16) ** 2 + 1
    x = _vit_embed(b, batch, dims.d, tokens)
    for i in range(dims.layers):
        x = _vit_block(b, x, f"blocks.{i}", dims, batch, tokens)
    x = layer_norm(b, x, "norm", dims.d, dims.eps)
    x = b.node("Gather", [x, b.const(0)], "cls_select", axis=1)
    b.output(gemm(b, x, "head", dims.d, 1000, out="logits"), [batch, 1000])
    return b.model()


def _bert_embed(b: GraphBuilder, batch: int, seq: int, d: int, eps: float) -> str:
    """Word + position + token-type embeddings (three Gathers), summed, then LayerNorm."""
    ids = b.input("input_ids", [batch, seq], TensorProto.INT64)
    types = b.input("token_type_ids", [batch, seq], TensorProto.INT64)
    p = "embeddings"
    word = b.node("Gather", [b.weight(f"{p}.word_embeddings.weight", [BERT_VOCAB, d]), ids],
                  f"{p}.word_embeddings")
    pos = b.node("Gather", [b.weight(f"{p}.position_embeddings.weight", [BERT_POSITIONS, d]),
                            b.const([list(range(seq))])], f"{p}.position_embeddings")
    typ = b.node("Gather", [b.weight(f"{p}.token_type_embeddings.weight", [BERT_TYPES, d]),
                            types], f"{p}.token_type_embeddings")
    x = b.node("Add", [b.node("Add", [word, pos], f"{p}.add_position"), typ], f"{p}.add_type")
    return layer_norm(b, x, f"{p}.LayerNorm", d, eps)


def _bert_mask(b: GraphBuilder, batch: int, seq: int) -> str:
    """attention_mask [B, S] (1 keep, 0 pad) -> additive [B, 1, 1, S] mask (0 or -10000)."""
    m = b.input("attention_mask", [batch, seq], TensorProto.INT64)
    m = b.node("Cast", [m], "extended_mask.cast", to=TensorProto.FLOAT)
    m = b.node("Unsqueeze", [m, b.const([1, 2])], "extended_mask.unsqueeze")
    m = b.node("Sub", [b.const(1.0), m], "extended_mask.invert")
    return b.node("Mul", [m, b.const(-10000.0)], "extended_mask")


def _bert_layer(b: GraphBuilder, x: str, p: str, dims: EncoderDims, batch: int, seq: int,
                mask: str, out: str | None = None) -> str:
    """Post-LN block: LN(x + Attn(x)), then LN(x + FFN(x)) (Vaswani 2017; HF BertLayer)."""
    a = _self_attention(b, x, f"{p}.attention.self", dims, batch, seq, False, mask)
    a = linear(b, a, f"{p}.attention.output.dense", dims.d, dims.d)
    x = b.node("Add", [a, x], f"{p}.attention.output.residual")
    x = layer_norm(b, x, f"{p}.attention.output.LayerNorm", dims.d, dims.eps)
    y = gelu_erf(b, linear(b, x, f"{p}.intermediate.dense", dims.d, dims.ffn),
                 f"{p}.intermediate.gelu")
    y = linear(b, y, f"{p}.output.dense", dims.ffn, dims.d)
    y = b.node("Add", [y, x], f"{p}.output.residual")
    return layer_norm(b, y, f"{p}.output.LayerNorm", dims.d, dims.eps, out=out)


def build_bert(b: GraphBuilder, batch: int, seq: int, dims: EncoderDims) -> ModelProto:
    """BERT encoder with pooler (Gather [CLS] -> dense -> Tanh); HF BertModel names."""
    x = _bert_embed(b, batch, seq, dims.d, dims.eps)
    mask = _bert_mask(b, batch, seq)
    for i in range(dims.layers):
        last = "last_hidden_state" if i == dims.layers - 1 else None
        x = _bert_layer(b, x, f"encoder.layer.{i}", dims, batch, seq, mask, out=last)
    hidden = x
    cls = b.node("Gather", [hidden, b.const(0)], "pooler.cls_select", axis=1)
    pooled = b.node("Tanh", [gemm(b, cls, "pooler.dense", dims.d, dims.d)], "pooler.tanh",
                    out="pooler_output")
    b.output(hidden, [batch, seq, dims.d])
    b.output(pooled, [batch, dims.d])
    return b.model()
