"""Zoo totals counted by hwsim (loader + op counting) against published figures, within 1%.

Sources: ResNet-50 25.56 M params / 4.09 GMACs and ResNet-18 11.69 M / 1.82 GMACs (He et al.
2016, torchvision); VGG-16 138.4 M / 15.5 GMACs (Simonyan & Zisserman 2015); MobileNetV2
3.5 M / 300 M MAdds (Sandler et al. 2018, Table 4); ViT-B/16 86.6 M (Dosovitskiy et al. 2021);
BERT-base 110 M (Devlin et al. 2019); GPT-2 small 124 M (HF gpt2, the released checkpoint);
GPT-3 175 B (Brown et al. 2020, Table 2.1). MACs are conv + fully-connected (matmul) MACs.
"""

from __future__ import annotations

import pytest

import hwsim
from hwsim.ops.work import WorkKind

PUBLISHED = {
    "resnet50": (25.56e6, 4.09e9),
    "resnet18": (11.69e6, 1.82e9),
    "vgg16": (138.4e6, 15.5e9),
    "mobilenetv2": (3.5e6, 0.30e9),
    "vit-b16": (86.6e6, None),
    "bert-base": (110e6, None),
    "gpt2": (124e6, None),
    "gpt3-175b": (175e9, None),
}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_zoo_totals_match_published(name):
    params, macs = PUBLISHED[name]
    table = hwsim.count_work(hwsim.load_model(f"zoo:{name}"))
    assert table.totals()["params"] == pytest.approx(params, rel=0.01)
    if macs is not None:
        gemm = (table.kind == WorkKind.CONV) | (table.kind == WorkKind.MATMUL)
        assert table.columns["macs"][gemm].sum() == pytest.approx(macs, rel=0.01)


def test_gpt3_forward_flops_follow_2n_per_token():
    """Kaplan et al. 2020: forward FLOPs ≈ 2·N per token + 2·n_layer·n_ctx·d_model (attention).
    GPT-3: N = 174.6e9 non-embedding+embedding params, 96 layers, d 12288, ctx 2048."""
    table = hwsim.count_work(hwsim.load_model("zoo:gpt3-175b?seq=2048"))
    gemm = (table.kind == WorkKind.MATMUL)
    per_token = table.columns["flops"][gemm].sum() / 2048
    expected = 2 * 174.6e9 + 2 * 96 * 2048 * 12288
    assert per_token == pytest.approx(expected, rel=0.02)
