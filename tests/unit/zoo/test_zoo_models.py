"""Every zoo model: valid ONNX, fully static shapes, unique names, published sizes.

Parameter and MAC counts here are computed independently of hwsim's counters (see
zoo_helpers.py): numel of float initializers and a shape walk over Conv/Gemm/MatMul.
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from hwsim import zoo

from .zoo_helpers import built, inferred, macs, param_count, static_shapes

NAMES = [e.name for e in zoo.list_models()]

EXPECTED_NAMES = {"mlp", "lenet5", "resnet18", "resnet50", "mobilenetv2", "vgg16", "vit-b16",
                  "bert-base", "bert-large", "gpt2", "gpt2-medium", "gpt2-large", "gpt2-xl",
                  "gpt3-175b", "llama-7b", "lstm-lm", "capsnet"}

#: Published parameter counts (sources in each test id's ZooEntry.description).
PUBLISHED_PARAMS = {
    "resnet18": 11.69e6,     # torchvision 11,689,512
    "resnet50": 25.56e6,     # torchvision 25,557,032
    "mobilenetv2": 3.5e6,    # torchvision 3,504,872 (Sandler 2018: 3.4M)
    "vgg16": 138.4e6,        # Simonyan & Zisserman 2015 / torchvision 138,357,544
    "vit-b16": 86.6e6,       # Dosovitskiy 2021 "86M"; timm 86,567,656
    "bert-base": 110e6,      # Devlin 2019
    "gpt2": 124e6,           # HF gpt2 124,439,808
    "gpt3-175b": 175e9,      # Brown 2020 Table 2.1
    "llama-7b": 6.74e9,      # Touvron 2023 (6,738,415,616)
    "capsnet": 8.2e6,        # Sabour 2017
}
EXACT_PARAMS = {"bert-base": 109_482_240, "gpt2": 124_439_808, "llama-7b": 6_738_415_616,
                "resnet50": 25_557_032, "vit-b16": 86_567_656, "capsnet": 8_215_568}

#: Published MACs (torchvision model table "GFLOPS" column, which counts MACs).
PUBLISHED_MACS = {"resnet18": 1.82e9, "resnet50": 4.09e9, "vgg16": 15.47e9,
                  "mobilenetv2": 0.30e9, "vit-b16": 17.56e9}


def test_catalogue_has_exactly_the_expected_names():
    assert set(NAMES) == EXPECTED_NAMES
    for e in zoo.list_models():
        assert e.family in {"cnn", "transformer", "mlp", "rnn", "capsule"}
        assert e.description and "\n" not in e.description
        assert e.defaults["batch"] == 1 and e.published["params"] > 0


@pytest.mark.parametrize("name", NAMES)
def test_model_is_valid_onnx_opset17(name):
    m = built(name)
    onnx.checker.check_model(m)
    assert m.ir_version >= 8
    assert [(o.domain, o.version) for o in m.opset_import] == [("", 17)]
    assert all(n.domain == "" for n in m.graph.node)


@pytest.mark.parametrize("name", NAMES)
def test_every_node_output_has_a_static_shape(name):
    shapes = static_shapes(inferred(name))
    missing = [o for n in inferred(name).graph.node for o in n.output if shapes.get(o) is None]
    assert not missing, f"{name}: outputs without a static shape: {missing[:5]}"
    for inp in built(name).graph.input:
        assert shapes[inp.name] is not None


@pytest.mark.parametrize("name", NAMES)
def test_names_are_unique_and_readable(name):
    g = built(name).graph
    nodes = [n.name for n in g.node]
    assert all(nodes) and len(set(nodes)) == len(nodes)
    tensors = [*(i.name for i in g.input), *(t.name for t in g.initializer),
               *(o for n in g.node for o in n.output)]
    assert len(set(tensors)) == len(tensors)
    assert all(" " not in t for t in tensors)


@pytest.mark.parametrize("name", NAMES)
def test_weights_are_external_placeholders_by_default(name):
    offset = 0
    for t in built(name).graph.initializer:
        assert t.data_location == onnx.TensorProto.EXTERNAL and not t.raw_data
        info = {e.key: e.value for e in t.external_data}
        length = int(np.prod(t.dims, dtype=np.int64)) * 4
        assert info == {"location": f"#{name}.weights", "offset": str(offset),
                        "length": str(length)}
        offset += length


@pytest.mark.parametrize("name", sorted(PUBLISHED_PARAMS))
def test_param_count_matches_published(name):
    count = param_count(built(name))
    assert count == pytest.approx(PUBLISHED_PARAMS[name], rel=0.01)
    if name in EXACT_PARAMS:
        assert count == EXACT_PARAMS[name]
    assert count == pytest.approx(zoo.list_models()[NAMES.index(name)].published["params"],
                                  rel=0.01)


@pytest.mark.parametrize("name", sorted(PUBLISHED_MACS))
def test_cnn_macs_match_published(name):
    assert macs(inferred(name)) == pytest.approx(PUBLISHED_MACS[name], rel=0.015)


@pytest.mark.parametrize("name,layers,d,ffn,vocab", [
    ("gpt2", 12, 768, 3072, 50257), ("gpt3-175b", 96, 12288, 49152, 50257)])
def test_gpt_macs_follow_the_transformer_formula(name, layers, d, ffn, vocab):
    """Per layer: QKV + proj 4·S·d², MLP 2·S·d·ffn, attention 2·S²·d; LM head S·d·V."""
    seq = zoo.list_models()[NAMES.index(name)].defaults["seq"]
    per_layer = 4 * seq * d * d + 2 * seq * d * ffn + 2 * seq * seq * d
    assert macs(inferred(name)) == layers * per_layer + seq * d * vocab


def test_llama_macs_follow_the_swiglu_formula():
    seq, d, ffn, layers, vocab = 2048, 4096, 11008, 32, 32000
    per_layer = 4 * seq * d * d + 3 * seq * d * ffn + 2 * seq * seq * d
    assert macs(inferred("llama-7b")) == layers * per_layer + seq * d * vocab


def test_bert_base_macs_follow_the_encoder_formula():
    seq, d = 128, 768
    per_layer = 4 * seq * d * d + 2 * seq * d * 3072 + 2 * seq * seq * d
    assert macs(inferred("bert-base")) == 12 * per_layer + d * d  # + pooler


def test_gpt_lm_head_is_tied_to_the_token_embedding():
    m = built("gpt2")
    head = next(n for n in m.graph.node if n.name == "lm_head")
    gather = next(n for n in m.graph.node if n.name == "wte")
    assert head.input[1] == gather.input[0] == "wte.weight"
    assert sum(t.name == "wte.weight" for t in m.graph.initializer) == 1


def test_capsnet_unrolls_three_routing_iterations_and_decoder_is_optional():
    ops = [n.op_type for n in built("capsnet").graph.node]
    assert ops.count("Softmax") == 3
    assert param_count(built("capsnet", decoder=0)) == 6_804_224  # Sabour 2017: 6.8M
    assert len(built("capsnet", decoder=0).graph.output) == 1


@pytest.mark.parametrize("name,params,output_shape", [
    ("resnet50", {"batch": 8}, [8, 1000]),
    ("bert-base", {"seq": 384, "batch": 2}, [2, 384, 768]),
    ("gpt2", {"seq": 64}, [1, 64, 50257]),
    ("lstm-lm", {"seq": 20, "batch": 4}, [20, 4, 10000]),
])
def test_batch_and_seq_parameters_shape_the_model(name, params, output_shape):
    m = onnx.shape_inference.infer_shapes(zoo.build(name, **params), strict_mode=True)
    dims = [d.dim_value for d in m.graph.output[0].type.tensor_type.shape.dim]
    assert dims == output_shape


def test_gpt3_builds_without_materialising_weights():
    m = built("gpt3-175b")
    assert m.ByteSize() < 64 * 1024**2  # 175B float32 weights would be 700 GB
    assert all(not t.raw_data for t in m.graph.initializer)
