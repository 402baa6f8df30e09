"""The zoo's public API: list_models, parse_uri, is_zoo_uri, build parameters and errors."""

from __future__ import annotations

import pytest

from hwsim import zoo
from hwsim.errors import HwsimError, ZooError


def test_list_models_entries_are_frozen_and_carry_defaults():
    entries = {e.name: e for e in zoo.list_models()}
    assert entries["bert-base"].defaults == {"batch": 1, "seq": 128}
    assert entries["gpt2"].defaults["seq"] == 1024
    assert entries["gpt3-175b"].defaults["seq"] == entries["llama-7b"].defaults["seq"] == 2048
    assert entries["lstm-lm"].defaults["seq"] == 35
    assert entries["resnet50"].defaults == {"batch": 1}
    assert entries["resnet50"].published["macs"] == pytest.approx(4.09e9)
    with pytest.raises(AttributeError):
        entries["mlp"].name = "other"  # type: ignore[misc]


@pytest.mark.parametrize("uri,expected", [
    ("zoo:bert-base?seq=384&batch=8", ("bert-base", {"seq": 384, "batch": 8})),
    ("zoo:resnet50", ("resnet50", {})),
    ("zoo:gpt2?weights=random&seed=3", ("gpt2", {"weights": "random", "seed": 3})),
    ("zoo:capsnet?decoder=0", ("capsnet", {"decoder": 0})),
])
def test_parse_uri(uri, expected):
    assert zoo.parse_uri(uri) == expected


@pytest.mark.parametrize("s,expected", [
    ("zoo:resnet50", True), ("zoo:bert-base?seq=8", True), ("models/resnet50.onnx", False),
    ("resnet50", False), ("", False)])
def test_is_zoo_uri(s, expected):
    assert zoo.is_zoo_uri(s) is expected


@pytest.mark.parametrize("uri,fragment", [
    ("zoo:resnet5", "did you mean 'resnet50'"),
    ("zoo:bert-bse", "did you mean 'bert-base'"),
    ("zoo:resnet50?seq=128", "no parameter 'seq'; valid parameters: batch, weights, seed"),
    ("zoo:bert-base?batch=-1", "batch=-1 is out of range"),
    ("zoo:bert-base?batch=abc", "batch must be an integer, got 'abc'"),
    ("zoo:bert-base?seq=513", "seq=513 is out of range; must be in [1, 512]"),
    ("zoo:gpt2?seq", "malformed parameter 'seq'"),
    ("zoo:gpt2?seq=1&seq=2", "given twice"),
    ("zoo:mlp?weights=zeros", "weights must be 'none' or 'random'"),
    ("zoo:capsnet?decoder=2", "must be one of (0, 1)"),
    ("resnet50", "not a zoo URI"),
])
def test_parse_uri_errors_name_the_bad_part(uri, fragment):
    with pytest.raises(ZooError) as err:
        zoo.parse_uri(uri)
    assert fragment in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("name,params,fragment", [
    ("resnet-50", {}, "did you mean 'resnet50'"),
    ("alexnet", {}, "available: mlp, lenet5"),
    ("resnet50", {"seq": 128}, "no parameter 'seq'"),
    ("resnet50", {"batch": -1}, "batch=-1 is out of range; must be >= 1"),
    ("resnet50", {"batch": 0}, "batch=0 is out of range"),
    ("resnet50", {"batch": "abc"}, "batch must be an integer"),
    ("resnet50", {"batch": 1.5}, "batch must be an integer"),
    ("resnet50", {"batch": True}, "batch must be an integer"),
    ("gpt2", {"seq": 2048}, "seq=2048 is out of range; must be in [1, 1024]"),
    ("llama-7b", {"seq": 4096}, "must be in [1, 2048]"),
    ("mlp", {"seed": -1}, "seed=-1 is out of range"),
    ("mlp", {"decoder": 0}, "no parameter 'decoder'"),
])
def test_build_errors_name_the_bad_part(name, params, fragment):
    with pytest.raises(ZooError) as err:
        zoo.build(name, **params)
    assert fragment in str(err.value)
    assert isinstance(err.value, HwsimError)


def test_build_accepts_parsed_uri_params():
    name, params = zoo.parse_uri("zoo:mlp?batch=4")
    model = zoo.build(name, **params)
    assert [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim] == [4, 784]


def test_build_accepts_integer_strings():
    model = zoo.build("lstm-lm", seq="10", batch="3")
    assert [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim] == [10, 3]


def test_model_metadata_names_the_zoo_entry():
    model = zoo.build("resnet18")
    props = {p.key: p.value for p in model.metadata_props}
    assert props == {"hwsim.zoo.name": "resnet18", "hwsim.zoo.weights": "none"}
    assert model.graph.name == "resnet18" and "He et al. 2016" in model.doc_string
