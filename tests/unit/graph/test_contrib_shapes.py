"""com.microsoft normalisation ops load through hwsim's shape rules (no ONNX schema exists)."""

from __future__ import annotations

import pytest

from tests.helpers import count_single, f32

MS = "com.microsoft"


@pytest.mark.parametrize("op,inputs,attrs,n_out,shapes", [
    ("SkipLayerNormalization", [((2, 3, 8), "fp32"), ((2, 3, 8), "fp32"), f32(8), f32(8)], {}, 4,
     [(2, 3, 8), (2, 3, 1), (2, 3, 1), (2, 3, 8)]),
    ("SkipSimplifiedLayerNormalization", [((2, 3, 8), "fp32"), ((2, 3, 8), "fp32"), f32(8)], {}, 1, [(2, 3, 8)]),
    ("SimplifiedLayerNormalization", [((4, 6), "fp32"), f32(6)], {}, 1, [(4, 6)]),
    ("LayerNormalization", [((4, 6), "fp32"), f32(6), f32(6)], {}, 3, [(4, 6), (4, 1), (4, 1)]),
    ("GroupNorm", [((1, 4, 4, 8), "fp32"), f32(8), f32(8)], {"groups": 2, "activation": 0}, 1, [(1, 4, 4, 8)]),
    # 8x8 NHWC, 3x3 kernel, stride 2, no pad: (8-3)//2+1 = 3
    ("NhwcMaxPool", [((1, 8, 8, 4), "uint8")], {"kernel_shape": [3, 3], "strides": [2, 2]}, 1, [(1, 3, 3, 4)]),
    ("EmbedLayerNormalization", [((2, 5), "int32"), ((2, 5), "int32"), f32(100, 8), f32(16, 8), f32(2, 8), f32(8), f32(8)],
     {}, 2, [(2, 5, 8), (2,)]),
])
def test_contrib_norm_shapes(op, inputs, attrs, n_out, shapes):
    node, _ = count_single(op, inputs, attrs, domain=MS, n_outputs=n_out)
    assert [o.shape for o in node.outputs] == shapes


def test_embed_layer_norm_mask_index_is_int32():
    node, work = count_single("EmbedLayerNormalization",
                              [((2, 5), "int32"), ((2, 5), "int32"), f32(100, 8), f32(16, 8), f32(2, 8), f32(8), f32(8)],
                              domain=MS, n_outputs=2)
    assert node.outputs[1].dtype == "int32"
    # word 100·8 + position 16·8 + segment 2·8 + gamma 8 + beta 8 parameters
    assert work.params == 800 + 128 + 16 + 16
