"""Activation sparsity: declared per kind / on ReLU consumers, measured with onnxruntime."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import hwsim
from hwsim.errors import ConfigError
from hwsim.ops.work import WorkKind
from hwsim.workload.activations import apply_measured, declare, measure

pytest.importorskip("onnxruntime")

RESNET = "zoo:resnet18?weights=random"


@pytest.fixture(scope="module")
def resnet():
    return hwsim.count_work(hwsim.load_model("zoo:resnet18"))


@pytest.fixture(scope="module")
def measured():
    return measure(RESNET, n_samples=2, seed=0)


def test_measured_densities_in_open_unit_interval(measured):
    # 17 ReLUs (stem + 2 per basic block × 8) and the stem MaxPool that follows a ReLU
    assert len(measured) == 18 and "maxpool" in measured
    assert all(0.0 < d < 1.0 for d in measured.values())
    assert 0.3 < measured["conv1.relu"] < 0.7  # ReLU of a zero-mean random pre-activation


def test_measure_is_deterministic_with_the_seed(measured):
    assert measure(RESNET, n_samples=2, seed=0) == measured
    assert measure(RESNET, n_samples=2, seed=1) != measured


def test_apply_measured_updates_the_consuming_gemms(resnet, measured):
    out = apply_measured(resnet, measured)
    act = dict(zip(out.name, out.columns["act_density"]))
    assert act["layer1.0.conv2"] == measured["layer1.0.conv1.relu"]
    assert act["layer1.0.conv1"] == measured["maxpool"]  # ReLU → MaxPool → conv
    assert act["layer2.0.downsample.0"] == measured["layer1.1.relu_out"]
    assert act["conv1"] == 1.0  # reads the image
    untouched = ~np.isin(out.kind, [int(WorkKind.MATMUL), int(WorkKind.CONV)])
    assert (out.columns["act_density"][untouched] == resnet.columns["act_density"][untouched]).all()


def test_mlp_fc_reads_through_nothing_and_measures_half():
    d = measure("zoo:mlp?weights=random&batch=64", n_samples=4, seed=3)
    assert set(d) == {"relu1", "relu2"}
    table = apply_measured(hwsim.count_work(hwsim.load_model("zoo:mlp?batch=64")), d)
    act = dict(zip(table.name, table.columns["act_density"]))
    assert act["fc2"] == d["relu1"] and act["fc3"] == d["relu2"] and act["fc1"] == 1.0


def test_token_ids_stay_below_the_vocabulary():
    """Gather(table[100, 16], ids) → MatMul → Relu: ids ≥ 100 would make onnxruntime fail."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.standard_normal((100, 16)).astype(np.float32), "emb"),
             numpy_helper.from_array(rng.standard_normal((16, 8)).astype(np.float32), "w")]
    nodes = [helper.make_node("Gather", ["emb", "ids"], ["e"], name="gather"),
             helper.make_node("MatMul", ["e", "w"], ["h"], name="mm"),
             helper.make_node("Relu", ["h"], ["y"], name="relu")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("ids", TensorProto.INT64, ["b", 512])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["b", 512, 8])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
    d = measure(model, dims={"b": 2}, n_samples=2)
    assert set(d) == {"relu"} and 0.3 < d["relu"] < 0.7


def test_declare_per_kind_and_relu_outputs(resnet):
    out = declare(resnet, {"conv": 0.8, "relu_outputs": 0.4})
    act = dict(zip(out.name, out.columns["act_density"]))
    assert act["conv1"] == 0.8  # a conv that reads no ReLU output
    assert act["layer1.0.conv2"] == 0.4
    assert act["fc"] == 1.0  # reads GlobalAveragePool: averaging removes the zeros
    with pytest.raises(ConfigError, match="relu_outputs"):
        declare(resnet, {"gelu_outputs": 0.5})
    with pytest.raises(ConfigError, match=r"\(0, 1\]"):
        declare(resnet, {"conv": 0.0})


def test_errors(resnet, monkeypatch):
    with pytest.raises(ConfigError, match="weights=random"):
        measure("zoo:mlp")
    with pytest.raises(ConfigError, match="not in the WorkTable"):
        apply_measured(resnet, {"nope": 0.5})
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(ConfigError, match="pip install onnxruntime"):
        measure("zoo:mlp?weights=random")
