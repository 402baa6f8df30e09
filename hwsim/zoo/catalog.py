"""The zoo's model table: name -> entry (family, description, defaults, published figures)
and builder. Published figures carry their source in the description.

``published["params"]`` is the exact count of the reference implementation named in the
description (torchvision, timm, HF). Where a paper only gives a rounded figure that is more
than 1% off the architecture (LeNet-5 "60k", BERT-large "340M", the GPT-2 paper's table,
the LSTM LM's "20M"), the description quotes the paper and ``published`` holds the exact count.

Published MACs count multiply-accumulates of Conv/Gemm/MatMul only (torchvision's "GFLOPS"
column is MACs, https://pytorch.org/vision/stable/models.html).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from types import MappingProxyType

from onnx import ModelProto

from hwsim.zoo import capsnet, cnn, decoder, rnn, transformer
from hwsim.zoo.builder import GraphBuilder


@dataclass(frozen=True)
class ZooEntry:
    """One zoo model: its name, family, one-line description (with the source of its
    dimensions), default build parameters, and published figures (params, MACs)."""

    name: str
    family: str  # "cnn" | "transformer" | "mlp" | "rnn" | "capsule"
    description: str
    defaults: Mapping[str, int | str]
    published: Mapping[str, float]


@dataclass(frozen=True)
class ZooModel:
    """An entry plus its builder ``make(builder, **params) -> ModelProto`` and param limits."""

    entry: ZooEntry
    make: Callable[..., ModelProto]
    max_seq: int | None = None


def _m(name, family, description, defaults, published, make, max_seq=None) -> ZooModel:
    entry = ZooEntry(name, family, description, MappingProxyType(defaults),
                     MappingProxyType(published))
    return ZooModel(entry, make, max_seq)


def _gpt(dims: decoder.DecoderDims) -> Callable[..., ModelProto]:
    return partial(decoder.build_gpt, dims=dims)


_MODELS = [
    _m("mlp", "mlp", "784-256-256-10 ReLU MLP on flattened MNIST digits (classic MNIST "
       "baseline; params computed from the architecture)",
       {"batch": 1}, {"params": 269_322}, cnn.build_mlp),
    _m("lenet5", "cnn", "LeNet-5, LeCun et al. 1998 Proc. IEEE Fig. 2, 32x32x1, tanh + avg pool; "
       "full C3 gives 61,706 params (paper: ~60k with sparse C3)",
       {"batch": 1}, {"params": 61_706}, cnn.build_lenet5),
    _m("resnet18", "cnn", "ResNet-18, He et al. 2016 CVPR Table 1, torchvision layout, 224x224; "
       "torchvision: 11,689,512 params, 1.82 GMACs",
       {"batch": 1}, {"params": 11_689_512, "macs": 1.82e9}, partial(cnn.build_resnet, depth=18)),
    _m("resnet50", "cnn", "ResNet-50 (v1.5), He et al. 2016 CVPR Table 1, torchvision layout, "
       "224x224; torchvision: 25,557,032 params, 4.09 GMACs",
       {"batch": 1}, {"params": 25_557_032, "macs": 4.09e9}, partial(cnn.build_resnet, depth=50)),
    _m("mobilenetv2", "cnn", "MobileNetV2 1.0/224, Sandler et al. 2018 CVPR Table 2/4: 3.4M "
       "params, 300M MAdds; torchvision: 3,504,872 params, 0.30 GMACs",
       {"batch": 1}, {"params": 3_504_872, "macs": 0.30e9}, cnn.build_mobilenetv2),
    _m("vgg16", "cnn", "VGG-16 (config D), Simonyan & Zisserman 2015 ICLR Table 1-2, 224x224; "
       "138,357,544 params (paper: 138M), torchvision 15.47 GMACs",
       {"batch": 1}, {"params": 138_357_544, "macs": 15.47e9}, cnn.build_vgg16),
    _m("vit-b16", "transformer", "ViT-B/16, Dosovitskiy et al. 2021 ICLR Table 1, 224x224; "
       "86M params (timm vit_base_patch16_224: 86,567,656), torchvision 17.56 GMACs",
       {"batch": 1}, {"params": 86_567_656, "macs": 17.56e9}, transformer.build_vit),
    _m("bert-base", "transformer", "BERT-base, Devlin et al. 2019 NAACL Sec. 3: L=12 H=768 A=12, "
       "110M params (HF bert-base-uncased with pooler: 109,482,240)",
       {"batch": 1, "seq": 128}, {"params": 109_482_240},
       partial(transformer.build_bert, dims=transformer.BERT_BASE), transformer.BERT_POSITIONS),
    _m("bert-large", "transformer", "BERT-large, Devlin et al. 2019 NAACL Sec. 3: L=24 H=1024 "
       "A=16, 340M params (HF bert-large-uncased with pooler: 335,141,888)",
       {"batch": 1, "seq": 128}, {"params": 335_141_888},
       partial(transformer.build_bert, dims=transformer.BERT_LARGE), transformer.BERT_POSITIONS),
    _m("gpt2", "transformer", "GPT-2 small, Radford et al. 2019 Table 2 (12 layers, 768); "
       "124,439,808 params with tied head (paper's table says 117M)",
       {"batch": 1, "seq": 1024}, {"params": 124_439_808}, _gpt(decoder.GPT2["gpt2"]), 1024),
    _m("gpt2-medium", "transformer", "GPT-2 medium, Radford et al. 2019 Table 2 (24 layers, "
       "1024); 354,823,168 params (paper's table says 345M)",
       {"batch": 1, "seq": 1024}, {"params": 354_823_168},
       _gpt(decoder.GPT2["gpt2-medium"]), 1024),
    _m("gpt2-large", "transformer", "GPT-2 large, Radford et al. 2019 Table 2 (36 layers, 1280); "
       "774,030,080 params (paper's table says 762M)",
       {"batch": 1, "seq": 1024}, {"params": 774_030_080}, _gpt(decoder.GPT2["gpt2-large"]), 1024),
    _m("gpt2-xl", "transformer", "GPT-2 XL, Radford et al. 2019 Table 2 (48 layers, 1600); "
       "1,557,611,200 params (paper's table says 1542M)",
       {"batch": 1, "seq": 1024}, {"params": 1_557_611_200}, _gpt(decoder.GPT2["gpt2-xl"]), 1024),
    _m("gpt3-175b", "transformer", "GPT-3 175B, Brown et al. 2020 Table 2.1 (96 layers, 12288, "
       "96 heads x 128, n_ctx 2048), 175.0B params; all layers dense attention",
       {"batch": 1, "seq": 2048}, {"params": 175.0e9}, _gpt(decoder.GPT3_175B), 2048),
    _m("llama-7b", "transformer", "LLaMA-7B, Touvron et al. 2023 Table 2 (32 layers, 4096, 32 "
       "heads, SwiGLU 11008, RoPE, RMSNorm, vocab 32000): 6.7B (exact 6,738,415,616) params",
       {"batch": 1, "seq": 2048}, {"params": 6_738_415_616}, decoder.build_llama, 2048),
    _m("lstm-lm", "rnn", "2-layer LSTM LM, Zaremba et al. 2014 'medium' (vocab 10000, 650 units); "
       "19,780,400 params (Press & Wolf 2017 list it as 20M)",
       {"batch": 1, "seq": 35}, {"params": 19_780_400}, rnn.build_lstm_lm),
    _m("capsnet", "capsule", "CapsNet, Sabour et al. 2017 NeurIPS, MNIST 28x28, 3 routing "
       "iterations; 8.2M params with decoder (6.8M without; paper Sec. 5)",
       {"batch": 1, "decoder": 1}, {"params": 8_215_568}, capsnet.build_capsnet),
]

MODELS: dict[str, ZooModel] = {m.entry.name: m for m in _MODELS}


def make_builder(name: str, weights: str, seed: int) -> GraphBuilder:
    """A fresh :class:`GraphBuilder` for zoo model ``name`` (its description as doc string)."""
    return GraphBuilder(name, MODELS[name].entry.description, weights=weights, seed=seed)
