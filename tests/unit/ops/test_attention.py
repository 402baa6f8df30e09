"""Attention family: hand-computed counts on single-node graphs."""

import numpy as np
import pytest

from hwsim.ops.work import WorkKind
from tests.helpers import count_single, f32

MS = "com.microsoft"


@pytest.mark.parametrize("inputs, attrs, flops", [
    # B2 N4 S3 T6 d8: scores 144; MACs 144·(8+8) = 2304; per score scale 1 + softmax 5 → 2·2304 + 144·6
    ([((2, 4, 3, 8), "fp32"), ((2, 4, 6, 8), "fp32"), ((2, 4, 6, 8), "fp32")], {}, 4608 + 864),
    # same in 3-D packed heads, causal: + 1 per score
    ([((2, 3, 32), "fp32"), ((2, 6, 32), "fp32"), ((2, 6, 32), "fp32")],
     {"q_num_heads": 4, "kv_num_heads": 4, "is_causal": 1}, 4608 + 864 + 144),
])
def test_onnx_attention(inputs, attrs, flops):
    node, w = count_single("Attention", inputs, attrs, opset=23)
    assert (w.macs, w.flops, w.gemm, w.kind) == (2304, flops, (8, 3, 6, 8), WorkKind.MATMUL)


def test_ms_attention():
    # projection 2·3·8·24 = 1152 MACs; heads 2, d 4, T 3: scores 36, core 36·8 = 288
    # FLOPs 2·1440 + 36·6 + bias 2·3·24 = 3240; GEMM view = the projection (1152 > 36·4)
    node, w = count_single("Attention", [((2, 3, 8), "fp32"), f32(8, 24), f32(24)], {"num_heads": 2}, domain=MS)
    assert node.outputs[0].shape == (2, 3, 8)
    assert (w.macs, w.flops, w.params, w.gemm) == (1440, 3240, 192 + 24, (1, 6, 24, 8))


def test_qattention():
    # as above + dequantise 2 per projected value: 3240 + 2·144 = 3528
    s = np.array(0.1, dtype=np.float32)
    node, w = count_single("QAttention", [((2, 3, 8), "uint8"), np.ones((8, 24), np.int8), f32(24), s, s],
                           {"num_heads": 2}, domain=MS)
    assert (w.macs, w.flops) == (1440, 3528)


@pytest.mark.parametrize("bias, flops", [
    # S3 L5 heads 2 d 4: scores 60, MACs 480, FLOPs 960 + 60·6 = 1320
    (None, 1320),
    # bias on Q (2·3·8 = 48), K (2·5·8 = 80), V (80) → + 208
    (f32(24), 1528),
])
def test_multihead_attention(bias, flops):
    node, w = count_single("MultiHeadAttention", [((2, 3, 8), "fp32"), ((2, 5, 8), "fp32"), ((2, 5, 8), "fp32"), bias],
                           {"num_heads": 2}, domain=MS)
    assert node.outputs[0].shape == (2, 3, 8)
    assert (w.macs, w.flops) == (480, flops)


def test_group_query_attention():
    # N4 Nkv2 d4 S3 T3: scores 36, MACs 288, per score scale + softmax + causal = 7 → 576 + 252
    node, w = count_single("GroupQueryAttention", [((1, 3, 16), "fp32"), ((1, 3, 8), "fp32"), ((1, 3, 8), "fp32"),
                                                   None, None, ((1,), "int32"), np.array(3, dtype=np.int32)],
                           {"num_heads": 4, "kv_num_heads": 2}, domain=MS, n_outputs=3)
    assert [o.shape for o in node.outputs] == [(1, 3, 16), (1, 2, 3, 4), (1, 2, 3, 4)]
    assert (w.macs, w.flops) == (288, 828)


def test_rotary_embedding_both_domains():
    # 24 elements all rotated, 3 FLOPs each
    _, w = count_single("RotaryEmbedding", [((1, 3, 8), "fp32"), ((1, 3), "int64"), f32(16, 2), f32(16, 2)],
                        {"num_heads": 2}, domain=MS)
    assert w.flops == 72
    _, w = count_single("RotaryEmbedding", [((1, 2, 3, 4), "fp32"), f32(1, 3, 2), f32(1, 3, 2)], opset=23)
    assert w.flops == 72


def test_linear_attention():
    # B1 T3, 2 heads, d_k = d_v = 4, linear rule: per token, per head: update 16 MACs + readout 16 MACs
    # MACs = 3·(2·16 + 2·16) = 192; extra: 1 scale per output value 3·2·4 = 24 → 384 + 24
    _, w = count_single("LinearAttention", [((1, 3, 8), "fp32")] * 3,
                        {"q_num_heads": 2, "kv_num_heads": 2, "update_rule": "linear"}, opset=27, n_outputs=2)
    assert (w.macs, w.flops) == (192, 408)
